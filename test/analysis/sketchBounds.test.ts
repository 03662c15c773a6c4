/** @file Bounds of κ computed from sketches (analysis/sketchBounds.ts): the one-step residual's participation ratio
 * against a brute-force SVD-free computation from explicit vectors, and the stated 95% κ bounds measured over many
 * Gaussian JL sketches (the "proven" kind): violations stay within the nominal rate. */
import { describe, expect, it } from "vitest";
import { tensorResultFromGram } from "../../src/analysis/fromGram.ts";
import { oneStepResidualParticipationRatio, sketchBounds } from "../../src/analysis/sketchBounds.ts";
import { createRng, createSketch } from "../../src/core/index.ts";
import { sketchGram } from "../../src/core/sketch/index.ts";

const OPTS = {
  predictors: ["zero", "last", "ema0.9", "linear", "ar2"],
  eps: [0.1],
  window: 8,
  bootstrap: false,
  seed: 0,
};
const META = { name: "t", shape: [1], numel: 1 };

function sequence(steps: number, dim: number, seed: number): Float64Array[] {
  const rng = createRng(seed);
  const drift = Float64Array.from({ length: dim }, () => rng.normal());
  return Array.from({ length: steps }, (_, t) =>
    Float64Array.from({ length: dim }, (_, i) => drift[i] * (1 + 0.05 * t) + 0.8 * rng.normal()),
  );
}

describe("sketchBounds", () => {
  it("one-step residual participation ratio equals the explicit computation", () => {
    const g = sequence(9, 50, 1);
    const r = g.map((v, t) => (t === 0 ? v : v.map((x, i) => x - g[t - 1][i])));
    const rg = sketchGram(r);
    let trace = 0;
    let frob = 0;
    for (let i = 0; i < rg.rows; i++) {
      trace += rg.data[i * rg.rows + i];
      for (let j = 0; j < rg.rows; j++) frob += rg.data[i * rg.rows + j] ** 2;
    }
    expect(oneStepResidualParticipationRatio(sketchGram(g))).toBeCloseTo((trace * trace) / frob, 10);
  });

  it("κ bounds hold at (at least about) their confidence over 40 JL sketches (k = 256)", () => {
    const g = sequence(24, 1000, 2);
    const exact = tensorResultFromGram(sketchGram(g), META, OPTS).result;
    let checks = 0;
    let violations = 0;
    for (let seed = 0; seed < 40; seed++) {
      const s = createSketch({ kind: "jl", k: 256, seed, dim: 1000 });
      const k = sketchGram(g.map((v) => s.apply(v)));
      const sk = tensorResultFromGram(k, META, OPTS).result;
      const b = sketchBounds(k, sk, 256, 0.95);
      expect(b.kappaBound!.zero).toBe(0);
      expect(b.kappaBound!.ar2).toBeUndefined(); // fitted coefficients: no bound stated
      for (const id of ["last", "ema0.9", "linear"]) {
        checks++;
        const rel = Math.abs(sk.kappa[id] - exact.kappa[id]) / exact.kappa[id];
        if (rel > b.kappaBound![id]) violations++;
        expect(b.kappaBound![id]).toBeLessThan(1);
      }
      checks++;
      const p = Math.abs(sk.pathLength.last - exact.pathLength.last) / exact.pathLength.last;
      if (p > b.pathLengthBound!.last) violations++;
    }
    // Nominal failure rate 5% per statement; allow sampling noise (binomial, 160 checks: mean 8, sd 2.8).
    expect(checks).toBe(160);
    expect(violations).toBeLessThanOrEqual(16);
  });
});
