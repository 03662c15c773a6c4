/** @file Running the Python logger (python/gradtrace_log) from the TypeScript tests: Debian's python3 with torch and
 * numpy (`/usr/bin/python3`, or GRADTRACE_PYTHON), PYTHONPATH=python. When torch is missing the suites that need it
 * are skipped — and say so loudly, once per file, because CI installs python3-torch and must run them. */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const PYTHON = process.env.GRADTRACE_PYTHON ?? "/usr/bin/python3";

function probe(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import numpy, torch"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import numpy and torch: ${r.stderr.trim().split("\n").at(-1)}`;
  return null;
}

/** Why the torch-based suites cannot run here, or null when they can. */
export const torchMissing = probe();

/** describe() when torch is importable, otherwise a skipped suite plus a loud warning. */
export function describeTorch(name: string, body: () => void): void {
  if (torchMissing === null) {
    describe(name, body);
    return;
  }
  const banner = "!".repeat(100);
  console.warn(
    `\n${banner}\nSKIPPED: "${name}" needs PyTorch: ${torchMissing}.\nInstall it (Debian: apt-get install -y python3-torch python3-numpy); CI does, so there it runs.\n${banner}\n`,
  );
  describe.skip(name, body);
}

/** Runs Python (a script path relative to `cwd`, default the repository, or "-m module") and returns its stdout
 * (with stderr appended when `stderrToo`); throws with the script's output when it fails. */
export function runPython(
  args: readonly string[],
  {
    timeoutMs = 600_000,
    env = {},
    cwd = REPO,
    stderrToo = false,
  }: { timeoutMs?: number; env?: Record<string, string>; cwd?: string; stderrToo?: boolean } = {},
): string {
  const r = spawnSync(PYTHON, [...args], {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONPATH: path.join(REPO, "python"), OMP_NUM_THREADS: "2", ...env },
  });
  if (r.error) throw new Error(`${PYTHON} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${PYTHON} ${args.join(" ")} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return stderrToo ? `${r.stdout}${r.stderr}` : r.stdout;
}
