/** @file Public API of the GaLore advisor: captured energy E(r, Δ) of stale projectors, per-tensor advice, costs. */
export {
  type AdviseOptions,
  type AdviseProgress,
  advise,
  DEFAULT_ADVISE_OPTIONS,
  defaultRanks,
} from "./advise.ts";
export { chooseSetting, uniformRankNearest, uniformStateSize } from "./choose.ts";
export { fullStateSize, projectedStateSize, projectionSaves, svdFlops } from "./cost.ts";
export {
  capturedEnergySeries,
  type EnergySeries,
  type EnergySeriesOptions,
  type OrientedSteps,
} from "./energy.ts";
export { ADVISE_CAVEAT, galoreSnippet } from "./snippet.ts";
export type * from "./types.ts";
export { ADVISE_SCHEMA_VERSION } from "./types.ts";
export { type SketchedEnergy, sketchedEnergy } from "./sketched.ts";
