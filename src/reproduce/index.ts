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
export { GALORE_ADVICE, reproduceGaloreAdvice } from "./galore-advice/reproduce.ts";
export {
  type ClaimVerdict,
  type ReproduceBudget as LowRankGradientsBudget,
  type ReproduceOptions as LowRankGradientsOptions,
  type ReproduceResult as LowRankGradientsResult,
  reproduceLowRankGradients,
  type Verdict,
} from "./low-rank-gradients/reproduce.ts";
export {
  REPRODUCE_BUDGETS,
  REPRODUCE_PREDICTORS,
  type ReproduceBudget as PredictableManifoldsBudget,
  type ReproduceOptions as PredictableManifoldsOptions,
  type ReproduceProgress as PredictableManifoldsProgress,
  type ReproduceResult as PredictableManifoldsResult,
  reproducePredictableManifolds,
} from "./predictable-manifolds/reproduce.ts";
export {
  type ClaimVerdict as SharedClaimVerdict,
  REPRODUCE_BUDGET_NAMES,
  type ReproduceBudget,
  type ReproduceOptions,
  type ReproduceProgress,
  type ReproduceResult,
  type Verdict as SharedVerdict,
} from "./types.ts";
