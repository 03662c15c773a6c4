/** @file What the predictable-manifolds reproduction runs: the grid of each budget (models × optimizers × seeds,
 * steps per model), the predictors and ε values it reports, the sketch it checks, and which models are real
 * networks and which are low-rank by construction (the "low-rank over time" claim is judged on them separately). */
import { DEFAULT_PREDICTORS } from "../../core/index.ts";
import type { OptimizerName, ZooModelName } from "../../lab/index.ts";
import type { ReproduceBudget } from "../types.ts";

export interface BudgetSpec {
  readonly models: readonly ZooModelName[];
  readonly optimizers: readonly OptimizerName[];
  readonly seeds: readonly number[];
  /** Optimizer steps per model (T + 1 = steps gradients are logged). */
  readonly steps: Readonly<Record<ZooModelName, number>>;
}

/** Trained networks on real data (MNIST digits, English text): what the paper's claims are about. */
export const REAL_NETWORKS: readonly ZooModelName[] = ["cnn", "vit", "mlp", "charlm", "gpt2"];
/** Models whose gradient trajectories are low-rank by construction (closed forms in docs/zoo.md) or tiny (the
 * 8-parameter LQR policy): controls for the rank claims, judged apart from the real networks. */
export const BY_CONSTRUCTION: readonly ZooModelName[] = ["lqr", "lowrank", "deeplinear"];

export type ModelCategory = "network" | "construction";

export function modelCategory(model: string): ModelCategory {
  return (REAL_NETWORKS as readonly string[]).includes(model) ? "network" : "construction";
}

const ALL_MODELS: readonly ZooModelName[] = [...REAL_NETWORKS, ...BY_CONSTRUCTION];
const ALL_OPTIMIZERS: readonly OptimizerName[] = ["sgd", "momentum", "adam"];

/** "smoke" is for tests (seconds); "quick" is sized for ~15 minutes on 2 free cores; "full" is the grid of
 * docs/reproductions/predictable-manifolds.md (its wall time is stated there). */
export const PREDICTABLE_MANIFOLDS_BUDGETS: Readonly<Record<ReproduceBudget, BudgetSpec>> = {
  smoke: {
    models: ["lowrank", "deeplinear"],
    optimizers: ["sgd", "adam"],
    seeds: [0, 1],
    steps: { cnn: 20, vit: 20, mlp: 20, charlm: 20, gpt2: 20, lqr: 20, lowrank: 24, deeplinear: 24 },
  },
  quick: {
    models: ALL_MODELS,
    optimizers: ALL_OPTIMIZERS,
    seeds: [0, 1, 2],
    steps: { cnn: 100, vit: 100, mlp: 100, charlm: 100, gpt2: 100, lqr: 150, lowrank: 100, deeplinear: 150 },
  },
  full: {
    models: ALL_MODELS,
    optimizers: ALL_OPTIMIZERS,
    seeds: [0, 1, 2],
    steps: { cnn: 400, vit: 400, mlp: 400, charlm: 400, gpt2: 400, lqr: 400, lowrank: 300, deeplinear: 400 },
  },
};

/** The one-step and EMA predictors the "κ near 1" claim is about, by EMA reading (docs: both are reported). */
export const TRACKERS = {
  last: ["last"],
  ema: ["ema0.5", "ema0.9", "ema0.99"],
  emaZero: ["ema0.5z", "ema0.9z", "ema0.99z"],
} as const;

/** Predictors whose κ is reported: the default set, the zero-initialised EMAs (the other reading of the paper's
 * EMA) and the optimizer's own momentum buffer (absent for plain SGD). */
export const PREDICTABLE_MANIFOLDS_PREDICTORS: readonly string[] = [
  ...DEFAULT_PREDICTORS.slice(0, 5),
  ...TRACKERS.emaZero,
  ...DEFAULT_PREDICTORS.slice(5),
  "momentum",
];

/** ε values of r*(ε) in the report. */
export const EPS: readonly number[] = [0.1, 0.01];

/** The random projection the "diagnosable through random projections" claim is checked with: a sparse JL sketch
 * (8 nonzeros per column, O(8p) per step) of k = 1024, the top of the spec's 256..1024 range: its stated error
 * bounds are informative there, while at k = 256 they exceed 100 % relative error for κ. */
export const SKETCH = "sparsejl:1024";

/** Confidence of every stated sketch bound in the report. */
export const SKETCH_CONFIDENCE = 0.95;
