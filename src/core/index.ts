/** @file Public API of the core layer: the only module other layers import. */
export { blockBootstrapRatioCI } from "./bootstrap.ts";
export {
  type Assumption,
  BOUND_STATEMENTS,
  type ClassRegretBound,
  classRegretBound,
  EXACT_GRADIENT_ASSUMPTION,
  nonconvexBound,
  regretBound,
} from "./bounds.ts";
export { type DecimatedSeries, decimateMinMax } from "./decimate.ts";
export { type ErrorCode, exitCodeFor, GradtraceError } from "./errors.ts";
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
export { LiveAccumulator, type LiveSnapshot } from "./live.ts";
export { type Mat, mat } from "./matrix.ts";
export { cosineSeries, meanFinite, pathLengthsFromGram, windowedKappa } from "./pathLength.ts";
export {
  DEFAULT_PREDICTORS,
  type GramExtras,
  listPredictorForms,
  type MomentumCrossGram,
  resolvePredictor,
} from "./predictors/index.ts";
export { dot } from "./predictors/kernels.ts";
export { createRng, deriveSeed, type Rng } from "./rng.ts";
export {
  createSketch,
  energyFractionBound,
  FrequentDirections,
  parseSketchSpec,
  ratioRelativeBound,
  SKETCH_KINDS,
  type Sketch,
  type SketchKind,
  sumOfSquaresBound,
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
  type FdSpectrum,
  type StreamingOptions,
  type StreamingSnapshot,
  StreamingState,
  type StreamingTrack,
} from "./streaming.ts";
export { staleProjectorEnergy, topLeftSubspace } from "./subspace.ts";
export { windowedPredictableRank } from "./windowedRank.ts";
