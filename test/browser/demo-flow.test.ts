/** @file The README's quick start as a new user runs it, on the built bin of this checkout: `gradtrace demo`
 * (shortened with --steps), then the `analyze` it suggests on the folder it wrote, then `gradtrace serve` on that
 * folder — whose page must list the run and show its run page with charts (Debian's chromium), with the same ‖g‖
 * as the demo's own analysis.json. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AnalysisResult } from "../../src/analysis/index.ts";
import { BIN, interrupt, requireBuilt, servedUrl, spawnCli } from "../dist.ts";
import { checkRunPage, launchChromium } from "./harness.ts";

let cwd: string;
let browser: Browser;

beforeAll(async () => {
  requireBuilt();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), "gt-quickstart-"));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (cwd) fs.rmSync(cwd, { recursive: true, force: true });
});

const gradtrace = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8" });

it("demo → analyze <demo dir> → serve <demo dir> shows the run page with charts", async () => {
  const demo = gradtrace("demo", "--steps", "16");
  expect(demo.status, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(
    /next: npx gradtrace analyze gradtrace-demo .*\| {2}npx gradtrace serve gradtrace-demo/,
  );
  const analysis = JSON.parse(
    fs.readFileSync(path.join(cwd, "gradtrace-demo", "analysis.json"), "utf8"),
  ) as AnalysisResult;
  expect(analysis.trace.steps).toBe(16);

  // What the demo suggests next: analyze its folder (a run directory holding trace.gtrace).
  const analyzed = gradtrace(
    "analyze",
    "gradtrace-demo",
    "--predictors",
    "last,ema0.9,ar2",
    "--json",
    "again.json",
  );
  expect(analyzed.status, analyzed.stderr).toBe(0);
  const again = JSON.parse(fs.readFileSync(path.join(cwd, "again.json"), "utf8")) as AnalysisResult;
  expect(again.total.kappa.last).toBe(analysis.total.kappa.last);

  const serve = spawnCli(["serve", "gradtrace-demo"], { cwd });
  try {
    const url = await servedUrl(serve);
    expect(url, serve.err()).toBeDefined();
    const overview = await browser.newPage();
    await overview.goto(url!);
    await overview.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
    expect(await overview.locator("[data-table=runs] tbody tr").count()).toBe(1);
    await overview.close();
    const shown = await checkRunPage(browser, url!, "trace-gtrace");
    expect(shown.gradNorm).toEqual(analysis.total.gradNorm);
    expect(shown.paintedPixels).toBeGreaterThan(500);
    expect(shown.heatmapRows).toBe(analysis.tensors.length);
    expect(serve.err()).not.toMatch(/main thread/); // analyzed by the compiled worker, no fallback
  } finally {
    await interrupt(serve);
  }
});
