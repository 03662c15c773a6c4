/** @file Public API of the analysis layer. */
export {
  type AnalysisGram,
  type AnalysisOutput,
  type AnalyzeOptions,
  type AnalyzeWithSeriesOptions,
  analyze,
  analyzeWithSeries,
  DEFAULT_ANALYZE_OPTIONS,
  DEFAULT_EPS,
  DEFAULT_WINDOW,
  defaultWindow,
  resolveMode,
  type StreamingCheckpoint,
  streamingOutput,
  type TraceSource,
} from "./analyze.ts";
export type { TensorSeries } from "./fromGram.ts";
export { IncrementalAnalysis } from "./incremental.ts";
export { accumulateGrams, sumGrams } from "./gramPass.ts";
export { BLOCK_QUEUE_TASKS } from "./queueTasks.ts";
export { matrixGeometry } from "./matrixGeometry.ts";
export { type RangeGeometryOptions, rangeGeometry } from "./rangeGeometry.ts";
export { compilePattern, selectTensors } from "./select.ts";
export { sketchBounds } from "./sketchBounds.ts";
export { INITIAL_TERM_DOMINANCE, initialTermDominates, initialTermShare } from "./summary.ts";
export type * from "./types.ts";
export type {
  AnalysisResult,
  MatrixGeometry,
  MatrixGeometryError,
  SketchReport,
  SpectrumSummary,
  TensorResult,
  WindowedKappa,
} from "./types.ts";
export {
  ADVISE_CAVEAT,
  ADVISE_SCHEMA_VERSION,
  type AdviseOptions,
  type AdviseProgress,
  type AdviseResult,
  advise,
  capturedEnergySeries,
  DEFAULT_ADVISE_OPTIONS,
  type EnergySeries,
  type EnergySource,
  fullStateSize,
  type OrientedSteps,
  projectedStateSize,
  svdFlops,
  type TensorAdvice,
  type TensorAdviceChoice,
  type UniformSetting,
} from "./advise/index.ts";
