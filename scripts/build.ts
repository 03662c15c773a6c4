/** @file `npm run build` (also run by `prepare`, so `npm ci` / `npm install` in a clone and `npm pack` leave a
 * working package): compiles src/ with tsc (tsconfig.build.json: JS, .d.ts and source maps in dist/) and the
 * dashboard page with Vite (web/ → dist/web/). dist/ is emptied first, so files of deleted sources never ship.
 * `--if-stale` (npm test's pretest) builds only when dist/ is missing or older than its inputs. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { distStaleness } from "./distFreshness.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const stale = distStaleness(root);
if (process.argv.includes("--if-stale") && stale === null) process.exit(0);
if (process.argv.includes("--if-stale")) process.stderr.write(`gradtrace: building dist/ (${stale})\n`);

const require = createRequire(import.meta.url);
fs.rmSync(path.join(root, "dist"), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);
const { build } = await import("vite");
await build({
  root: path.join(root, "web"),
  configFile: path.join(root, "web", "vite.config.ts"),
  logLevel: "warn",
});
const after = distStaleness(root);
if (after !== null) throw new Error(`build: dist/ is incomplete after the build (${after})`);
