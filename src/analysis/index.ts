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
