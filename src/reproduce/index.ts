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
  GALORE_ADVICE,
  type GaloreAdviceOptions,
  reproduceGaloreAdvice,
} from "./galore-advice/reproduce.ts";
export {
  judgeLowRankGradients,
  type LowRankVerdict,
  verdictFromCases,
} from "./low-rank-gradients/judge.ts";
export { PLANS as LOW_RANK_GRADIENTS_PLANS } from "./low-rank-gradients/plan.ts";
export type { LowRankRecords } from "./low-rank-gradients/records.ts";
export {
  type LowRankGradientsOptions,
  type LowRankGradientsResult,
  reproduceLowRankGradients,
} from "./low-rank-gradients/reproduce.ts";
export {
  PREDICTABLE_MANIFOLDS_BUDGETS,
  PREDICTABLE_MANIFOLDS_PREDICTORS,
} from "./predictable-manifolds/budget.ts";
export { judge as judgePredictableManifolds } from "./predictable-manifolds/judge.ts";
export { PREDICTABLE_MANIFOLDS_QUEUE_TASKS } from "./predictable-manifolds/queueTasks.ts";
export type { RunFailure, RunRecord } from "./predictable-manifolds/records.ts";
export {
  type PredictableManifoldsOptions,
  type PredictableManifoldsResult,
  reproducePredictableManifolds,
} from "./predictable-manifolds/reproduce.ts";
export {
  type ClaimVerdict,
  REPRODUCE_BUDGET_NAMES,
  type ReproduceBudget,
  type ReproduceOptions,
  type ReproduceProgress,
  type ReproduceResult,
  type Verdict,
} from "./types.ts";
