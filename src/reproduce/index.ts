/** @file Public API of the reproductions: the papers' experiments and the built-in demo, each run → judge →
 * render, writing reports under an output folder. */
export {
  DEMO_DEFAULTS,
  type DemoOptions,
  type DemoProgress,
  type DemoResult,
  freshDirectory,
  runDemo,
} from "./demo/demo.ts";
export {
  type ClaimVerdict,
  type ReproduceBudget as LowRankGradientsBudget,
  type ReproduceOptions as LowRankGradientsOptions,
  type ReproduceResult as LowRankGradientsResult,
  reproduceLowRankGradients,
  type Verdict,
} from "./low-rank-gradients/reproduce.ts";
export {
  PREDICTABLE_MANIFOLDS_BUDGETS,
  PREDICTABLE_MANIFOLDS_PREDICTORS,
} from "./predictable-manifolds/budget.ts";
export { judge as judgePredictableManifolds } from "./predictable-manifolds/judge.ts";
export type { RunFailure, RunRecord } from "./predictable-manifolds/records.ts";
export {
  type PredictableManifoldsOptions,
  type PredictableManifoldsResult,
  reproducePredictableManifolds,
} from "./predictable-manifolds/reproduce.ts";
export {
  REPRODUCE_BUDGET_NAMES,
  type ReproduceBudget,
  type ReproduceOptions,
  type ReproduceProgress,
  type ReproduceResult,
} from "./types.ts";
