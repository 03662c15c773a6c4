import { describe, expect, it } from "vitest";
import { bucketStart, decimateMinMax, decimationBuckets } from "../../src/core/decimate.ts";
import { GramAccumulator, incrementGram } from "../../src/core/gram.ts";
import { gramEigenvalues } from "../../src/core/linalg/gramEigenvalues.ts";
import { symmetricEigen } from "../../src/core/linalg/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { FrequentDirections } from "../../src/core/sketch/index.ts";
import {
  clampGramEigenvalues,
  fdRankBounds,
  fdSpectrumSummary,
  predictableRank,
} from "../../src/core/spectrum.ts";
import { StreamingState } from "../../src/core/streaming.ts";

/** Rows as a T×dim matrix → its exact squared singular values (from the T×T Gram, dense solver). */
function exactSigmaSq(rows: Float64Array[]): Float64Array {
  const n = rows.length;
  const dim = rows[0].length;
  const acc = new GramAccumulator(n);
  const block = new Float64Array(n * dim);
  rows.forEach((r, i) => {
    block.set(r, i * dim);
  });
  acc.addBlock(block, dim);
  return clampGramEigenvalues(symmetricEigen(acc.gram, { vectors: false }).values);
}

/** Adversarial row sequences for Frequent Directions over time. */
const SEQUENCES: Record<string, (t: number, rng: ReturnType<typeof createRng>, dim: number) => Float64Array> =
  {
    // A rank-2 subspace rotating through all coordinates: every direction is heavy for a while.
    "rotating subspace": (t, rng, dim) => {
      const v = new Float64Array(dim);
      const a = (t * 0.07) % dim;
      const i = Math.floor(a);
      v[i] = Math.cos(a - i) * 3;
      v[(i + 1) % dim] = Math.sin(a - i) * 3;
      v[(i + 7) % dim] = 2 * Math.cos(0.3 * t);
      for (let j = 0; j < dim; j++) v[j] += 0.01 * rng.normal();
      return v;
    },
    // Rank 1 for 100 steps, then rank 12 at a much larger scale.
    "rank jump": (t, rng, dim) => {
      const v = new Float64Array(dim);
      if (t < 100) v[0] = rng.normal();
      else for (let j = 0; j < 12; j++) v[j] = 10 * rng.normal();
      return v;
    },
    // Small noise with rare huge spikes in random directions.
    spikes: (t, rng, dim) => {
      const v = Float64Array.from({ length: dim }, () => 0.1 * rng.normal());
      if (t % 37 === 5) v[rng.int(dim)] += 1000;
      return v;
    },
    // A fixed direction whose sign flips every step (increments twice as large as the gradients).
    "sign flips": (t, rng, dim) => {
      const v = new Float64Array(dim);
      const s = t % 2 === 0 ? 1 : -1;
      for (let j = 0; j < dim; j++) v[j] = s * (1 + (j % 3)) + 0.05 * rng.normal();
      return v;
    },
  };

describe("Frequent Directions over time: the stated bounds hold on adversarial sequences", () => {
  for (const [name, make] of Object.entries(SEQUENCES)) {
    it(name, () => {
      const dim = 24;
      const steps = 220;
      const ell = 6;
      const rng = createRng(11);
      const rows = Array.from({ length: steps }, (_, t) => make(t, rng, dim));
      const fd = new FrequentDirections({ ell, dim });
      let frobeniusSq = 0;
      for (const r of rows) {
        fd.update(r);
        for (const v of r) frobeniusSq += v * v;
      }
      const exact = exactSigmaSq(rows);
      const mu = fd.sigmaSq;
      const delta = fd.shrinkage;
      // μᵢ ≤ σᵢ² ≤ μᵢ + Δ for every i (σᵢ² past the sketch: ≤ Δ).
      for (let i = 0; i < exact.length; i++) {
        const m = i < mu.length ? mu[i] : 0;
        expect(m).toBeLessThanOrEqual(exact[i] * (1 + 1e-9) + 1e-9 * exact[0]);
        expect(exact[i]).toBeLessThanOrEqual(m + delta + 1e-9 * exact[0]);
      }
      const input = { rows: ell, sigmaSq: mu, delta, frobeniusSq, count: steps, dim };
      for (const eps of [0.5, 0.2, 0.1, 0.05, 0.01, 0.001]) {
        const r = predictableRank(exact, eps);
        const [lo, hi] = fdRankBounds(input, eps);
        expect(lo).toBeLessThanOrEqual(r);
        expect(r).toBeLessThanOrEqual(hi);
      }
      const summary = fdSpectrumSummary(input, { eps: [0.1] });
      const stable = exact.reduce((a, b) => a + b, 0) / exact[0];
      expect(stable).toBeGreaterThanOrEqual(summary.bound.stableRank[0] * (1 - 1e-9));
      expect(stable).toBeLessThanOrEqual(summary.bound.stableRank[1] * (1 + 1e-9));
    });
  }

  it("the streaming state's increment spectrum brackets the exact one on each sequence", () => {
    const dim = 16;
    const rng = createRng(5);
    const rows = Array.from({ length: 150 }, (_, t) => SEQUENCES["rotating subspace"](t, rng, dim));
    const state = new StreamingState({
      tensors: [{ name: "v", numel: dim }],
      predictors: ["zero", "last"],
      windowSize: 20,
      eps: [0.1],
      fdRows: 5,
    });
    for (const r of rows) state.observe({ v: r });
    const inc = state.snapshot().total.increments!;
    const h = rows.slice(1).map((r, t) => r.map((v, j) => v - rows[t][j]));
    const exact = exactSigmaSq(h);
    const [lo, hi] = fdRankBounds(inc, 0.1);
    const r = predictableRank(exact, 0.1);
    expect(lo).toBeLessThanOrEqual(r);
    expect(r).toBeLessThanOrEqual(hi);
    expect(inc.frobeniusSq).toBeCloseTo(
      exact.reduce((a, b) => a + b, 0),
      6,
    );
  });
});

describe("gramEigenvalues", () => {
  it("equals the dense solver on low-rank Grams (rank-revealing route) and on full-rank ones (fallback)", () => {
    const rng = createRng(3);
    for (const [n, p] of [
      [120, 9],
      [90, 200],
      [60, 1],
    ]) {
      const acc = new GramAccumulator(n);
      acc.addBlock(
        Float64Array.from({ length: n * p }, () => rng.normal()),
        p,
      );
      const k = incrementGram(acc.gram);
      const dense = clampGramEigenvalues(symmetricEigen(k, { vectors: false }).values);
      const fast = clampGramEigenvalues(gramEigenvalues(k));
      expect(fast.length).toBe(dense.length);
      for (let i = 0; i < dense.length; i++)
        expect(Math.abs(fast[i] - dense[i])).toBeLessThanOrEqual(1e-12 * dense[0]);
    }
  });

  it("returns zeros for the zero matrix and rejects non-finite entries", () => {
    const n = 64;
    const z = { rows: n, cols: n, data: new Float64Array(n * n) };
    expect(Array.from(gramEigenvalues(z)).every((v) => v === 0)).toBe(true);
    z.data[5] = Number.NaN;
    expect(() => gramEigenvalues(z)).toThrow(/element \(0, 5\) is NaN/);
  });
});

describe("decimateMinMax", () => {
  it("keeps every bucket's extremes in step order, and NaN gaps", () => {
    const rng = createRng(9);
    const y = Array.from({ length: 10_000 }, () => rng.normal());
    y[4321] = 50;
    y[777] = -50;
    for (let i = 6000; i < 6100; i++) y[i] = Number.NaN;
    const d = decimateMinMax(y, 200);
    expect(d.index.length).toBeLessThanOrEqual(200);
    expect(d.index).toEqual([...d.index].sort((a, b) => a - b));
    expect(d.value[d.index.indexOf(4321)]).toBe(50);
    expect(d.value[d.index.indexOf(777)]).toBe(-50);
    // Brute force: each bucket's min and max appear.
    const buckets = decimationBuckets(200);
    for (let b = 0; b < buckets; b++) {
      const from = bucketStart(b, y.length, buckets);
      const slice = y.slice(from, bucketStart(b + 1, y.length, buckets)).filter(Number.isFinite);
      if (slice.length === 0) {
        expect(d.value[d.index.indexOf(from)]).toBeNaN();
        continue;
      }
      expect(d.value).toContain(Math.min(...slice));
      expect(d.value).toContain(Math.max(...slice));
    }
    expect(decimateMinMax([1, 2, 3], 10)).toEqual({ index: [0, 1, 2], value: [1, 2, 3] });
  });
});
