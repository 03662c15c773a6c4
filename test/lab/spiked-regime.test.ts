/** @file The paper's regime claims, measured at a size that runs in seconds (n 200, d 250, m 300, float64 products,
 * seeds 0–2). The thresholds come from measuring seeds 0–2 (see docs/lab-spiked.md, "Regime tests") with margin;
 * where the measurement departs from the paper's asymptotic statement (e.g. the bulk fluctuation E still holds ~40%
 * of ‖G‖_F² at this size, so "rank one" holds for the top direction, not for the Frobenius energy), the test checks
 * what is true at this size: the alignment of the top direction and the trend in ν. */
import { beforeAll, describe, expect, it } from "vitest";
import { runSpiked, type SpikedResult } from "../../src/lab/spiked/experiment.ts";

const base = { n: 200, d: 250, m: 300, gemm: "float64" as const, fullSpectrum: false, topK: 10 };
/** √(cos²(v1, x) + cos²(v2, x)): how much of a direction lies in the top-two right singular space. */
const inTopTwo = (cos: number[]) => Math.hypot(cos[0], cos[1]);
const seeds = [0, 1, 2];
const nus = [0, 0.125, 0.25, 0.35, 0.45];
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe("Figure 1 regimes (α 0, NTK, independent W)", () => {
  const runs = new Map<string, SpikedResult>();
  const get = (nu: number, seed: number) => runs.get(`${nu}/${seed}`)!;
  beforeAll(async () => {
    for (const nu of nus)
      for (const seed of seeds) runs.set(`${nu}/${seed}`, await runSpiked({ ...base, nu, seed }));
  });

  it("ν ≤ 1/8: the top right singular vector is the bulk data-residue (|cos| > 0.95) and σ1 > 3σ2", () => {
    for (const nu of [0, 0.125]) {
      for (const seed of seeds) {
        const r = get(nu, seed);
        expect(r.cosResidue[0]).toBeGreaterThan(0.95);
        expect(r.cosAMu[0]).toBeGreaterThan(0.95);
        expect(r.singularValues[0]).toBeGreaterThan(3 * r.singularValues[1]);
        expect(r.identityResidual).toBeLessThan(1e-12);
      }
    }
  });

  it("ν ≤ 1/8: exactly one singular value stands out of the bulk (outlier criterion), for every seed", () => {
    for (const nu of [0, 0.125]) for (const seed of seeds) expect(get(nu, seed).outliers).toBe(1);
  });

  it("ν = 0.45: at least two outliers, and span{v1, v2} holds q (> 0.9) for every seed", () => {
    for (const seed of seeds) {
      const r = get(0.45, seed);
      expect(r.outliers).toBeGreaterThanOrEqual(2);
      expect(inTopTwo(r.cosSpike)).toBeGreaterThan(0.9);
    }
  });

  it("‖E‖_op/‖S1‖ stays below 1/2 at every ν ≤ 0.35 (E is the bulk, S1 the spike)", () => {
    for (const nu of [0, 0.125, 0.25, 0.35]) {
      for (const seed of seeds) expect(get(nu, seed).errNorm).toBeLessThan(0.5 * get(nu, seed).s1Norm);
    }
  });

  it("‖S2‖/‖S1‖ increases with ν for every seed", () => {
    for (const seed of seeds) {
      const ratios = nus.map((nu) => get(nu, seed).s2Norm / get(nu, seed).s1Norm);
      for (let i = 1; i < ratios.length; i++) expect(ratios[i]).toBeGreaterThan(ratios[i - 1]);
    }
  });

  it("ν = 0.45: a top-2 direction aligns with q, and energy concentrates in span{X_Bᵀr, q} and in the top two", () => {
    const spikeCos = seeds.map((s) => Math.max(get(0.45, s).cosSpike[0], get(0.45, s).cosSpike[1]));
    expect(mean(spikeCos)).toBeGreaterThan(0.8);
    const span = (nu: number) => mean(seeds.map((s) => get(nu, s).energyInSpan));
    const top2 = (nu: number) => mean(seeds.map((s) => get(nu, s).top2Energy));
    expect(span(0.45)).toBeGreaterThan(span(0) + 0.15);
    expect(top2(0.45)).toBeGreaterThan(0.8);
    expect(top2(0.45)).toBeGreaterThan(top2(0) + 0.15);
  });

  it("the top-2 singular values of S1 + S2 alone predict σ1 within 15% at every ν", () => {
    for (const nu of nus) {
      for (const seed of seeds) {
        const r = get(nu, seed);
        expect(Math.abs(r.predictedSingularValues[0] - r.singularValues[0])).toBeLessThan(
          0.15 * r.singularValues[0],
        );
      }
    }
  });
});

describe("dependent W (rows renormalised)", () => {
  it("ν = 0.45: the spike is the top direction, ‖S2‖ > 3‖S1‖, and X_Bᵀr is not in span{v1, v2}: not the caption's rank two", async () => {
    for (const seed of seeds) {
      const r = await runSpiked({ ...base, nu: 0.45, seed, weights: "dependent" });
      expect(r.cosSpike[0]).toBeGreaterThan(0.9);
      expect(r.s2Norm).toBeGreaterThan(3 * r.s1Norm);
      expect(inTopTwo(r.cosResidue)).toBeLessThan(0.5);
      // The hidden-side factors of S1 and S2 are nearly parallel, so S1 + S2 is itself nearly rank one.
      expect(r.cosLeftFactors).toBeGreaterThan(0.95);
    }
  });
});

describe("Figure 2 setting (ν 1/8, α 5/9): ReLU versus tanh", () => {
  it("ReLU's ‖S1‖ is smaller than tanh's and its fluctuation ‖E‖/‖S1‖ larger, for every seed", async () => {
    const ratios: number[] = [];
    for (const seed of seeds) {
      const relu = await runSpiked({ ...base, nu: 0.125, alpha: 5 / 9, activation: "relu", seed });
      const tanh = await runSpiked({ ...base, nu: 0.125, alpha: 5 / 9, activation: "tanh", seed });
      ratios.push(relu.s1Norm / tanh.s1Norm);
      expect(relu.s1Norm).toBeLessThan(tanh.s1Norm);
      expect(relu.errNorm / relu.s1Norm).toBeGreaterThan(tanh.errNorm / tanh.s1Norm);
      // μ itself: ReLU's is 1/2 exactly in expectation, tanh's ≈ 0.6 (pre-activation variance ≈ 1).
      expect(relu.muMean).toBeCloseTo(0.5, 1);
      expect(tanh.muMean).toBeGreaterThan(0.58);
    }
    expect(mean(ratios)).toBeLessThan(0.97);
  });
});
