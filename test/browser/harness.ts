/** @file Browser-test harness: launches Debian's chromium through playwright-core with the flags CI needs, and
 * points at the built page (dist/web, current per test/dist.ts; nothing is built here). */
import * as fs from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { requireBuilt, WEB_DIST } from "../dist.ts";

export { requireBuilt };
export const DIST_DIR = WEB_DIST;
export const CHROMIUM = process.env.GRADTRACE_CHROMIUM ?? "/usr/bin/chromium";

/** Clicks the export button `selector` and returns the file the page downloads. */
export async function downloadFrom(page: Page, selector: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.locator(selector).click()]);
  return fs.readFileSync((await download.path())!);
}

/** The lines of a downloaded text file (CSV), without the final newline. */
export async function downloadLines(page: Page, selector: string): Promise<string[]> {
  return (await downloadFrom(page, selector)).toString("utf8").trim().split("\n");
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

/** What a rendered run page showed: the run's ‖g‖ per step as the grad-norm chart lists it (its hidden data table)
 * and how many of that chart's canvas pixels uPlot painted. */
export interface RunPageCheck {
  readonly gradNorm: number[];
  readonly paintedPixels: number;
  readonly heatmapRows: number;
}

/** Opens `#/run/<id>` of a served dashboard, waits until the page says it is ready (failing on an error state or
 * a page error), and reads back the κ heatmap's size and the total's ‖g‖ chart: its numbers and its canvas. */
export async function checkRunPage(browser: Browser, url: string, runId: string): Promise<RunPageCheck> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  try {
    await page.goto(`${url}#/run/${encodeURIComponent(runId)}`);
    await page.waitForSelector("body[data-state=ready], body[data-state=error]", { timeout: 60_000 });
    const state = await page.getAttribute("body", "data-state");
    if (state !== "ready" || errors.length > 0) {
      throw new Error(
        `run page ${runId}: state ${state}; ${errors.join("; ")} ${await page.textContent("#app")}`,
      );
    }
    const chart = page.locator('[data-chart="grad-norm"]');
    const gradNorm = (
      await chart
        .locator("table.chart-data tbody tr")
        .evaluateAll((trs) => trs.map((tr) => (tr as HTMLTableRowElement).cells[1].dataset.value ?? ""))
    ).map(Number);
    const paintedPixels = await chart
      .locator("canvas")
      .first()
      .evaluate((c) => {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
      });
    const heatmapRows = Number(await page.locator("canvas.heatmap-canvas").getAttribute("data-rows"));
    return { gradNorm, paintedPixels, heatmapRows };
  } finally {
    await page.close();
  }
}
