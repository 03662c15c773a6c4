/** @file The README's quick start as a new user runs it, on the built bin of this checkout: `gradtrace demo`
 * (shortened with --steps), then the `analyze` it suggests on the folder it wrote, then `gradtrace serve` on that
 * folder — whose page must list the run and show its run page with charts (Debian's chromium), with the same ‖g‖
 * as the demo's own analysis.json. */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AnalysisResult } from "../../src/analysis/index.ts";
import { BIN, requireBuilt } from "../dist.ts";
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

  const child = spawn(process.execPath, [BIN, "serve", "gradtrace-demo"], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!/http:\/\/\S+/.test(stdout) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const url = /gradtrace serve: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1];
    expect(url, stderr).toBeDefined();
    const overview = await browser.newPage();
    await overview.goto(url!);
    await overview.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
    expect(await overview.locator("[data-table=runs] tbody tr").count()).toBe(1);
    await overview.close();
    const shown = await checkRunPage(browser, url!, "trace-gtrace");
    expect(shown.gradNorm).toEqual(analysis.total.gradNorm);
    expect(shown.paintedPixels).toBeGreaterThan(500);
    expect(shown.heatmapRows).toBe(analysis.tensors.length);
  } finally {
    if (child.exitCode === null) {
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
    }
  }
});
