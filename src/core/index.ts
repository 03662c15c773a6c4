/** @file Public API of the core layer: the only module other layers import. */
export { blockBootstrapRatioCI, defaultBlockLength } from "./bootstrap.ts";
export {
  type Assumption,
  BOUND_STATEMENTS,
  type ClassRegretBound,
  classRegretBound,
  EXACT_GRADIENT_ASSUMPTION,
  type NonconvexBound,
  type NonconvexBoundOptions,
  nonconvexBound,
  type RegretBound,
  type RegretBoundOptions,
  regretBound,
} from "./bounds.ts";
export {
  bucketMeans,
  bucketStart,
  type DecimatedSeries,
  decimateMinMax,
  decimateMinMaxMany,
  decimationBuckets,
} from "./decimate.ts";
export {
  CorruptDataError,
  type CorruptionSite,
  type ErrorCode,
  exitCodeFor,
  GradtraceError,
} from "./errors.ts";
export { fmtNum, formatTick } from "./format.ts";
export { GramAccumulator, type GramKernel, incrementGram } from "./gram.ts";
export {
  gramEigenvalues,
  gramSingularValues,
  type LinearOperator,
  matmul,
  randomizedSvd,
  symmetricEigen,
  transpose,
  transposeMatmul,
} from "./linalg/index.ts";
export {
  LiveAccumulator,
  type LiveAccumulatorOptions,
  type LiveHistoryState,
  type LiveSeriesSnapshot,
  type LiveSnapshot,
  type LiveTensorSpec,
} from "./live.ts";
export { type Mat, mat, type Vec } from "./matrix.ts";
export { cosineSeries, meanFinite, pathLengthsFromGram, windowedKappa } from "./pathLength.ts";
export {
  DEFAULT_PREDICTORS,
  type GramExtras,
  type GramPredictorState,
  type GramReader,
  type LaggedPredictor,
  type LaggedPredictorState,
  type LivePredictorState,
  type LiveStepExtras,
  type LiveStepTerms,
  emaBetaOf,
  listPredictorForms,
  type MomentumCrossGram,
  type PredictionTerms,
  type PredictorDefinition,
  type PredictorFamily,
  registerPredictor,
  registerPredictorFamily,
  resolvePredictor,
} from "./predictors/index.ts";
export { cssColor, interpolate as interpolateColor, type Rgb } from "./colormap.ts";
export { dot } from "./predictors/kernels.ts";
export { createRng, deriveSeed, type Rng } from "./rng.ts";
export {
  type BootstrapOptions,
  bootstrapInterval,
  type MeanInterval,
  meanInterval,
  pearson,
  ranks,
  spearman,
  studentTQuantile,
} from "./stats.ts";
export {
  type CreateSketchOptions,
  createSketch,
  energyFractionBound,
  FrequentDirections,
  HashingSketch,
  parseSketchSpec,
  rangeSketchOmega,
  ratioRelativeBound,
  SKETCH_KINDS,
  type Sketch,
  type SketchKind,
  type SketchSeeding,
  sketchSeedFor,
  sumOfSquaresBound,
  tensorSketchSeed,
} from "./sketch/index.ts";
export {
  clampGramEigenvalues,
  effectiveRank,
  type FdSpectrumInput,
  fdRankBounds,
  fdSpectrumSummary,
  participationRatio,
  predictableRank,
  type SpectrumBound,
  type SpectrumSummary,
  spectrumSummary,
  stableRank,
} from "./spectrum.ts";
export {
  DEFAULT_FD_ROWS,
  estimateStreamingBytes,
  type FdRows,
  type FdSpectrum,
  type StreamingOptions,
  type StreamingRange,
  type StreamingRangeTrack,
  type StreamingSnapshot,
  StreamingState,
  type StreamingTrack,
} from "./streaming.ts";
export { mergeFdSketches, mergeStreamingRanges } from "./streamingRanges.ts";
export { staleProjectorEnergy, subspaceDrift, topLeftSubspace } from "./subspace.ts";
export { halfToFloatWasm } from "./wasm/convert.ts";
export { type KernelFamily, requestedKernels, resolveKernels } from "./wasm/module.ts";
export { windowedPredictableRank } from "./windowedRank.ts";
