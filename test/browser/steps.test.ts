/** @file The heatmap's step labels (web/src/steps.ts, pure code run here in Node): columns are named by the logged
 * step numbers the server sends, so a trace whose step 50 was dropped (NaN) and which logged every 10th step reads
 * "step 60" at position 5, and a window across the gap names its true first and last step. */
import { describe, expect, it } from "vitest";
import { columnLabel, stepRange } from "../../web/src/steps.ts";

const kept = [0, 10, 20, 30, 40, 60, 70, 80];

describe("step labels", () => {
  it("per-step columns show the logged step, not the position", () => {
    const c = { first: kept, last: kept, span: 1 };
    expect(columnLabel(c, 5)).toBe("step 60");
    expect(stepRange(c, 0, kept.length)).toEqual([0, 80]);
    expect(stepRange(c, 4.5, 6.2)).toEqual([40, 70]);
  });

  it("windows show their first and last logged step", () => {
    const starts = [0, 2, 4];
    const span = 4;
    const c = {
      first: starts.map((p) => kept[p]),
      last: starts.map((p) => kept[Math.min(p + span, kept.length) - 1]),
      span,
    };
    expect(columnLabel(c, 1)).toBe("window 1 (steps 20–60)");
    expect(columnLabel(c, 2)).toBe("window 2 (steps 40–80)");
    expect(stepRange(c, 1, 3)).toEqual([20, 80]);
    expect(stepRange({ first: [], last: [], span: 4 }, 0, 1)).toEqual([0, 0]);
  });
});

describe("bucketed columns (a long run)", () => {
  it("name the range of steps or windows a column averages", () => {
    // 10 windows of 8 steps (stride 4) from position 0, logged every 10th step, cut into 4 buckets: 2, 3, 2, 3.
    const first = [0, 2, 5, 7].map((w) => 40 * w);
    const last = [1, 4, 6, 9].map((w) => 40 * w + 70);
    const c = { first, last, span: 8, range: [0, 10] as [number, number], bucketed: true };
    expect(columnLabel(c, 0)).toBe("windows 0–1 (steps 0–110)");
    expect(columnLabel(c, 3)).toBe("windows 7–9 (steps 280–430)");
    expect(columnLabel({ first: [0, 50], last: [40, 90], span: 1, range: [0, 10], bucketed: true }, 1)).toBe(
      "steps 50–90",
    );
    // A sub-range that fits: window numbers count from the start of the run.
    expect(columnLabel({ first: [120], last: [190], span: 8, range: [3, 4] }, 0)).toBe(
      "window 3 (steps 120–190)",
    );
  });
});
