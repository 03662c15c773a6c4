/** @file Tensor selection by glob or /regex/ patterns, as given to `analyze --tensors`. */
import { GradtraceError } from "../core/index.ts";

/** A glob (`*` any run of characters, `?` one character) or a `/regex/flags` pattern, compiled to a RegExp. */
export function compilePattern(pattern: string): RegExp {
  const re = /^\/(.*)\/([a-z]*)$/.exec(pattern);
  if (re) {
    try {
      return new RegExp(re[1], re[2]);
    } catch (err) {
      throw new GradtraceError(
        "E_ARG",
        `tensor pattern ${pattern}: invalid regular expression (${String(err)})`,
      );
    }
  }
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** Names kept by include patterns (all when none) minus exclude patterns; errors when nothing is left. */
export function selectTensors(
  names: readonly string[],
  { include = [], exclude = [] }: { include?: readonly string[]; exclude?: readonly string[] } = {},
): string[] {
  const inc = include.map(compilePattern);
  const exc = exclude.map(compilePattern);
  const kept = names.filter(
    (n) => (inc.length === 0 || inc.some((r) => r.test(n))) && !exc.some((r) => r.test(n)),
  );
  if (kept.length === 0) {
    const shown = names.slice(0, 8).join(", ") + (names.length > 8 ? ", …" : "");
    throw new GradtraceError(
      "E_ARG",
      `no tensor matches the selection (include: ${include.join(" ") || "all"}; exclude: ${exclude.join(" ") || "none"}); the trace has: ${shown}`,
    );
  }
  return kept;
}
