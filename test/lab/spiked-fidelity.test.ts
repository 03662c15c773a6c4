/** @file What issue 11 asks of the spiked lab, checked against independent references: the outlier criterion on planted
 * spectra (known outliers on a random bulk, with the bulk holding most of the Frobenius energy), the regulariser's
 * gradient inside the decomposition (S1ᴳ + S2ᴳ + Eᴳ = G_data + λ∇R, input noise's effective λ∇R recomputed by hand),
 * the readings of dependent W, the bulk normalisation, the held-out set, the learning rate's regulariser terms and the
 * non-throwing divergence mode. */
import { describe, expect, it } from "vitest";
import { svdTallSkinny } from "../../src/core/linalg/index.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng, deriveSeed } from "../../src/core/rng.ts";
import { resolveActivation } from "../../src/lab/spiked/activations.ts";
import { generateSpikedData, powerLawSpectrum, STREAM, teacherLink } from "../../src/lab/spiked/data.ts";
import { denseComponents, includeRegulariser } from "../../src/lab/spiked/decomposition.ts";
import { autoLearningRate, runSpiked } from "../../src/lab/spiked/experiment.ts";
import { float64Gemm } from "../../src/lab/spiked/gemm.ts";
import { spectrumOutliers } from "../../src/lab/spiked/metrics.ts";
import { initNetwork, predict } from "../../src/lab/spiked/model.ts";
import { maxAbs, maxAbsDiff } from "../core/linalgTestUtils.ts";
import { decomposeFloat64, gradientFloat64 } from "./spikedTestUtils.ts";

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/** Σ θ_i u_i v_iᵀ + N, N with i.i.d. N(0, 1/d) entries (bulk edge ≈ 1 + √(m/d)), u_i, v_i orthonormal. */
function planted(m: number, d: number, thetas: readonly number[], seed: number): Mat {
  const rng = createRng(seed);
  const g = mat(
    m,
    d,
    Float64Array.from({ length: m * d }, () => rng.normal() / Math.sqrt(d)),
  );
  const basis = (len: number) => {
    const out: Float64Array[] = [];
    for (let i = 0; i < thetas.length; i++) {
      const v = Float64Array.from({ length: len }, () => rng.normal());
      for (const b of out) {
        const p = v.reduce((s, x, t) => s + x * b[t], 0);
        for (let t = 0; t < len; t++) v[t] -= p * b[t];
      }
      const nv = norm(v);
      out.push(v.map((x) => x / nv));
    }
    return out;
  };
  const us = basis(m);
  const vs = basis(d);
  thetas.forEach((theta, i) => {
    for (let j = 0; j < m; j++) for (let k = 0; k < d; k++) g.data[j * d + k] += theta * us[i][j] * vs[i][k];
  });
  return g;
}

describe("outliers above the bulk edge (planted spectra)", () => {
  const m = 150;
  const d = 120;
  it.each([
    [[], 0],
    [[0.4], 0],
    [[6], 1],
    [[6, 4], 2],
    [[7, 5, 4], 3],
    [[5, 4.8], 2],
  ] as const)("θ = %j → %i outliers, for every seed", (thetas, want) => {
    for (let seed = 0; seed < 6; seed++) {
      const s = Array.from(svdTallSkinny(planted(m, d, thetas, seed)).s.slice(0, 10));
      expect(spectrumOutliers(s).outliers, `seed ${seed}: ${s.map((v) => v.toFixed(3)).join(" ")}`).toBe(
        want,
      );
    }
  });

  it("two outliers are found while the bulk holds most of ‖G‖_F² (outliers, not energy)", () => {
    const g = planted(m, d, [6, 4], 3);
    const s = svdTallSkinny(g).s;
    const fro = g.data.reduce((acc, v) => acc + v * v, 0);
    expect((s[0] ** 2 + s[1] ** 2) / fro).toBeLessThan(0.5);
    expect(spectrumOutliers(Array.from(s.slice(0, 10))).outliers).toBe(2);
  });

  it("edge σ4 and spacing δ = (σ4 − σk)/(k − 4); the count is the last wide gap among the top three; k < 7 gives NaN", () => {
    const sv = [9, 3, 1.07, 1, 0.99, 0.98, 0.97, 0.96];
    const got = spectrumOutliers(sv);
    expect(got.bulkEdge).toBe(1);
    expect(got.bulkSpacing).toBeCloseTo(0.01, 14);
    // σ3 − σ4 = 0.07 > 6δ: three outliers; at 0.05 σ3 joins the bulk.
    expect(got.outliers).toBe(3);
    expect(spectrumOutliers([9, 3, 1.05, 1, 0.99, 0.98, 0.97, 0.96]).outliers).toBe(2);
    // Two equal spikes: no gap between them, a wide one after the second.
    expect(spectrumOutliers([3, 3, 1.02, 1, 0.99, 0.98, 0.97, 0.96]).outliers).toBe(2);
    expect(spectrumOutliers([1.03, 1.02, 1.01, 1, 0.99, 0.98, 0.97, 0.96]).outliers).toBe(0);
    expect(spectrumOutliers([1, 0.9, 0.8, 0.7, 0.6, 0.5]).outliers).toBeNaN();
  });
});

describe("the regulariser's gradient inside G", () => {
  const n = 40;
  const d = 24;
  const m = 30;
  const data = generateSpikedData({ n, d, nu: 0.35, alpha: 5 / 9, seed: 6 });

  it.each([
    ["weight decay", { weightDecay: 0.3 }],
    ["Jacobian penalty", { jacobianPenalty: 0.8 }],
    ["both", { weightDecay: 0.1, jacobianPenalty: 0.4 }],
  ] as const)("%s: S1ᴳ + S2ᴳ + Eᴳ = G_data + λ∇R, each term keeps its right direction", (_, reg) => {
    const net = initNetwork({ m, d, seed: 6, weights: "dependent", q: data.q, n });
    const g = gradientFloat64(data, net, "tanh", reg);
    const regGrad = g.regGrad as Mat;
    const dec = decomposeFloat64(data, g, net);
    const c = includeRegulariser(dec, regGrad, float64Gemm);
    const sum = new Float64Array(m * d);
    for (let j = 0; j < m; j++) {
      for (let k = 0; k < d; k++) {
        sum[j * d + k] = c.s1Left[j] * c.residueUnit[k] + c.s2Left[j] * data.q[k] + c.e.data[j * d + k];
      }
    }
    expect(maxAbsDiff(sum, g.grad.data)).toBeLessThan(1e-12 * maxAbs(g.grad.data));
    // The residue direction is X_Bᵀr's.
    const cosRes = dec.residue.reduce((s, v, k) => s + v * c.residueUnit[k], 0) / norm(dec.residue);
    expect(cosRes).toBeCloseTo(1, 12);
    // What moved into E is orthogonal to both theory directions: (Eᴳ − E)·r̂ = (Eᴳ − E)·q = 0.
    for (const dir of [c.residueUnit, data.q]) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += (c.e.data[j * d + k] - dec.e.data[j * d + k]) * dir[k];
        expect(Math.abs(s)).toBeLessThan(1e-12 * maxAbs(regGrad.data) * Math.sqrt(d));
      }
    }
    // Operator norms: rank one, and ‖Eᴳ‖ against a dense SVD.
    expect(c.s1Norm).toBeCloseTo(norm(c.s1Left), 12);
    // ‖Eᴳ‖ from 4 power iterations: a few 1e-5 relative.
    expect(Math.abs(c.errNorm - svdTallSkinny(c.e).s[0])).toBeLessThan(1e-3 * c.errNorm);
    // A regulariser changes the components: with weight decay on dependent W (rows share q) S2 moves.
    expect(Math.abs(c.s2Norm - dec.s2Norm)).toBeGreaterThan(1e-3 * dec.s2Norm);
  });

  it("without a regulariser the components are S1, S2, E themselves", () => {
    const net = initNetwork({ m, d, seed: 6 });
    const g = gradientFloat64(data, net, "relu");
    const dec = decomposeFloat64(data, g, net);
    const c = includeRegulariser(dec, null, float64Gemm);
    expect([c.s1Norm, c.s2Norm, c.errNorm]).toEqual([dec.s1Norm, dec.s2Norm, dec.errNorm]);
    const { s1 } = denseComponents(dec);
    for (let t = 0; t < m * d; t++) {
      const j = Math.floor(t / d);
      expect(c.s1Left[j] * c.residueUnit[t % d]).toBeCloseTo(s1.data[t], 12);
    }
  });

  it("runSpiked with weight decay: the record's ‖S1ᴳ‖, ‖S2ᴳ‖ and ‖G_reg‖_F are those of the direct computation", async () => {
    const cfg = {
      n,
      d,
      m,
      nu: 0.35,
      alpha: 5 / 9,
      seed: 6,
      activation: "tanh" as const,
      weightDecay: 0.2,
      gemm: "float64" as const,
      topK: 8,
    };
    const r = await runSpiked(cfg);
    const net = initNetwork({ m, d, seed: 6 });
    const g = gradientFloat64(data, net, "tanh", { weightDecay: 0.2 });
    const c = includeRegulariser(decomposeFloat64(data, g, net), g.regGrad, float64Gemm);
    expect(r.s1NormTotal).toBeCloseTo(c.s1Norm, 12);
    expect(r.s2NormTotal).toBeCloseTo(c.s2Norm, 12);
    expect(r.regFrobeniusNorm).toBeCloseTo(0.4 * norm(net.w.data), 12);
  });

  it("input noise: G_reg is the mean over the draws of ∇L_data(X + N) − ∇L_data(X) (recomputed from the same stream)", async () => {
    const s = 0.5;
    const draws = 3;
    const r = await runSpiked({
      n,
      d,
      m,
      nu: 0.35,
      alpha: 5 / 9,
      seed: 6,
      inputNoise: s,
      noiseDraws: draws,
      gemm: "float64",
      topK: 8,
    });
    const net = initNetwork({ m, d, seed: 6 });
    const act = resolveActivation("relu");
    const clean = gradientFloat64(data, net, act);
    const rng = createRng(deriveSeed(6, STREAM.regNoise));
    const mean = new Float64Array(m * d);
    for (let k = 0; k < draws; k++) {
      const x = mat(
        n,
        d,
        Float64Array.from(data.x.data, (v) => v + s * rng.normal()),
      );
      const g = gradientFloat64({ x, y: data.y }, net, act);
      for (let t = 0; t < mean.length; t++) mean[t] += g.dataGrad.data[t] / draws;
    }
    const regGrad = mat(
      m,
      d,
      Float64Array.from(mean, (v, t) => v - clean.dataGrad.data[t]),
    );
    expect(r.regFrobeniusNorm).toBeCloseTo(norm(regGrad.data), 10);
    expect(r.dataFrobeniusNorm).toBeCloseTo(norm(clean.dataGrad.data), 12);
    expect(r.records[0].dataLoss).toBeCloseTo(clean.dataLoss, 12);
    const c = includeRegulariser(decomposeFloat64(data, clean, net), regGrad, float64Gemm);
    expect(r.s2NormTotal).toBeCloseTo(c.s2Norm, 10);
  });
});

describe("readings of dependent W", () => {
  const n = 81;
  const d = 16;
  const m = 12;
  const q = generateSpikedData({ n: 10, d, nu: 0, seed: 3 }).q;
  const independent = initNetwork({ m, d, seed: 3 }).w;
  const rows = (w: Mat, j: number) => w.data.subarray(j * d, (j + 1) * d);
  it.each([
    ["renormalised", n ** -0.25, true],
    ["unnormalised", n ** -0.25, false],
    ["scaled", n ** -0.25 / Math.sqrt(d), true],
  ] as const)("%s: w_j = w_S,j + shift·q, then %s", (reading, shift, unit) => {
    const w = initNetwork({ m, d, seed: 3, weights: "dependent", dependentReading: reading, q, n }).w;
    for (let j = 0; j < m; j++) {
      const want = Float64Array.from(rows(independent, j), (v, k) => v + shift * q[k]);
      const scale = unit ? 1 / norm(want) : 1;
      expect(
        maxAbsDiff(
          rows(w, j),
          want.map((v) => v * scale),
        ),
      ).toBeLessThan(1e-14);
      if (unit) expect(norm(rows(w, j))).toBeCloseTo(1, 14);
    }
  });
  it("rejects an unknown reading", () => {
    expect(() =>
      initNetwork({ m, d, weights: "dependent", dependentReading: "x" as "scaled", q, n }),
    ).toThrow(/dependentReading/);
  });
});

describe("bulk normalisation and the held-out set", () => {
  it("none: λ_k = k^(−α) as written; the bulk's column variances follow it", () => {
    const lam = powerLawSpectrum(40, 8 / 9, "none");
    for (let k = 0; k < 40; k++) expect(lam[k]).toBeCloseTo((k + 1) ** (-8 / 9), 14);
    const n = 4000;
    const data = generateSpikedData({
      n,
      d: 40,
      nu: -10,
      alpha: 8 / 9,
      basis: "aligned",
      bulkNormalise: "none",
      seed: 1,
    });
    for (const k of [0, 5, 39]) {
      let v = 0;
      for (let i = 0; i < n; i++) v += data.xBulk.data[i * 40 + k] ** 2;
      v /= n;
      // The sample variance of n normal draws has relative sd √(2/n) ≈ 0.022.
      expect(Math.abs(v / lam[k] - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    }
  });

  it("held-out rows share q, ζ and the teacher; the training data do not change when they are added", () => {
    const opts = { n: 30, d: 20, nu: 0.3, alpha: 5 / 9, seed: 8, labelNoise: 0 };
    const plain = generateSpikedData(opts);
    const withTest = generateSpikedData({ ...opts, testSamples: 25 });
    expect(Array.from(withTest.x.data)).toEqual(Array.from(plain.x.data));
    expect(Array.from(withTest.y)).toEqual(Array.from(plain.y));
    const test = withTest.test!;
    expect(test.x.rows).toBe(25);
    const [u1, u2, u3] = withTest.teacherDirections;
    for (let i = 0; i < 25; i++) {
      const row = test.x.data.subarray(i * 20, (i + 1) * 20);
      const dotp = (u: Float64Array) => row.reduce((s, v, k) => s + v * u[k], 0);
      expect(test.y[i]).toBeCloseTo(teacherLink(dotp(u1), dotp(u2), dotp(u3)), 12);
    }
    // The held-out rows are new draws, not copies of training rows.
    expect(maxAbsDiff(test.x.data.subarray(0, 20), plain.x.data.subarray(0, 20))).toBeGreaterThan(0.1);
  });

  it("testLoss and testBaseline are the held-out loss of the network and of the zero predictor", async () => {
    const r = await runSpiked({
      n: 30,
      d: 20,
      m: 24,
      nu: 0.2,
      seed: 2,
      testSamples: 16,
      gemm: "float64",
      topK: 8,
    });
    const data = generateSpikedData({ n: 30, d: 20, nu: 0.2, seed: 2, testSamples: 16 });
    const net = initNetwork({ m: 24, d: 20, seed: 2 });
    const f = predict(data.test!.x, net, resolveActivation("relu"), float64Gemm);
    const want = f.reduce((s, v, i) => s + 0.5 * (v - data.test!.y[i]) ** 2, 0) / 16;
    expect(r.records[0].testLoss).toBeCloseTo(want, 12);
    expect(r.testBaseline).toBeCloseTo(data.test!.y.reduce((s, v) => s + 0.5 * v * v, 0) / 16, 12);
  });
});

describe("training safeguards", () => {
  it("lr auto adds the regularisers' curvature: 2λ for weight decay", () => {
    const data = generateSpikedData({ n: 30, d: 20, nu: 0.2, seed: 1 });
    const net = initNetwork({ m: 24, d: 20, seed: 1 });
    const g = gradientFloat64(data, net, "relu");
    const plain = autoLearningRate(data.x, g.dsigma, net.gamma);
    expect(autoLearningRate(data.x, g.dsigma, net.gamma, { weightDecay: 0.7 })).toBeCloseTo(
      1 / (1 / plain + 1.4),
      12,
    );
    expect(autoLearningRate(data.x, g.dsigma, net.gamma, { jacobianPenalty: 0.7, a: net.a })).toBeLessThan(
      plain,
    );
  });

  it("stopOnDivergence returns the records before the blow-up instead of throwing", async () => {
    const cfg = { n: 20, d: 10, m: 12, nu: 0.2, steps: 30, lr: 500, gemm: "float64" as const, topK: 8 };
    await expect(runSpiked(cfg)).rejects.toThrow(/diverged/);
    const r = await runSpiked({ ...cfg, stopOnDivergence: true, analyzeSteps: [0, 30] });
    expect(r.divergedAt).toBeGreaterThan(0);
    expect(r.records.map((x) => x.step)).toEqual([0]);
    expect(r.lossCurve.length).toBe(r.divergedAt! + 1);
  });
});
