/** @file The built package as tests and benchmarks use it: paths into dist/ and the bin, and a check that dist/ is
 * current. Nothing here builds: `npm run build` (run by `prepare` on `npm ci`, and by `npm test`'s pretest when
 * dist/ is older than its sources) does; a test on a stale dist/ would pass or fail on old code, so it refuses. */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { distStaleness } from "../scripts/distFreshness.ts";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The `gradtrace` command of this checkout (runs dist/). */
export const BIN = path.join(REPO, "bin", "gradtrace.js");
/** The built dashboard page. */
export const WEB_DIST = path.join(REPO, "dist", "web");

/** Throws, saying what to run, unless dist/ is complete and newer than every source it is built from. */
export function requireBuilt(): void {
  const stale = distStaleness(REPO);
  if (stale !== null) {
    throw new Error(`dist/ is not current (${stale}): run \`npm run build\` (npm test does it when needed)`);
  }
}
