/** @file Tests of src/core/spectrum.ts: closed forms (rank-k constructions, equal singular values), Eckart–Young
 * against an explicit best rank-k approximation computed with ml-matrix, and fast-check invariants. */
import fc from "fast-check";
import { Matrix, SingularValueDecomposition } from "ml-matrix";
import { describe, expect, test } from "vitest";
import { symmetricEigen } from "../../src/core/linalg/index.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import {
  clampGramEigenvalues,
  DEFAULT_CURVE_EPS,
  effectiveRank,
  oracleRankPathLength,
  participationRatio,
  predictableRank,
  spectrumSummary,
  stableRank,
} from "../../src/core/spectrum.ts";
import { fromSvd, naiveMatmul, naiveTranspose, randomMat, randomOrthonormal } from "./linalgTestUtils.ts";

/** HᵀH for H = p×T (columns = increments). */
function gramOfColumns(h: Mat): Mat {
  return naiveMatmul(naiveTranspose(h), h);
}

function sigmaSqOf(h: Mat): Float64Array {
  return clampGramEigenvalues(symmetricEigen(gramOfColumns(h), { vectors: false }).values);
}

describe("predictableRank", () => {
  test.each([
    [1, 30, 12],
    [3, 50, 20],
    [7, 40, 16],
  ])("a rank-%i construction (p = %i, T = %i) has r*(ε) = k for small ε", (k, p, t) => {
    const h = naiveMatmul(randomMat(p, k, k), randomMat(k, t, k + 1));
    const s2 = sigmaSqOf(h);
    for (const eps of [1e-6, 1e-9, 0]) expect(predictableRank(s2, eps)).toBe(k);
    expect(spectrumSummary(gramOfColumns(h), { eps: [1e-8] }).predictableRank["1e-8"]).toBe(k);
  });

  test("closed form on a given spectrum; zero matrix gives 0", () => {
    const s2 = Float64Array.from([50, 30, 15, 5]); // total 100
    expect(predictableRank(s2, 0.5)).toBe(1);
    expect(predictableRank(s2, 0.2)).toBe(2);
    expect(predictableRank(s2, 0.05)).toBe(3); // tail 5 ≤ 5
    expect(predictableRank(s2, 0.049)).toBe(4);
    expect(predictableRank(new Float64Array(5), 0.1)).toBe(0);
    expect(() => predictableRank(s2, 1.5)).toThrow(/eps/);
  });

  test("r*(ε) is non-increasing in ε and ≤ min(T, p) (fast-check on random matrices)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2, maxLength: 6 }),
        (p, t, seed, epss) => {
          const s2 = sigmaSqOf(randomMat(p, t, seed));
          const sorted = [...epss].sort((a, b) => a - b);
          const ranks = sorted.map((e) => predictableRank(s2, e));
          for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeLessThanOrEqual(ranks[i - 1]);
          for (const r of ranks) expect(r).toBeLessThanOrEqual(Math.min(t, p));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("effective, stable rank and participation ratio", () => {
  test.each([1, 2, 5, 13])("k = %i equal singular values: all three equal k", (k) => {
    const s2 = Float64Array.from({ length: k + 3 }, (_, i) => (i < k ? 4 : 0));
    expect(effectiveRank(s2)).toBeCloseTo(k, 12);
    expect(stableRank(s2)).toBeCloseTo(k, 12);
    expect(participationRatio(s2)).toBeCloseTo(k, 12);
  });

  test("closed forms for σ = (2, 1): effective rank from σ (not σ²), stable rank, participation ratio", () => {
    const s2 = Float64Array.from([4, 1]);
    const q = [2 / 3, 1 / 3];
    expect(effectiveRank(s2)).toBeCloseTo(Math.exp(-(q[0] * Math.log(q[0]) + q[1] * Math.log(q[1]))), 14);
    expect(stableRank(s2)).toBeCloseTo(5 / 4, 14);
    expect(participationRatio(s2)).toBeCloseTo(25 / 17, 14);
  });

  test("zero matrix: all zero", () => {
    const z = new Float64Array(4);
    expect([effectiveRank(z), stableRank(z), participationRatio(z)]).toEqual([0, 0, 0]);
  });

  test("stable rank ≤ effective rank ≤ rank, participation ratio ≤ rank (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (values) => {
          const s2 = Float64Array.from(values);
          const rank = values.filter((v) => v > 0).length;
          const sr = stableRank(s2);
          const er = effectiveRank(s2);
          expect(sr).toBeLessThanOrEqual(er * (1 + 1e-12));
          expect(er).toBeLessThanOrEqual(rank * (1 + 1e-12));
          expect(participationRatio(s2)).toBeLessThanOrEqual(rank * (1 + 1e-12));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("oracleRankPathLength", () => {
  test("equals ‖H − H_k‖_F² of the explicit best rank-k approximation (ml-matrix SVD)", () => {
    const p = 14;
    const t = 9;
    const sigma = [5, 3, 2, 1, 0.5, 0.25, 0.1, 0.01, 0.001];
    const h = fromSvd(randomOrthonormal(p, t, 1), sigma, randomOrthonormal(t, t, 2));
    const svd = new SingularValueDecomposition(
      new Matrix(Array.from({ length: p }, (_, i) => Array.from(h.data.subarray(i * t, (i + 1) * t)))),
    );
    const oracle = oracleRankPathLength(sigmaSqOf(h), 11);
    expect(oracle.length).toBe(12);
    for (let k = 0; k <= 11; k++) {
      const hk = mat(p, t);
      for (let r = 0; r < Math.min(k, t); r++) {
        for (let i = 0; i < p; i++) {
          for (let j = 0; j < t; j++) {
            hk.data[i * t + j] +=
              svd.leftSingularVectors.get(i, r) * svd.diagonal[r] * svd.rightSingularVectors.get(j, r);
          }
        }
      }
      let residual = 0;
      for (let i = 0; i < h.data.length; i++) residual += (h.data[i] - hk.data[i]) ** 2;
      expect(Math.abs(oracle[k] - residual)).toBeLessThan(1e-12 * 39);
    }
  });
});

describe("oracleRankPathLength with an unpredictable term", () => {
  test("adds the term to every entry (beyond the rank too) and rejects a negative or non-finite one", () => {
    const sigmaSq = Float64Array.of(4, 1, 0.25);
    expect(oracleRankPathLength(sigmaSq, 4)).toEqual([5.25, 1.25, 0.25, 0, 0]);
    expect(oracleRankPathLength(sigmaSq, 4, 2)).toEqual([7.25, 3.25, 2.25, 2, 2]);
    expect(() => oracleRankPathLength(sigmaSq, 2, -1)).toThrow(/unpredictable/);
    expect(() => oracleRankPathLength(sigmaSq, 2, Number.NaN)).toThrow(/unpredictable/);
  });
});

describe("clampGramEigenvalues and spectrumSummary", () => {
  test("rounding-level eigenvalues become exactly 0; real ones are kept", () => {
    const out = clampGramEigenvalues(Float64Array.from([-1e-15, 10, 1e-300, 3, -0.5]));
    expect(Array.from(out)).toEqual([10, 3, 0, 0, 0]);
  });

  test("summary fields agree with the separate functions and the documented shapes", () => {
    const h = fromSvd(
      randomOrthonormal(60, 40, 3),
      Array.from({ length: 40 }, (_, i) => 0.8 ** i),
      randomOrthonormal(40, 40, 4),
    );
    const g = gramOfColumns(h);
    const s2 = sigmaSqOf(h);
    const sum = spectrumSummary(g);
    expect(sum.singularValues.length).toBe(32);
    for (let i = 0; i < 32; i++) expect(sum.singularValues[i]).toBeCloseTo(0.8 ** i, 10);
    expect(Object.keys(sum.predictableRank)).toEqual(["0.1", "0.05", "0.01"]);
    expect(sum.predictableRank["0.05"]).toBe(predictableRank(s2, 0.05));
    // σ² = 0.64^i: tail after k is 0.64^k of the total (up to the finite-T correction), so r*(ε) ≈ ln ε / ln 0.64.
    expect(sum.predictableRank["0.01"]).toBe(Math.ceil(Math.log(0.01) / Math.log(0.64)));
    expect(sum.effectiveRank).toBeCloseTo(effectiveRank(s2), 12);
    expect(sum.stableRank).toBeCloseTo(stableRank(s2), 12);
    expect(sum.participationRatio).toBeCloseTo(participationRatio(s2), 12);
    expect(sum.rankCurve.eps.length).toBe(20);
    expect(sum.rankCurve.eps[0]).toBeCloseTo(0.5, 14);
    expect(sum.rankCurve.eps[19]).toBeCloseTo(1e-4, 14);
    expect(sum.rankCurve.rank).toEqual(DEFAULT_CURVE_EPS.map((e) => predictableRank(s2, e)));
    expect(sum.oracleRankPathLength.length).toBe(33);
    expect(sum.oracleRankPathLength[0]).toBeCloseTo(
      s2.reduce((a, b) => a + b, 0),
      12,
    );
  });
});
