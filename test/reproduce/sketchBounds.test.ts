/** @file The stated bounds the reproduction judges sketches against (sketchBounds.ts): the r*(ε) bracket and the κ
 * bound, on planted spectra (closed forms) and on explicit vectors sketched by the library's own sparse JL sketch
 * (the sketched r*(ε) and κ must fall inside what is stated, over many seeds). */
import { describe, expect, it } from "vitest";
import { createSketch } from "../../src/core/index.ts";
import { predictableRank } from "../../src/core/spectrum.ts";
import {
  sketchKappaBound,
  sketchRankBracket,
} from "../../src/reproduce/predictable-manifolds/sketchBounds.ts";
import { gramOf } from "../core/predictorsReference.ts";
import { createRng } from "../../src/core/rng.ts";
import { symmetricEigen } from "../../src/core/linalg/index.ts";
import { clampGramEigenvalues } from "../../src/core/spectrum.ts";

describe("sketchRankBracket", () => {
  it("contains the exact r*(ε) and collapses onto it as the sketch grows", () => {
    const sigmaSq = Float64Array.from({ length: 60 }, (_, i) => 0.7 ** i);
    for (const eps of [0.1, 0.01]) {
      const exact = predictableRank(sigmaSq, eps);
      for (const k of [256, 1024, 1e6]) {
        const [lo, hi] = sketchRankBracket(sigmaSq, eps, { k, pairwiseBound: 0.2 });
        expect(lo).toBeLessThanOrEqual(exact);
        expect(hi).toBeGreaterThanOrEqual(exact);
      }
      // With a huge k the upper side is the exact rank (its energy bound tends to 0).
      expect(sketchRankBracket(sigmaSq, eps, { k: 1e12, pairwiseBound: 1e-9 })).toEqual([exact, exact]);
    }
    expect(sketchRankBracket(new Float64Array(5), 0.1, { k: 64, pairwiseBound: 0.1 })).toEqual([0, 0]);
    expect(() => sketchRankBracket(Float64Array.of(1), 1, { k: 64, pairwiseBound: 0.1 })).toThrow(/ε/);
  });

  it("the sketched r*(ε) of sparse-JL-sketched increments falls inside the bracket (5 sketch seeds)", () => {
    const rng = createRng(8);
    const p = 800;
    const n = 80;
    // Increments H = Σ_i σ_i u_i v_iᵀ with a slowly decaying spectrum σ_i² = 1/i (like a trained network's), u_i
    // random in R^p, v_i random in R^n.
    const u = Array.from({ length: n }, () =>
      Float64Array.from({ length: p }, () => rng.normal() / Math.sqrt(p)),
    );
    const v = Array.from({ length: n }, () =>
      Float64Array.from({ length: n }, () => rng.normal() / Math.sqrt(n)),
    );
    const h = Array.from({ length: n }, (_, t) => {
      const col = new Float64Array(p);
      for (let i = 0; i < n; i++) {
        const c = v[i][t] / Math.sqrt(i + 1);
        for (let j = 0; j < p; j++) col[j] += c * u[i][j];
      }
      return col;
    });
    const eig = (vs: Float64Array[]) =>
      clampGramEigenvalues(symmetricEigen(gramOf(vs), { vectors: false }).values);
    const sigmaSq = eig(h);
    const exact = predictableRank(sigmaSq, 0.1);
    for (let seed = 0; seed < 5; seed++) {
      const sketch = createSketch({ kind: "sparsejl", k: 1024, seed, dim: p });
      const sketched = eig(h.map((x) => sketch.apply(x)));
      const pairwiseBound = sketch.errorBound({ delta: 0.05, pairs: (n * (n + 1)) / 2 });
      for (const eps of [0.1, 0.01]) {
        const [lo, hi] = sketchRankBracket(sigmaSq, eps, { k: 1024, pairwiseBound });
        const r = predictableRank(sketched, eps);
        expect(r, `seed ${seed} ε ${eps}`).toBeGreaterThanOrEqual(lo);
        expect(r, `seed ${seed} ε ${eps}`).toBeLessThanOrEqual(hi);
      }
      // Not vacuous at ε = 0.1: the upper side stays below the number of increments.
      expect(sketchRankBracket(sigmaSq, 0.1, { k: 1024, pairwiseBound })[1]).toBeLessThanOrEqual(
        2 * exact + 2,
      );
      expect(sketchRankBracket(sigmaSq, 0.1, { k: 1024, pairwiseBound })[1]).toBeLessThan(n);
    }
  });
});

describe("sketchKappaBound", () => {
  it("is 2ε/(1−ε), infinite for ε ≥ 1", () => {
    expect(sketchKappaBound(0.2)).toBeCloseTo(0.5, 15);
    expect(sketchKappaBound(1)).toBe(Number.POSITIVE_INFINITY);
  });
});
