/** @file The dashboard on a long run (20,000 logged steps, a size CI can afford) in a real browser, analyzed by
 * the real engine (streaming mode): the ‖g‖ chart gets a min/max-decimated series of at most 2,000 points that keeps
 * a planted spike (its value checked against the trace itself), its x axis runs over the logged step numbers (not
 * positions), zooming re-requests the range at full resolution and a double-click goes back; the ‖g‖ heatmap is
 * bucketed by the server and labelled in logged steps; a series request stays small. (Windows of 16 steps: 2,499
 * windows, so the κ chart is decimated too.) */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SeriesResponse } from "../../src/serve/api-types.ts";
import { traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { rawGet } from "../serve/http.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "./harness.ts";

const STEPS = 20_000;
const SPIKE = 12_345;
/** Logged step of position p: every 3rd step from 5,000. */
const logged = (p: number) => 5000 + 3 * p;
const TENSORS = [
  { name: "w", shape: [2, 4] },
  { name: "b", shape: [3] },
];

let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Smooth gradients with a little structure, ×400 at the spike. */
function gradients(t: number): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  TENSORS.forEach((spec, j) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const g = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      g[i] = Math.cos(0.01 * t + i + j) + 0.3 * Math.sin(0.37 * t * (i + 1)) + 0.2;
      if (t === SPIKE) g[i] *= 400;
    }
    out[spec.name] = g;
  });
  return out;
}

/** ‖g‖ of the whole model at position p, from the trace itself (float64 sums of the stored float32 values). */
function normAt(file: string, p: number): number {
  const reader = openTrace(file);
  try {
    let s = 0;
    for (const t of TENSORS) {
      let part = 0;
      for (const v of reader.readTensor(p, t.name)) part += v * v;
      s += part;
    }
    return Math.sqrt(s);
  } finally {
    reader.close();
  }
}

const chartColumn = (chart: string, i: number) =>
  page.$$eval(
    `[data-chart="${chart}"] table.chart-data tbody tr`,
    (trs, k) => trs.map((tr) => Number((tr as HTMLTableRowElement).cells[k].dataset.value)),
    i,
  );

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-browser-long-"));
  const writer = createGtraceWriter(path.join(dir, "long.gtrace"), { tensors: TENSORS, fsync: "none" });
  for (let t = 0; t < STEPS; t++) writer.append(logged(t), gradients(t));
  writer.close();
  server = await startServer({
    path: dir,
    webDir: DIST_DIR,
    engine: traceEngine,
    // Windows of 16 steps: 2,499 windows, more than a chart's point budget (decimated too).
    analyzeOptions: {
      predictors: ["zero", "last", "ema0.9", "linear"],
      eps: [0.1],
      window: 16,
      bootstrap: false,
    },
  });
  await server.store.idle();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a 20,000-step run", () => {
  it("draws a decimated ‖g‖ chart over the logged steps that keeps the spike", async () => {
    await page.goto(`${server.url}#/run/long-gtrace`);
    await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
    const chart = page.locator('[data-chart="grad-norm"]');
    const points = Number(await chart.getAttribute("data-points"));
    expect(points).toBeGreaterThan(1000);
    expect(points).toBeLessThanOrEqual(2000);
    const x = await chartColumn("grad-norm", 0);
    const y = await chartColumn("grad-norm", 1);
    // Every x is a logged step number, ascending, from the first logged step to the last.
    expect(x.every((s) => s >= 5000 && (s - 5000) % 3 === 0)).toBe(true);
    expect(x.every((s, i) => i === 0 || s > x[i - 1])).toBe(true);
    expect([x[0], x[x.length - 1]]).toEqual([logged(0), logged(STEPS - 1)]);
    expect(await chart.getAttribute("data-x-scale")).toBe(`${logged(0)},${logged(STEPS - 1)}`);
    // The spike is one of the points kept, with the trace's own value, and it is the chart's maximum.
    const spike = normAt(path.join(dir, "long.gtrace"), SPIKE);
    const at = x.indexOf(logged(SPIKE));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(Math.abs(y[at] - spike)).toBeLessThanOrEqual(1e-9 * spike);
    expect(Math.max(...y)).toBe(y[at]);
    // κ over windows (2,499 windows of 16 steps, stride 8), decimated too, at each window's first logged step.
    const wx = await chartColumn("kappa-windows", 0);
    expect(wx.length).toBeLessThanOrEqual(2000);
    expect(wx.every((s) => (s - logged(0)) % (3 * 8) === 0)).toBe(true);
    expect([wx[0], wx[wx.length - 1]]).toEqual([logged(0), logged(STEPS - 16)]);
  });

  it("re-requests a zoomed range at full resolution, and goes back to the whole run on double-click", async () => {
    const chart = page.locator('[data-chart="grad-norm"]');
    const over = chart.locator(".u-over");
    const box = (await over.boundingBox())!;
    const px = (step: number) => box.x + ((step - logged(0)) / (logged(STEPS - 1) - logged(0))) * box.width;
    const yMid = box.y + box.height / 2;
    await page.mouse.move(px(logged(SPIKE) - 700), yMid);
    await page.mouse.down();
    await page.mouse.move(px(logged(SPIKE) + 500), yMid, { steps: 6 });
    await page.mouse.up();
    await expect.poll(() => chart.getAttribute("data-zoom")).not.toBe("");
    const [a, b] = (await chart.getAttribute("data-zoom"))!.split(",").map(Number);
    expect(a).toBeGreaterThan(logged(SPIKE) - 1000);
    expect(b).toBeLessThan(logged(SPIKE) + 800);
    // Every logged step of the range, one point each (≈ 400 steps < 2,000 points).
    const want: number[] = [];
    for (let p = 0; p < STEPS; p++)
      if (logged(p) >= Math.floor(a) && logged(p) <= Math.ceil(b)) want.push(logged(p));
    await expect.poll(() => chartColumn("grad-norm", 0), { timeout: 10_000 }).toEqual(want);
    const y = await chartColumn("grad-norm", 1);
    expect(Math.max(...y)).toBe(y[want.indexOf(logged(SPIKE))]);
    expect((await chart.getAttribute("data-x-scale"))!.split(",").map(Number)).toEqual([a, b]);
    await over.dblclick();
    await expect.poll(() => chart.getAttribute("data-zoom")).toBe("");
    await expect
      .poll(async () => (await chartColumn("grad-norm", 0)).length)
      .toBe(Number(await chart.getAttribute("data-points")));
    expect(await chart.getAttribute("data-x-scale")).toBe(`${logged(0)},${logged(STEPS - 1)}`);
  });

  it("buckets the per-step ‖g‖ heatmap on the server and labels it with logged steps", async () => {
    await page.selectOption("select[name=metric]", "gradNorm");
    const canvas = page.locator("canvas.heatmap-canvas");
    await expect.poll(() => canvas.getAttribute("data-metric")).toBe("gradNorm");
    expect(await canvas.getAttribute("data-bucketed")).toBe("true");
    expect(Number(await canvas.getAttribute("data-cols"))).toBe(4096);
    expect(await page.locator(".heatmap-axis").textContent()).toContain(
      `steps ${logged(0)}–${logged(STEPS - 1)} (per step, 4.9 per column)`,
    );
    // What a series request ships: the budget, not 20,000 points (nor 2,499 windows × 4 predictors).
    const res = await rawGet(server.port, "/api/runs/long-gtrace/tensors/w/series");
    const s = res.json<SeriesResponse>();
    expect(s.gradNorm.length).toBeLessThanOrEqual(2000);
    expect(s.windows!.starts.length).toBeLessThanOrEqual(2000);
    expect(s.view).toMatchObject({ steps: STEPS, windows: 2499, decimated: true });
    const whole = await rawGet(server.port, "/api/runs/long-gtrace/tensors/w/series?points=20000");
    expect(whole.json<SeriesResponse>().gradNorm).toHaveLength(STEPS);
    expect(res.body.length).toBeLessThan(whole.body.length / 3);
    expect(pageErrors).toEqual([]);
  });
});
