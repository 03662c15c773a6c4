/** @file Exactness checks of the spiked lab's mathematics against brute-force references: the identity
 * S1 + S2 + E = G_data, finite-difference gradients of the loss with each regulariser, the activations' derivatives,
 * μ = E σ'(g) against its closed forms, the Haar rotation, and the rank-two singular values. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { svdTallSkinny } from "../../src/core/linalg/index.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";
import {
  ACTIVATION_NAMES,
  erf,
  gaussianMeanDerivative,
  resolveActivation,
} from "../../src/lab/spiked/activations.ts";
import { applyHaarRotation, generateSpikedData, powerLawSpectrum } from "../../src/lab/spiked/data.ts";
import { denseComponents } from "../../src/lab/spiked/decomposition.ts";
import { createJaxGemm, float64Gemm } from "../../src/lab/spiked/gemm.ts";
import { rankTwoSingularValues } from "../../src/lab/spiked/metrics.ts";
import { initNetwork, type Network } from "../../src/lab/spiked/model.ts";
import { maxAbs, maxAbsDiff } from "../core/linalgTestUtils.ts";
import { decomposeFloat64, gradientFloat64 } from "./spikedTestUtils.ts";

describe("activations", () => {
  it("erf matches reference values to 1e-14", () => {
    // Values from the DLMF / Abramowitz–Stegun tables (high-precision).
    const table: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [-1.5, -0.9661051464753108],
    ];
    for (const [x, v] of table) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-14);
  });

  it.each(ACTIVATION_NAMES)("%s: dsigma and d2sigma are the derivatives (central differences)", (name) => {
    const act = resolveActivation(name);
    const h = 1e-5;
    for (const x of [-3.1, -1.2, -0.3, 0.4, 0.9, 2.7]) {
      const fd1 = (act.sigma(x + h) - act.sigma(x - h)) / (2 * h);
      const fd2 = (act.dsigma(x + h) - act.dsigma(x - h)) / (2 * h);
      expect(Math.abs(fd1 - act.dsigma(x))).toBeLessThan(1e-8);
      expect(Math.abs(fd2 - (act.d2sigma?.(x) ?? Number.NaN))).toBeLessThan(1e-8);
    }
  });

  it("μ = E σ'(g), g ~ N(0, 1): quadrature matches the closed forms", () => {
    expect(gaussianMeanDerivative(resolveActivation("relu"))).toBeCloseTo(0.5, 6);
    expect(gaussianMeanDerivative(resolveActivation("tanh"))).toBeCloseTo(0.6057, 4);
    expect(gaussianMeanDerivative(resolveActivation("sigmoid"))).toBeCloseTo(0.2066, 4);
    // Odd part vanishes: E[Φ(g) + gφ(g)] = 1/2 and E[logistic(g)] = 1/2.
    expect(gaussianMeanDerivative(resolveActivation("gelu"))).toBeCloseTo(0.5, 8);
    expect(gaussianMeanDerivative(resolveActivation("softplus"))).toBeCloseTo(0.5, 8);
  });

  it("μ_j estimated from data (Monte Carlo, no spike) matches the closed forms within 4 standard errors", () => {
    // ν = −10 makes ζ = n^ν negligible, so w_jᵀx ~ N(0, 1) for unit w_j and isotropic x.
    const n = 4000;
    const d = 40;
    const m = 30;
    const data = generateSpikedData({ n, d, nu: -10, seed: 3 });
    const net = initNetwork({ m, d, seed: 3 });
    for (const [name, closed] of [
      ["relu", 0.5],
      ["tanh", 0.6057],
      ["sigmoid", 0.2066],
    ] as const) {
      const act = resolveActivation(name);
      const g = gradientFloat64(data, net, act);
      const dec = decomposeFloat64(data, g, net);
      // Standard error of the mean over n·m correlated draws: bound with n draws per unit (sd(σ') ≤ 1/2).
      const mean = dec.mu.reduce((s, v) => s + v, 0) / m;
      expect(Math.abs(mean - closed)).toBeLessThan(4 * (0.5 / Math.sqrt(n * m)) + 4e-4);
    }
  });

  it("rejects unknown names and incomplete custom activations", () => {
    expect(() => resolveActivation("swish" as "relu")).toThrow(/unknown activation/);
    expect(() => resolveActivation({ name: "x", sigma: Math.sin } as never)).toThrow(/dsigma/);
  });
});

describe("data", () => {
  it("power-law spectrum has mean 1 and ratio k^(−α)", () => {
    const lam = powerLawSpectrum(50, 5 / 9);
    expect(lam.reduce((s, v) => s + v, 0) / 50).toBeCloseTo(1, 12);
    expect(lam[9] / lam[0]).toBeCloseTo(10 ** (-5 / 9), 12);
  });

  it("the Haar rotation is orthogonal (rotating the identity's rows gives O with OᵀO = I)", () => {
    const d = 17;
    const eye = mat(d, d);
    for (let i = 0; i < d; i++) eye.data[i * d + i] = 1;
    applyHaarRotation(eye, createRng(5));
    // Row i is (O e_i)ᵀ = column i of O: check orthonormal rows.
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += eye.data[i * d + k] * eye.data[j * d + k];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-13);
      }
    }
  });

  it("MNIST bulk: d = 784, every pixel standardised over the n digits (or 0), parity targets ±1", () => {
    const data = generateSpikedData({ n: 60, d: 10, nu: 0.2, source: "mnist", seed: 2 });
    expect(data.d).toBe(784);
    expect(data.x.cols).toBe(784);
    let standardised = 0;
    for (let k = 0; k < 784; k++) {
      let mean = 0;
      let sq = 0;
      for (let i = 0; i < 60; i++) mean += data.xBulk.data[i * 784 + k];
      mean /= 60;
      for (let i = 0; i < 60; i++) sq += (data.xBulk.data[i * 784 + k] - mean) ** 2;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      const v = sq / 60;
      expect(Math.abs(v - 1) < 1e-9 || v === 0).toBe(true);
      if (v > 0) standardised++;
    }
    expect(standardised).toBeGreaterThan(300);
    expect(data.y.every((v) => v === 1 || v === -1)).toBe(true);
    expect(new Set(data.y).size).toBe(2);
  });

  it("X = X_B + ζ z qᵀ exactly, ζ = n^ν, q unit", () => {
    const data = generateSpikedData({ n: 30, d: 20, nu: 0.3, alpha: 8 / 9, seed: 1 });
    expect(data.zeta).toBeCloseTo(30 ** 0.3, 12);
    let qq = 0;
    for (const v of data.q) qq += v * v;
    expect(qq).toBeCloseTo(1, 12);
    for (let i = 0; i < 30; i++) {
      for (let k = 0; k < 20; k++) {
        const want = data.xBulk.data[i * 20 + k] + data.zeta * data.z[i] * data.q[k];
        expect(Math.abs(data.x.data[i * 20 + k] - want)).toBeLessThan(1e-12);
      }
    }
  });
});

/** Everything needed for one loss evaluation at a perturbed W. */
function lossAt(
  w: Mat,
  base: Network,
  x: Mat,
  y: Float64Array,
  act: ReturnType<typeof resolveActivation>,
  reg: { weightDecay?: number; jacobianPenalty?: number },
): number {
  return gradientFloat64({ x, y }, { ...base, w }, act, reg).loss;
}

describe("loss gradient by finite differences", () => {
  const n = 14;
  const d = 9;
  const m = 11;
  const cases: [string, { weightDecay?: number; jacobianPenalty?: number }][] = [
    ["data only", {}],
    ["weight decay", { weightDecay: 0.3 }],
    ["Jacobian penalty", { jacobianPenalty: 0.7 }],
    ["both", { weightDecay: 0.2, jacobianPenalty: 0.5 }],
  ];
  for (const actName of ["tanh", "sigmoid", "gelu", "softplus", "relu"] as const) {
    for (const [label, reg] of cases) {
      it(`${actName}, ${label}: every entry of ∇_W L matches central differences`, () => {
        const data = generateSpikedData({ n, d, nu: 0.2, seed: 11 });
        const net = initNetwork({ m, d, seed: 11, scaling: "ntk" });
        const act = resolveActivation(actName);
        const got = gradientFloat64(data, net, act, reg);
        const h = 1e-6;
        const fd = new Float64Array(m * d);
        for (let t = 0; t < m * d; t++) {
          const wp = mat(m, d, Float64Array.from(net.w.data));
          const wm = mat(m, d, Float64Array.from(net.w.data));
          wp.data[t] += h;
          wm.data[t] -= h;
          fd[t] =
            (lossAt(wp, net, data.x, data.y, act, reg) - lossAt(wm, net, data.x, data.y, act, reg)) / (2 * h);
        }
        // ReLU: a finite difference that crosses a kink is off by O(1); no pre-activation is within 1e-6 of 0 here.
        expect(maxAbsDiff(got.grad.data, fd)).toBeLessThan(1e-7 * Math.max(1, maxAbs(fd)));
      });
    }
  }

  it("the Jacobian penalty's value is λ_J (1/n)Σ‖∂f/∂x‖² with ∂f/∂x from finite differences in x", () => {
    const data = generateSpikedData({ n: 6, d: 5, nu: 0.1, seed: 2 });
    const net = initNetwork({ m: 7, d: 5, seed: 2 });
    const act = resolveActivation("tanh");
    const lambda = 0.9;
    const got = gradientFloat64(data, net, act, { jacobianPenalty: lambda });
    const f = (x: Float64Array): number => {
      let s = 0;
      for (let j = 0; j < 7; j++) {
        let h = 0;
        for (let k = 0; k < 5; k++) h += net.w.data[j * 5 + k] * x[k];
        s += net.a[j] * act.sigma(h);
      }
      return net.gamma * s;
    };
    let total = 0;
    for (let i = 0; i < 6; i++) {
      const xi = data.x.data.slice(i * 5, i * 5 + 5);
      for (let k = 0; k < 5; k++) {
        const xp = Float64Array.from(xi);
        const xm = Float64Array.from(xi);
        xp[k] += 1e-6;
        xm[k] -= 1e-6;
        total += ((f(xp) - f(xm)) / 2e-6) ** 2;
      }
    }
    expect(got.jacobianLoss).toBeCloseTo((lambda * total) / 6, 8);
  });
});

describe("decomposition S1 + S2 + E = G_data", () => {
  const configs: [
    string,
    { act: "relu" | "tanh" | "gelu"; weights: "independent" | "dependent"; noise: number },
  ][] = [
    ["relu, independent", { act: "relu", weights: "independent", noise: 0 }],
    ["tanh, dependent", { act: "tanh", weights: "dependent", noise: 0 }],
    ["gelu, input noise in the bulk", { act: "gelu", weights: "independent", noise: 0.4 }],
  ];
  it.each(configs)("%s: exact to 1e-10 (relative), S1 and S2 rank one with the stated factors", (_, c) => {
    const n = 60;
    const d = 45;
    const m = 50;
    const data = generateSpikedData({ n, d, nu: 0.35, alpha: 5 / 9, seed: 4 });
    const net = initNetwork({ m, d, seed: 4, weights: c.weights, q: data.q, n });
    // Input noise: the noisy bulk X_B + N with X = (X_B + N) + ζ z qᵀ.
    const rng = createRng(9);
    const xb = mat(
      n,
      d,
      Float64Array.from(data.xBulk.data, (v) => v + c.noise * rng.normal()),
    );
    const x = mat(n, d);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) x.data[i * d + k] = xb.data[i * d + k] + data.zeta * data.z[i] * data.q[k];
    }
    const act = resolveActivation(c.act);
    const g = gradientFloat64({ x, y: data.y }, net, act, { weightDecay: 0.1 });
    const dec = decomposeFloat64(data, g, net, xb);
    const { s1, s2 } = denseComponents(dec);
    const sum = Float64Array.from(s1.data, (v, t) => v + s2.data[t] + dec.e.data[t]);
    expect(maxAbsDiff(sum, g.dataGrad.data)).toBeLessThan(1e-10 * maxAbs(g.dataGrad.data));
    // G = G_data + 2λW.
    const total = Float64Array.from(g.dataGrad.data, (v, t) => v + 0.2 * net.w.data[t]);
    expect(maxAbsDiff(total, g.grad.data)).toBeLessThan(1e-14);
    // Brute-force S1 entry from the definition with μ_j = mean_i σ'(w_jᵀx_i).
    const j = 7;
    const k = 3;
    let mu = 0;
    for (let i = 0; i < n; i++) {
      let h = 0;
      for (let t = 0; t < d; t++) h += net.w.data[j * d + t] * x.data[i * d + t];
      mu += act.dsigma(h);
    }
    mu /= n;
    let res = 0;
    for (let i = 0; i < n; i++) res += g.residual[i] * xb.data[i * d + k];
    expect(s1.data[j * d + k]).toBeCloseTo((net.gamma / n) * net.a[j] * mu * res, 12);
    // Operator norms of the rank-one terms: largest singular value of the dense matrices.
    expect(svdTallSkinny(s1).s[0]).toBeCloseTo(dec.s1Norm, 10);
    expect(svdTallSkinny(s2).s[0]).toBeCloseTo(dec.s2Norm, 10);
    expect(svdTallSkinny(s2).s[1]).toBeLessThan(1e-12 * dec.s2Norm);
    expect(dec.errNorm).toBeCloseTo(svdTallSkinny(dec.e).s[0], 6);
  });
});

describe("rankTwoSingularValues", () => {
  it("equals the dense SVD of α1·u1v1ᵀ + α2·u2v2ᵀ (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        const rng = createRng(seed);
        const m = 6;
        const d = 5;
        const vec = (len: number) => Float64Array.from({ length: len }, () => rng.normal());
        const u1 = vec(m);
        const u2 = vec(m);
        const v1 = vec(d);
        const v2 = vec(d);
        const a = mat(m, d);
        for (let i = 0; i < m; i++)
          for (let k = 0; k < d; k++) a.data[i * d + k] = u1[i] * v1[k] + u2[i] * v2[k];
        const s = svdTallSkinny(a).s;
        const [p1, p2] = rankTwoSingularValues(u1, v1, u2, v2);
        return Math.abs(p1 - s[0]) < 1e-9 * s[0] && Math.abs(p2 - s[1]) < 1e-9 * s[0];
      }),
      { numRuns: 200 },
    );
  });

  it("keeps the relative accuracy of a tiny σ2 (nearly parallel factors, regression for the direct 2×2 formula)", () => {
    const rng = createRng(77);
    const m = 7;
    const d = 6;
    const u1 = Float64Array.from({ length: m }, () => rng.normal());
    const v1 = Float64Array.from({ length: d }, () => rng.normal());
    const u2 = Float64Array.from(u1, (x) => x + 1e-4 * rng.normal());
    const v2 = Float64Array.from(v1, (x) => -0.5 * x + 1e-4 * rng.normal());
    const a = mat(m, d);
    for (let i = 0; i < m; i++) for (let k = 0; k < d; k++) a.data[i * d + k] = u1[i] * v1[k] + u2[i] * v2[k];
    const s = svdTallSkinny(a).s;
    const [p1, p2] = rankTwoSingularValues(u1, v1, u2, v2);
    expect(Math.abs(p1 - s[0])).toBeLessThan(1e-12 * s[0]);
    expect(Math.abs(p2 - s[1])).toBeLessThan(1e-6 * s[1]);
  });
});

describe("gemm backends", () => {
  it("jax (float32) agrees with the float64 kernel to float32 accuracy, all transpose patterns", async () => {
    const jax = await createJaxGemm();
    const rng = createRng(1);
    const rand = (r: number, c: number) =>
      mat(
        r,
        c,
        Float64Array.from({ length: r * c }, () => rng.normal()),
      );
    const a = rand(23, 31);
    const b = rand(31, 17);
    const at = rand(31, 23);
    const bt = rand(17, 31);
    for (const [x, y, o] of [
      [a, b, {}],
      [at, b, { transA: true }],
      [a, bt, { transB: true }],
      [at, bt, { transA: true, transB: true }],
    ] as const) {
      const want = float64Gemm.mul(x, y, o);
      const got = jax.mul(x, y, o);
      expect(got.rows).toBe(want.rows);
      expect(got.cols).toBe(want.cols);
      // float32 products of 31 N(0,1) terms: error ≲ 31·6e-8·max|partial sum|.
      expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    }
    expect(() => float64Gemm.mul(a, a)).toThrow(/inner dimensions/);
  });
});
