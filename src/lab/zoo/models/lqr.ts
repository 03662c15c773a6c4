/** @file Policy-gradient control of a linear-quadratic regulator with a known optimum. A static linear policy
 * u = −Kx ("policy.K", m×n) is trained by gradient descent on the H-step rollout cost
 * (1/B) Σ_b Σ_{t<H} (x_tᵀQx_t + u_tᵀRu_t) from B sampled initial states x0 ~ N(0, I) — the model-based policy
 * gradient of Fazel et al. (2018), with minibatch noise from the sampled x0. The optimum of the infinite-horizon
 * problem is the Riccati gain K* (riccati.ts); the metric is the relative excess cost J(K)/J(K*) − 1 evaluated
 * exactly (x0 = the n unit vectors, i.e. E[x0x0ᵀ] = I) over the same horizon. */
import { numpy as np } from "@jax-js/jax";
import { createRng, type Rng } from "../../../core/index.ts";
import type { HostBatch, ZooModel } from "../model.ts";
import type { ParamSpec } from "../params.ts";
import { type LqrProblem, policyCost, solveDiscreteRiccati } from "../riccati.ts";

export const LQR_STATES = 4;
export const LQR_INPUTS = 2;
export const LQR_HORIZON = 60;

/** A fixed, open-loop stable but lightly damped system (spectral radius ≈ 0.95), so K = 0 is a valid start and
 * the optimum is far from it. Drawn from a fixed seed so every run and test sees the same problem. */
export function lqrProblem(): LqrProblem {
  const rng = createRng(20_240_611);
  const n = LQR_STATES;
  const m = LQR_INPUTS;
  // Block-diagonal rotations scaled by 0.95 (two lightly damped oscillators), plus a small random coupling.
  const a: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const angles = [0.3, 0.7];
  for (let blk = 0; blk < n / 2; blk++) {
    const c = 0.95 * Math.cos(angles[blk]);
    const s = 0.95 * Math.sin(angles[blk]);
    a[2 * blk][2 * blk] = c;
    a[2 * blk][2 * blk + 1] = -s;
    a[2 * blk + 1][2 * blk] = s;
    a[2 * blk + 1][2 * blk + 1] = c;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i][j] += 0.02 * rng.normal();
  const b = Array.from({ length: n }, () => Array.from({ length: m }, () => 0.5 * rng.normal()));
  const q = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  const r = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? 0.1 : 0)));
  return { a, b, q, r };
}

const PARAMS: readonly ParamSpec[] = [
  { name: "policy.K", shape: [LQR_INPUTS, LQR_STATES], init: { kind: "constant", value: 0 } },
];

export interface LqrModel extends ZooModel {
  readonly problem: LqrProblem;
  readonly optimalGain: number[][];
  /** Infinite-horizon optimal cost tr(P*) for E[x0x0ᵀ] = I. */
  readonly optimalCost: number;
}

/** `horizon`: rollout length (default 60; the gradient tests use a shorter one to keep eager autodiff fast). */
export function createLqrModel({ horizon = LQR_HORIZON }: { horizon?: number } = {}): LqrModel {
  const problem = lqrProblem();
  const { k: optimalGain, p } = solveDiscreteRiccati(problem);
  const optimalCost = p.reduce((s, row, i) => s + row[i], 0);
  if (!Number.isFinite(policyCost(problem, optimalGain)))
    throw new Error("unreachable: K* must be stabilising");
  const n = LQR_STATES;
  const m = LQR_INPUTS;
  const flat = (rows: number[][]) => Float32Array.from(rows.flat());
  const aT = flat(problem.a[0].map((_, j) => problem.a.map((row) => row[j]))); // Aᵀ, n×n
  const bT = flat(problem.b[0].map((_, j) => problem.b.map((row) => row[j]))); // Bᵀ, m×n
  const qm = flat(problem.q);
  const rm = flat(problem.r);
  const eye = flat(problem.q.map((row, i) => row.map((_, j) => (i === j ? 1 : 0))));
  return {
    name: "lqr",
    description: `LQR policy gradient (n=${n}, m=${m}, horizon ${horizon}); optimum from the Riccati equation`,
    params: PARAMS,
    defaults: {
      optimizer: "adam",
      lr: { adam: 0.02, momentum: 3.5e-4, sgd: 1e-3 },
      batch: 16,
      steps: 300,
      schedule: "constant",
      warmupSteps: 0,
      weightDecay: 0,
    },
    metricName: "relative excess cost J(K)/J(K*) − 1",
    problem,
    optimalGain,
    optimalCost,
    loss(params, [x0, aTr, bTr, q, r, unit, lossWeights, metricWeights]) {
      // Rows 0..B−1: sampled initial states (the training objective); rows B..B+n−1: unit vectors (exact metric).
      // The two parts are separated by multiplying with 0/1 weight columns rather than slicing: jax-js 0.1.25's
      // jit returns a wrong gradient for a slice whose cotangent is a constant (see docs/zoo.md).
      let x = np.concatenate([x0, unit], 0);
      const negKT = np.matrixTranspose(params["policy.K"]).mul(-1); // u = x (−Kᵀ) for row vectors
      let perRow: np.Array | null = null;
      for (let t = 0; t < horizon; t++) {
        const u = np.matmul(x.ref, negKT.ref);
        const stage = np
          .matmul(x.ref, q.ref)
          .mul(x.ref)
          .sum(1)
          .add(np.matmul(u.ref, r.ref).mul(u.ref).sum(1));
        perRow = perRow === null ? stage : perRow.add(stage);
        x = np.matmul(x, aTr.ref).add(np.matmul(u, bTr.ref));
      }
      x.dispose();
      negKT.dispose();
      aTr.dispose();
      bTr.dispose();
      q.dispose();
      r.dispose();
      const rows = perRow!.reshape([1, -1]);
      const loss = np.matmul(rows.ref, lossWeights).reshape([]);
      const exact = np.matmul(rows, metricWeights).reshape([]);
      return [loss, exact.mul(1 / optimalCost).sub(1)];
    },
    sampleBatch(rng: Rng, size: number): HostBatch {
      const x0 = new Float32Array(size * n);
      for (let i = 0; i < x0.length; i++) x0[i] = rng.normal();
      // The loss averages the sampled rows; the exact metric sums the unit-vector rows.
      const lossWeights = new Float32Array(size + n);
      const metricWeights = new Float32Array(size + n);
      lossWeights.fill(1 / size, 0, size);
      metricWeights.fill(1, size);
      return {
        arrays: [
          { data: x0, shape: [size, n] },
          { data: aT, shape: [n, n] },
          { data: bT, shape: [m, n] },
          { data: qm, shape: [n, n] },
          { data: rm, shape: [m, m] },
          { data: eye, shape: [n, n] },
          { data: lossWeights, shape: [size + n, 1] },
          { data: metricWeights, shape: [size + n, 1] },
        ],
      };
    },
    gemmFlopsPerStep(batch) {
      const rows = batch + n;
      return 3 * horizon * 2 * rows * (n * m + n * n + n * n + m * n + m * m);
    },
  };
}
