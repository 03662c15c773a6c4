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

function isFresh(): boolean {
  const index = path.join(DIST_DIR, "index.html");
  if (!fs.existsSync(index)) return false;
  const sources = Math.max(
    newestMtime(path.join(WEB_DIR, "src")),
    newestMtime(path.join(WEB_DIR, "index.html")),
    newestMtime(path.join(REPO, "src", "serve", "api-types.ts")),
  );
  return fs.statSync(index).mtimeMs >= sources;
}

/**
 * Runs `vite build web` (programmatically) unless web/dist is newer than every source of the page. Test files
 * run in parallel processes: a lock file makes one of them build while the others wait, and the build goes to a
 * side directory swapped in by rename, so nobody ever serves a half-written web/dist.
 */
export async function ensureBuilt(): Promise<void> {
  if (isFresh()) return;
  const lock = path.join(WEB_DIR, ".build.lock");
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, "wx"));
      break;
    } catch {
      // Someone else is building; a lock older than 5 minutes was left by a killed process.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 300_000) fs.rmSync(lock, { force: true });
      } catch {
        // the lock vanished between the two calls: try again
      }
      if (Date.now() > deadline) throw new Error(`ensureBuilt: ${lock} held for 3 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isFresh()) return;
    const out = path.join(WEB_DIR, `dist.tmp-${process.pid}`);
    const { build } = await import("vite");
    await build({
      root: WEB_DIR,
      logLevel: "warn",
      configFile: path.join(WEB_DIR, "vite.config.ts"),
      build: { outDir: out, emptyOutDir: true },
    });
    const old = path.join(WEB_DIR, `dist.old-${process.pid}`);
    if (fs.existsSync(DIST_DIR)) fs.renameSync(DIST_DIR, old);
    fs.renameSync(out, DIST_DIR);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(lock, { force: true });
  }
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
