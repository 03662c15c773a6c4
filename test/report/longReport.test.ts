/** @file The HTML report of a 100,000-step result stays small and keeps what matters: per-step series are drawn from
 * their per-bucket minima and maxima (src/core/decimate.ts), so the file is bounded whatever the run's length, and a
 * one-step spike in ‖g_t‖ is still the top of the chart, at its own step. */
import { describe, expect, it } from "vitest";
import { renderHtmlReport } from "../../src/report/html.ts";
import { fixtureResult } from "../serve/fixtures.ts";

const STEPS = 100_000;
const SPIKE = 77_777;

/** The points of the first path after the panel titled `title`: [x, y] in SVG pixels. */
function firstPath(html: string, title: string): [number, number][] {
  const at = html.indexOf(`>${title}</text>`);
  expect(at).toBeGreaterThan(0);
  const d = /<path d="([^"]+)"/.exec(html.slice(at))![1];
  return [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe("HTML report of a 100,000-step run", () => {
  it("is bounded in size (decimated series) and keeps a one-step spike at its step", () => {
    const result = fixtureResult({
      steps: STEPS,
      tensors: 30,
      window: 64,
      predictors: ["zero", "last", "ema0.5", "ema0.9", "ema0.99", "linear", "ar2", "lowrank4w16"],
    });
    result.total.gradNorm[SPIKE] = 1e4; // the others are uniform in [0, 3)
    const html = renderHtmlReport(result);
    // Undecimated, the ‖g‖ figure alone would hold 12 × 100,000 points (≈ 15 MB of path data).
    expect(html.length).toBeLessThan(1_000_000);
    const total = firstPath(html, "gradient norm ‖g_t‖");
    expect(total.length).toBeLessThanOrEqual(1200);
    // Both ends are kept, so the x pixel of a step position is known; the highest point (smallest y) is the spike.
    const [x0] = total[0];
    const [x1] = total[total.length - 1];
    const top = total.reduce((best, p) => (p[1] < best[1] ? p : best));
    expect(Math.abs(top[0] - (x0 + (SPIKE / (STEPS - 1)) * (x1 - x0)))).toBeLessThan(0.5);
    expect(total.filter((p) => p[1] < top[1] + 40)).toHaveLength(1); // nothing else near its height
    // κ over time: 3,124 windows, decimated to the same bound per predictor.
    const windows = firstPath(html, `κ over time (whole model, windows of 64 steps)`);
    expect(windows.length).toBeLessThanOrEqual(1200);
    expect(windows.length).toBeGreaterThan(1000);
  });
});
