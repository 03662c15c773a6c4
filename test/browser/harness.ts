/** @file Browser-test harness: launches Debian's chromium through playwright-core with the flags CI needs, and
 * points at the built page (dist/web, current per test/dist.ts; nothing is built here). */
import * as fs from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { requireBuilt, WEB_DIST } from "../dist.ts";

export { requireBuilt };
export const DIST_DIR = WEB_DIST;
export const CHROMIUM = process.env.GRADTRACE_CHROMIUM ?? "/usr/bin/chromium";

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
