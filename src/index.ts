/** @file The package's front door (`import … from "gradtrace"`): one explicit list of what the library promises.
 * Everything else under src/ is internal and may change without notice. test/package/api.test.ts snapshots this
 * list (names and kinds), so adding, removing or retyping an export is a visible decision; docs/api.md documents
 * it with examples that a test runs. */

// Analysis: a trace in, predictability and rank out.
export {
  type AnalysisGram,
  type AnalysisMode,
  type AnalysisOutput,
  type AnalysisResult,
  type AnalyzeOptions,
  type AnalyzeWithSeriesOptions,
  analyze,
  analyzeWithSeries,
  type AnalysisProblem,
  type BoundsReport,
  DEFAULT_ANALYZE_OPTIONS,
  DEFAULT_EPS,
  type MatrixGeometry,
  type MatrixGeometryError,
  type SketchReport,
  type SpectrumSummary,
  type TensorResult,
  type TensorSeries,
  type TraceSource,
  type WindowedKappa,
} from "./analysis/index.ts";
// Core: errors, the predictor registry, live accumulation, sketches and the bound calculators.
export {
  CorruptDataError,
  type CorruptionSite,
  createSketch,
  type CreateSketchOptions,
  DEFAULT_PREDICTORS,
  type ErrorCode,
  type GramExtras,
  type GramPredictorState,
  type GramReader,
  GradtraceError,
  type LaggedPredictor,
  type LaggedPredictorState,
  LiveAccumulator,
  type LiveAccumulatorOptions,
  type LivePredictorState,
  type LiveSeriesSnapshot,
  type LiveSnapshot,
  type LiveStepExtras,
  type LiveStepTerms,
  type LiveTensorSpec,
  listPredictorForms,
  type Mat,
  type MomentumCrossGram,
  type NonconvexBound,
  type NonconvexBoundOptions,
  nonconvexBound,
  type PredictionTerms,
  type PredictorDefinition,
  type PredictorFamily,
  rangeSketchOmega,
  type RegretBound,
  type RegretBoundOptions,
  registerPredictor,
  registerPredictorFamily,
  regretBound,
  resolvePredictor,
  type Sketch,
  type SketchKind,
  type SketchSeeding,
  tensorSketchSeed,
  type Vec,
} from "./core/index.ts";
// Atomic, refuse-to-overwrite file writing (what every gradtrace output goes through).
export { type WriteFileOptions, writeFileAtomic, writeJsonAtomic } from "./io/index.ts";
// Lab entry points: zoo training and the spiked two-layer lab.
export {
  runSpiked,
  runSweep,
  runZooTraining,
  type SpikedConfig,
  type SpikedResult,
  type SweepResult,
  type SweepSpec,
  ZOO_MODEL_NAMES,
  type ZooRunOptions,
  type ZooRunSummary,
} from "./lab/index.ts";
// The Redis job queue (docs/distributed.md): what the `queue` option of analyze, runSweep and the spiked
// reproduction takes (the jobs run on `gradtrace worker` processes).
export type { QueueOptions, QueueStatus } from "./parallel/index.ts";
// Reports: the terminal table, the self-contained HTML report, per-step CSV.
export { renderHtmlReport, renderTable, seriesCsv } from "./report/index.ts";
// Reproductions of the papers, and the built-in demo.
export {
  type DemoOptions,
  type DemoResult,
  type LowRankGradientsOptions,
  type LowRankGradientsResult,
  type PredictableManifoldsOptions,
  type PredictableManifoldsResult,
  reproduceLowRankGradients,
  reproducePredictableManifolds,
  runDemo,
} from "./reproduce/index.ts";
// The dashboard server.
export { type RunningServer, type ServeOptions, startServer } from "./serve/index.ts";
// Traces: opening any layout, the readers' contract, the writers, conversion.
export {
  type ConvertOptions,
  type ConvertResult,
  convertTrace,
  createGtraceWriter,
  type DType,
  type GtraceResumeInfo,
  type GtraceTensorSpec,
  type GtraceWriter,
  type GtraceWriterOptions,
  locateTrace,
  type NpyTensor,
  type OpenTraceOptions,
  openTrace,
  type RangeSketchInfo,
  type RangeSketchTensor,
  type SafetensorsTensor,
  type SketchInfo,
  type StepExtras,
  type TensorInfo,
  type TraceFormat,
  type TraceInfo,
  type TraceLocation,
  type TraceProblem,
  type TraceReader,
  type TraceWriter,
  type WriteNpzOptions,
  writeNpy,
  writeNpz,
  writeSafetensors,
} from "./trace/index.ts";
