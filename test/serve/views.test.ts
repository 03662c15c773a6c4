/** @file The views of a long run (src/serve/views.ts), against brute force on hand-built results: a per-tensor
 * series of 12,000 logged steps is cut to a step range and min/max-decimated to the point budget — every bucket's
 * extremes kept (a planted spike among them), x in logged steps, a short range at full resolution — and the heatmap
 * of many columns is averaged in buckets of the requested width, its header naming each bucket's steps. */
import { describe, expect, it } from "vitest";
import type { AnalysisResult } from "../../src/analysis/types.ts";
import { decimationBuckets } from "../../src/core/decimate.ts";
import { createRng } from "../../src/core/rng.ts";
import type { CachedResult } from "../../src/serve/cache.ts";
import { DEFAULT_SERIES_POINTS, defaultHeatmapCols, heatmapView, seriesView } from "../../src/serve/views.ts";
import { fixtureResult } from "./fixtures.ts";

const N = 12_000;
const SPIKE = 7_777;
/** Logged steps: every 3rd step from 500 (positions are not step numbers). */
const step = (p: number) => 500 + 3 * p;

/** A 12,000-step result: ‖g‖ noise with a spike, a dip and a NaN run; windows of 8 (stride 4) with κ noise. */
function longResult(): CachedResult {
  const rng = createRng(4);
  const r = fixtureResult({ tensors: 2, steps: 40, window: 8 });
  const gradNorm = Array.from({ length: N }, () => 1 + rng.uniform());
  gradNorm[SPIKE] = 500;
  gradNorm[123] = 0.001;
  for (let i = 9000; i < 9100; i++) gradNorm[i] = Number.NaN;
  const starts: number[] = [];
  for (let s = 0; s + 8 <= N; s += 4) starts.push(s);
  const kappa = {
    zero: starts.map(() => 1),
    last: starts.map(() => rng.uniform()),
    "ema0.9": starts.map((_, k) => (k === 1000 ? 40 : rng.uniform())),
  };
  const tensors = r.tensors.map((t, i) => ({
    ...t,
    steps: N,
    gradNorm: gradNorm.map((g) => g * (i + 1)),
    windows: {
      size: 8,
      starts,
      kappa,
      predictableRank: { "0.1": starts.map((s) => s % 5), "0.01": starts.map(() => 2) },
    },
  }));
  const result: AnalysisResult = { ...r, trace: { ...r.trace, steps: N }, tensors, total: tensors[0] };
  // Through JSON, as the cache serves it (NaN → null).
  return JSON.parse(
    JSON.stringify({
      cacheVersion: 3,
      fingerprint: "f",
      optionsKey: "{}",
      analyzedAt: "",
      stepIndices: Array.from({ length: N }, (_, p) => step(p)),
      result,
    }),
  );
}

const cached = longResult();
const gradNorm = cached.result.tensors[0].gradNorm as (number | null)[];

/** Min and max of the finite values of xs[from, to), or null when none. */
function extremes(xs: readonly (number | null)[], from: number, to: number): [number, number] | null {
  const f = xs.slice(from, to).filter((v): v is number => v !== null && Number.isFinite(v));
  return f.length ? [Math.min(...f), Math.max(...f)] : null;
}

describe("series view of a long run", () => {
  it("ships at most the point budget, x in logged steps, every bucket's extremes (the spike) kept", () => {
    const s = seriesView(cached, "r", 1, cached.result.tensors[0].name);
    const points = DEFAULT_SERIES_POINTS;
    expect(s.view).toEqual({ from: 500, to: step(N - 1), steps: N, windows: 2999, points, decimated: true });
    expect(s.gradNorm.length).toBeLessThanOrEqual(points);
    expect(s.stepIndices).toHaveLength(s.gradNorm.length);
    // x are logged steps, ascending, each with its own value.
    for (let i = 0; i < s.stepIndices.length; i++) {
      const p = (s.stepIndices[i] - 500) / 3;
      expect(Number.isInteger(p)).toBe(true);
      expect(s.gradNorm[i]).toBe(gradNorm[p]);
      if (i > 0) expect(s.stepIndices[i]).toBeGreaterThan(s.stepIndices[i - 1]);
    }
    expect(s.gradNorm[s.stepIndices.indexOf(step(SPIKE))]).toBe(500);
    expect(s.gradNorm[s.stepIndices.indexOf(step(123))]).toBe(0.001);
    // Brute force: every bucket's minimum and maximum appear at their own step; an all-NaN bucket is a gap.
    const buckets = decimationBuckets(points);
    expect([s.stepIndices[0], s.stepIndices[s.stepIndices.length - 1]]).toEqual([500, step(N - 1)]);
    for (let b = 0; b < buckets; b++) {
      const from = Math.floor((b * N) / buckets);
      const to = Math.floor(((b + 1) * N) / buckets);
      const e = extremes(gradNorm, from, to);
      const inBucket = s.stepIndices
        .map((x, i) => [x, s.gradNorm[i]] as const)
        .filter(([x]) => x >= step(from) && x < step(to));
      if (e === null) expect(inBucket.map(([, v]) => v)).toEqual([null]);
      else {
        expect(inBucket.map(([, v]) => v)).toContain(e[0]);
        expect(inBucket.map(([, v]) => v)).toContain(e[1]);
      }
    }
    // What a request ships is bounded by the budget (2,000 ‖g‖ points, about as many windows × 3 predictors),
    // whatever the run's length.
    expect(JSON.stringify(s).length).toBeLessThan(250_000);
  });

  it("a zoomed range comes at full resolution once it fits the budget; windows keep each predictor's extremes", () => {
    const from = step(7700);
    const to = step(7899);
    const s = seriesView(cached, "r", 1, "@total", { from: from - 1, to: to + 2, points: 400 });
    expect(s.view).toMatchObject({ from, to, steps: 200, decimated: false });
    expect(s.stepIndices).toEqual(Array.from({ length: 200 }, (_, i) => step(7700 + i)));
    expect(s.gradNorm).toEqual(gradNorm.slice(7700, 7900));
    const w = seriesView(cached, "r", 1, "@total", { points: 100 }).windows!;
    const t = cached.result.total.windows!;
    expect(w.firstStep).toEqual(w.starts.map(step));
    // The κ peak of ema0.9 (window 1000) survives although "last" drives other buckets.
    expect(w.kappa["ema0.9"][w.starts.indexOf(t.starts[1000])]).toBe(40);
    expect(w.starts.length).toBeLessThanOrEqual(100);
    const buckets = decimationBuckets(Math.floor(100 / 3)); // the budget shared by 3 predictors
    const n = t.starts.length;
    for (let b = 0; b < buckets; b++) {
      const a = Math.floor((b * n) / buckets);
      const c = Math.floor(((b + 1) * n) / buckets);
      for (const id of ["last", "ema0.9"]) {
        const e = extremes(t.kappa[id], a, c)!;
        const kept = w.starts
          .map((st, i) => [st, w.kappa[id][i]] as const)
          .filter(([st]) => st >= t.starts[a] && st < t.starts[c - 1] + 1)
          .map(([, v]) => v);
        expect(kept).toContain(e[0]);
        expect(kept).toContain(e[1]);
      }
    }
    // An empty range is answered, not an error.
    const none = seriesView(cached, "r", 1, "@total", { from: 10, to: 20 });
    expect(none.view).toMatchObject({ from: null, to: null, steps: 0, windows: 0 });
    expect(none.gradNorm).toEqual([]);
  });
});

describe("heatmap view of a long run", () => {
  it("averages the columns in range into at most `cols` buckets, each labelled with its first and last step", () => {
    const h = heatmapView(cached, "r", 1, { metric: "gradNorm", cols: 700 });
    expect(h.header).toMatchObject({
      cols: 700,
      columnsTotal: N,
      columnRange: [0, N],
      bucketed: true,
      span: 1,
    });
    for (let r = 0; r < 2; r++) {
      const row = cached.result.tensors[r].gradNorm as (number | null)[];
      for (let b = 0; b < 700; b++) {
        const from = Math.floor((b * N) / 700);
        const to = Math.floor(((b + 1) * N) / 700);
        const f = row.slice(from, to).filter((v): v is number => v !== null);
        const want = f.length ? f.reduce((x, y) => x + y, 0) / f.length : Number.NaN;
        const got = h.values[r * 700 + b];
        if (Number.isNaN(want)) expect(got).toBeNaN();
        else expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * want);
        if (r === 0) {
          expect(h.header.firstStep[b]).toBe(step(from));
          expect(h.header.lastStep[b]).toBe(step(to - 1));
          expect(h.header.starts[b]).toBe(from);
        }
      }
    }
    const finite = Array.from(h.values).filter(Number.isFinite);
    expect([h.header.min, h.header.max]).toEqual([Math.min(...finite), Math.max(...finite)]);
  });

  it("windows in a step range: unbucketed when they fit, a window's last step is its start + size − 1", () => {
    const t = cached.result.tensors[0].windows!;
    const h = heatmapView(cached, "r", 1, {
      metric: "kappa",
      predictor: "last",
      from: step(400),
      to: step(480),
    });
    // Windows whose first step is in range: starts 400, 404, …, 480.
    expect(h.header.columnRange).toEqual([100, 121]);
    expect(h.header).toMatchObject({ cols: 21, bucketed: false, columnsTotal: t.starts.length });
    expect(h.header.firstStep).toEqual(Array.from({ length: 21 }, (_, k) => step(400 + 4 * k)));
    expect(h.header.lastStep).toEqual(Array.from({ length: 21 }, (_, k) => step(400 + 4 * k + 7)));
    expect(Array.from(h.values.subarray(0, 21))).toEqual(t.kappa.last.slice(100, 121));
    // By default a long ‖g‖ heatmap is bucketed to the default width; windows that fit are not.
    expect(heatmapView(cached, "r", 1, { metric: "gradNorm" }).header.cols).toBe(defaultHeatmapCols(2));
    expect(heatmapView(cached, "r", 1, { metric: "rank", eps: 0.1 }).header.bucketed).toBe(false);
    expect(defaultHeatmapCols(2000)).toBe(2097);
  });
});
