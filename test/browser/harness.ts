/** @file Browser-test harness: builds the page when web/dist is missing or older than its sources (so `npm test`
 * works on a fresh clone), and launches Debian's chromium through playwright-core with the flags CI needs. */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const WEB_DIR = path.join(REPO, "web");
export const DIST_DIR = path.join(WEB_DIR, "dist");
export const CHROMIUM = process.env.GRADTRACE_CHROMIUM ?? "/usr/bin/chromium";

function newestMtime(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** Runs `vite build web` (programmatically) unless web/dist is newer than every source of the page. */
export async function ensureBuilt(): Promise<void> {
  const index = path.join(DIST_DIR, "index.html");
  const sources = Math.max(
    newestMtime(path.join(WEB_DIR, "src")),
    newestMtime(path.join(WEB_DIR, "index.html")),
    newestMtime(path.join(REPO, "src", "serve", "api-types.ts")),
  );
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources) return;
  const { build } = await import("vite");
  await build({ root: WEB_DIR, logLevel: "warn", configFile: path.join(WEB_DIR, "vite.config.ts") });
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set GRADTRACE_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
