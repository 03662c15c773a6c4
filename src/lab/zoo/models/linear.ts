/** @file Two models whose gradient ranks are known in closed form (ground truth for the rank claims):
 *
 * "lowrank" — low-rank regression. Y = X B*ᵀ with B* (m×d) of rank r, a linear model y = W x ("linear.weight",
 * m×d, W0 = 0) and loss (1/2N)‖X Wᵀ − Y‖_F². The design X (N×d) is built so that Σ̂ = XᵀX/N has exactly q distinct
 * eigenvalues. Then ∇W = (W − B*) Σ̂, and for full-batch SGD or heavy-ball momentum W_t − B* = −B* p_t(Σ̂) for a
 * polynomial p_t, so
 *   - every per-step gradient matrix G_t = −B* p_t(Σ̂) Σ̂ has rank ≤ r (= r generically);
 *   - every G_t lies in span{B* P_1, …, B* P_q} (P_j the eigenprojectors of Σ̂): the gradient trajectory and its
 *     increments have rank ≤ q over any number of steps (= min(T+1, q) and min(T, q) generically).
 * Adam's elementwise normalisation breaks both statements; minibatches (batch < N) break the second.
 *
 * "deeplinear" — a 3-layer linear network y = W3 W2 W1 x (widths d → h → h → m, m < h) on x ~ N(0, I) with a
 * rank-r linear target. For a batch of B examples, ∇W_l = Σ_b δ_{l,b} a_{l−1,b}ᵀ with δ_{l,b} = (W_L⋯W_{l+1})ᵀ e_b
 * and e_b ∈ R^m the residual, so rank(∇W_l) ≤ min(m, B, d) for every layer even though W2 is h×h; with a random
 * (full-rank) initialisation the bound is attained. */
import { numpy as np } from "@jax-js/jax";
import { Matrix, QrDecomposition } from "ml-matrix";
import { createRng, type Rng } from "../../../core/index.ts";
import type { HostBatch, ZooModel } from "../model.ts";
import { linear } from "../ops.ts";
import type { ParamSpec } from "../params.ts";

export interface LowRankRegressionShape {
  readonly samples: number;
  readonly inputs: number;
  readonly outputs: number;
  /** rank r of B*. */
  readonly targetRank: number;
  /** Distinct eigenvalues q of Σ̂ (its eigenvalues are spread over [0.2, 1]). */
  readonly distinctEigenvalues: number;
}

export const LOW_RANK_SHAPE: LowRankRegressionShape = {
  samples: 256,
  inputs: 32,
  outputs: 16,
  targetRank: 2,
  distinctEigenvalues: 3,
};

function randomOrthonormal(rows: number, cols: number, rng: Rng): Matrix {
  const g = Matrix.zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) g.set(i, j, rng.normal());
  return new QrDecomposition(g).orthogonalMatrix.subMatrix(0, rows - 1, 0, cols - 1);
}

export interface LowRankRegressionModel extends ZooModel {
  readonly shape: LowRankRegressionShape;
  /** B*, m×d row-major. */
  readonly target: Float32Array;
  /** The distinct eigenvalues of Σ̂ by construction. */
  readonly eigenvalues: readonly number[];
}

export function createLowRankRegressionModel(
  shape: LowRankRegressionShape = LOW_RANK_SHAPE,
): LowRankRegressionModel {
  const { samples: n, inputs: d, outputs: m, targetRank: r, distinctEigenvalues: q } = shape;
  const rng = createRng(314_159);
  // X = sqrt(N) · U diag(s) Vᵀ with orthonormal U (N×d), orthogonal V: Σ̂ = V diag(s²) Vᵀ exactly.
  const u = randomOrthonormal(n, d, rng);
  const v = randomOrthonormal(d, d, rng);
  const eigenvalues = Array.from({ length: q }, (_, j) => (q === 1 ? 1 : 1 - (0.8 * j) / (q - 1)));
  const s = Array.from({ length: d }, (_, i) => Math.sqrt(eigenvalues[Math.floor((i * q) / d)]));
  const x = u.mulRowVector(s).mmul(v.transpose()).mul(Math.sqrt(n));
  const bStar = randomOrthonormal(m, r, rng)
    .mmul(randomOrthonormal(d, r, rng).transpose())
    .mul(Math.sqrt(m)); // m×d, rank r
  const y = x.mmul(bStar.transpose());
  const xData = Float32Array.from(x.to1DArray());
  const yData = Float32Array.from(y.to1DArray());
  const params: ParamSpec[] = [
    { name: "linear.weight", shape: [m, d], init: { kind: "constant", value: 0 } },
  ];
  return {
    name: "lowrank",
    description: `low-rank regression (d=${d}, m=${m}, rank B*=${r}, Σ̂ with ${q} distinct eigenvalues; full batch N=${n})`,
    params,
    defaults: {
      optimizer: "sgd",
      lr: { sgd: 0.2, momentum: 0.02, adam: 0.01 },
      batch: n,
      steps: 100,
      schedule: "constant",
      warmupSteps: 0,
      weightDecay: 0,
    },
    metricName: "relative residual ‖XWᵀ − Y‖/‖Y‖",
    fullBatchSize: n,
    shape,
    target: Float32Array.from(bStar.to1DArray()),
    eigenvalues,
    loss(p, [xs, ys]) {
      const b = xs.shape[0];
      const residual = linear(xs, p["linear.weight"]).sub(ys.ref);
      const sq = np.square(residual).sum();
      const rel = np.sqrt(sq.ref.div(np.square(ys).sum()));
      return [sq.mul(0.5 / b), rel];
    },
    sampleBatch(rng: Rng, size: number): HostBatch {
      if (size >= n) {
        return {
          arrays: [
            { data: xData, shape: [n, d] },
            { data: yData, shape: [n, m] },
          ],
        };
      }
      const xs = new Float32Array(size * d);
      const ys = new Float32Array(size * m);
      for (let i = 0; i < size; i++) {
        const j = rng.int(n);
        xs.set(xData.subarray(j * d, (j + 1) * d), i * d);
        ys.set(yData.subarray(j * m, (j + 1) * m), i * m);
      }
      return {
        arrays: [
          { data: xs, shape: [size, d] },
          { data: ys, shape: [size, m] },
        ],
      };
    },
    gemmFlopsPerStep: (batch) => 3 * 2 * Math.min(batch, n) * d * m,
  };
}

export interface DeepLinearShape {
  readonly inputs: number;
  readonly hidden: number;
  readonly outputs: number;
  readonly targetRank: number;
}

export const DEEP_LINEAR_SHAPE: DeepLinearShape = { inputs: 16, hidden: 32, outputs: 4, targetRank: 2 };

export function createDeepLinearModel(
  shape: DeepLinearShape = DEEP_LINEAR_SHAPE,
): ZooModel & { readonly shape: DeepLinearShape } {
  const { inputs: d, hidden: h, outputs: m, targetRank: r } = shape;
  const rng = createRng(271_828);
  const target = randomOrthonormal(m, r, rng)
    .mmul(randomOrthonormal(d, r, rng).transpose())
    .mul(Math.sqrt(m)); // m×d
  const targetT = Float32Array.from(target.transpose().to1DArray()); // d×m
  const params: ParamSpec[] = [
    { name: "layers.0.weight", shape: [h, d], init: { kind: "lecun" } },
    { name: "layers.1.weight", shape: [h, h], init: { kind: "lecun" } },
    { name: "layers.2.weight", shape: [m, h], init: { kind: "lecun" } },
  ];
  return {
    name: "deeplinear",
    description: `deep linear network ${d}→${h}→${h}→${m} on a rank-${r} linear target (gradient rank ≤ min(m, batch))`,
    params,
    defaults: {
      optimizer: "sgd",
      lr: { sgd: 0.05, momentum: 0.005, adam: 0.01 },
      batch: 32,
      steps: 200,
      schedule: "constant",
      warmupSteps: 0,
      weightDecay: 0,
    },
    metricName: "relative residual ‖ŷ − y‖/‖y‖",
    shape,
    loss(p, [xs, tT]) {
      const b = xs.shape[0];
      const ys = np.matmul(xs.ref, tT);
      const out = linear(
        linear(linear(xs, p["layers.0.weight"]), p["layers.1.weight"]),
        p["layers.2.weight"],
      );
      const sq = np.square(out.sub(ys.ref)).sum();
      const rel = np.sqrt(sq.ref.div(np.square(ys).sum()));
      return [sq.mul(0.5 / b), rel];
    },
    sampleBatch(rng: Rng, size: number): HostBatch {
      const xs = new Float32Array(size * d);
      for (let i = 0; i < xs.length; i++) xs[i] = rng.normal();
      return {
        arrays: [
          { data: xs, shape: [size, d] },
          { data: targetT, shape: [d, m] },
        ],
      };
    },
    gemmFlopsPerStep: (batch) => 3 * 2 * batch * (d * h + h * h + h * m),
  };
}
