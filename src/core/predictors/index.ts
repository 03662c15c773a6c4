/** @file Public surface of the predictor bank. */
export { ArState, arLagged, solveSpd } from "./ar.ts";
export { emaBetaOf, emaPredictor, lastPredictor, linearPredictor, zeroPredictor } from "./basic.ts";
export { EmaBank, EmaScalars } from "./emaBank.ts";
export { GramRing, matReader } from "./gramRing.ts";
export { laggedGram, laggedLive, laggedTerms } from "./lagged.ts";
export { LOWRANK_RELATIVE_TOLERANCE, lowrankCoefficients, lowrankLagged } from "./lowrank.ts";
export { momentumCrossGram, momentumPredictor } from "./momentum.ts";
export {
  DEFAULT_PREDICTORS,
  listPredictorForms,
  type PredictorFamily,
  registerPredictor,
  registerPredictorFamily,
  resolvePredictor,
} from "./registry.ts";
export type {
  GramExtras,
  GramPredictorState,
  GramReader,
  LaggedPredictor,
  LaggedPredictorState,
  LivePredictorState,
  LiveStepExtras,
  LiveStepTerms,
  MomentumCrossGram,
  PredictionTerms,
  PredictorDefinition,
} from "./types.ts";
