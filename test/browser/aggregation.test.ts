/** @file The heatmap zoomed out, in chromium: when a pixel covers several tensors it must show their mean (not a
 * sample of one of them) and skip missing cells. A 1,024-tensor × 8-window result is built so that inside each
 * block of 32 tensors the rows alternate v − d, v + d (any mean over an even run of rows is v, any single row is
 * v ± d) and every fourth row is NaN in half the blocks (a mean that counted NaN as 0, or propagated it, would
 * show another colour). The pixel colour at each block's centre must be the colour map's colour of v. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AnalysisResult, TensorResult } from "../../src/analysis/types.ts";
import type { AnalysisEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { lut, scaleFor, toUnit, unpack } from "../../web/src/colormap.ts";
import { fixtureResult } from "../serve/fixtures.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "./harness.ts";

const ROWS = 1024;
const COLS = 8;
const BLOCK = 32;
const D = 0.3;
const blockValue = (b: number) => 0.4 + (1.2 * b) / (ROWS / BLOCK);

function result(): AnalysisResult {
  const base = fixtureResult({ tensors: 1, steps: 20, window: 8, predictors: ["zero", "ema0.9"] });
  const proto = base.tensors[0];
  const starts = Array.from({ length: COLS }, (_, i) => 2 * i);
  const tensors: TensorResult[] = Array.from({ length: ROWS }, (_, r) => {
    const b = Math.floor(r / BLOCK);
    const nanRow = b % 2 === 1 && r % 4 === 3;
    // NaN rows are paired with the row before them so the finite rows of each pair still average to v.
    const v = nanRow
      ? Number.NaN
      : r % 4 === 2 && b % 2 === 1
        ? blockValue(b)
        : blockValue(b) + (r % 2 === 0 ? -D : D);
    return {
      ...proto,
      name: `layer${r}.weight`,
      windows: {
        size: 8,
        starts,
        kappa: { zero: starts.map(() => 1), "ema0.9": starts.map(() => v) },
        predictableRank: Object.fromEntries(base.options.eps.map((e) => [String(e), starts.map(() => 1)])),
      },
    };
  });
  return { ...base, tensors, trace: { ...base.trace, tensors: ROWS } };
}

let dir: string;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-agg-"));
  fs.writeFileSync(path.join(dir, "many.gtrace"), "synthetic");
  const r = result();
  const engine: AnalysisEngine = {
    analyze: async () => ({ result: r, stepIndices: [] }),
  };
  server = await startServer({ path: dir, engine, webDir: DIST_DIR });
  await server.store.idle();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("shows the mean of the tensors a pixel covers, skipping missing cells", async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${server.url}#/run/many-gtrace`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 30_000 });
  const canvas = page.locator("canvas.heatmap-canvas");
  expect(await canvas.getAttribute("data-rows")).toBe(String(ROWS));
  const height = await page.evaluate(
    () => document.querySelector<HTMLCanvasElement>("canvas.heatmap-canvas")!.height,
  );
  expect(height).toBeLessThan(ROWS / 2); // really zoomed out: each pixel row covers more than two tensors
  const blocks = ROWS / BLOCK;
  const pixels = await page.evaluate(
    ({ blocks, cols }) => {
      const c = document.querySelector<HTMLCanvasElement>("canvas.heatmap-canvas")!;
      const ctx = c.getContext("2d")!;
      const out: number[][] = [];
      for (let b = 0; b < blocks; b++) {
        const y = Math.floor(((b + 0.5) / blocks) * c.height);
        const x = Math.floor((0.5 / cols) * c.width);
        out.push([...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]);
      }
      return out;
    },
    { blocks, cols: COLS },
  );
  const min = Math.min(...Array.from({ length: blocks }, (_, b) => blockValue(b) - D));
  const max = Math.max(...Array.from({ length: blocks }, (_, b) => blockValue(b) + D));
  const scale = scaleFor("kappa", min, max);
  const unit = toUnit(scale);
  const table = lut(scale.kind);
  pixels.forEach((rgb, b) => {
    const expected = unpack(table[Math.round(unit(blockValue(b)) * 255)]);
    const sampled = unpack(table[Math.round(unit(blockValue(b) + D) * 255)]);
    for (let ch = 0; ch < 3; ch++)
      expect(Math.abs(rgb[ch] - expected[ch]), `block ${b} channel ${ch}`).toBeLessThanOrEqual(6);
    // …and a single-row sample would have looked different.
    expect(
      Math.max(...[0, 1, 2].map((ch) => Math.abs(sampled[ch] - expected[ch]))),
      `block ${b}`,
    ).toBeGreaterThan(10);
  });
});
