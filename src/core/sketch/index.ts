/** @file Random sketches (dense Gaussian JL, CountSketch, sparse JL, block SRHT) for models too large to keep the
 * trace, Frequent Directions for streaming subspaces, and the sketched trace whose Gram feeds the metrics. */
export type { ErrorBoundOptions, Sketch, SketchGuarantee, SketchKind } from "./types.ts";
export { SKETCH_KINDS } from "./types.ts";
export { createSketch, parseSketchSpec, type CreateSketchOptions } from "./create.ts";
export { GaussianSketch, JL_BLOCK_COLUMNS, type GaussianSketchOptions } from "./gaussian.ts";
export { HashingSketch, sparsityFor, DEFAULT_SPARSITY, type HashingSketchOptions } from "./hashing.ts";
export { SrhtSketch, fwht, type SrhtSketchOptions } from "./srht.ts";
export {
  jlErrorBound,
  chebyshevErrorBound,
  ratioRelativeBound,
  energyFractionBound,
  energyFractionLowerBound,
  sumOfSquaresBound,
  type SumOfSquaresBoundOptions,
} from "./bounds.ts";
export { FrequentDirections, type FrequentDirectionsOptions } from "./frequentDirections.ts";
export { SHARED_CACHE_BYTES, sharedCacheFreeBytes } from "./common.ts";
export { SketchedTrace, sketchGram, type SketchedTraceOptions } from "./sketchedTrace.ts";
