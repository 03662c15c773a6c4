/** @file Whether dist/ (the compiled library and the dashboard page, written by `npm run build`) is at least as new
 * as everything it is built from. `npm test` rebuilds through its pretest step when it is not, and the tests that
 * exercise the built package (test/package, the bin) refuse a stale one, so no test ever passes on old code. */
import * as fs from "node:fs";
import * as path from "node:path";

/** Files and folders dist/ is built from, relative to the repository root. */
export const BUILD_INPUTS = [
  "src",
  "web/src",
  "web/index.html",
  "web/vite.config.ts",
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts/build.ts",
] as const;

/** What every complete build leaves (the build empties dist/ first, so these are as old as the build). */
export const BUILD_OUTPUTS = ["dist/index.js", "dist/index.d.ts", "dist/web/index.html"] as const;

function newest(p: string): { file: string; mtimeMs: number } | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return null;
  }
  if (!st.isDirectory()) return { file: p, mtimeMs: st.mtimeMs };
  let best: { file: string; mtimeMs: number } | null = null;
  for (const name of fs.readdirSync(p)) {
    const n = newest(path.join(p, name));
    if (n && (!best || n.mtimeMs > best.mtimeMs)) best = n;
  }
  return best;
}

/** null when dist/ is complete and newer than every input; otherwise why not, in one sentence. */
export function distStaleness(root: string): string | null {
  let built = Number.POSITIVE_INFINITY;
  for (const out of BUILD_OUTPUTS) {
    const st = fs.statSync(path.join(root, out), { throwIfNoEntry: false });
    if (!st) return `${out} is missing`;
    built = Math.min(built, st.mtimeMs);
  }
  for (const input of BUILD_INPUTS) {
    const n = newest(path.join(root, input));
    if (n && n.mtimeMs > built) return `${path.relative(root, n.file)} is newer than dist/`;
  }
  return null;
}
