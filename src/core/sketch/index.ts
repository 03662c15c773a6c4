/** @file Random sketches (dense Gaussian JL, CountSketch, sparse JL, block SRHT) for models too large to keep the
 * trace, Frequent Directions for streaming subspaces, and the sketched trace whose Gram feeds the metrics. */

export {
  chebyshevErrorBound,
  energyFractionBound,
  energyFractionLowerBound,
  jlErrorBound,
  ratioRelativeBound,
  type SumOfSquaresBoundOptions,
  sumOfSquaresBound,
} from "./bounds.ts";
export { SHARED_CACHE_BYTES, sharedCacheFreeBytes } from "./common.ts";
export { type CreateSketchOptions, createSketch, parseSketchSpec } from "./create.ts";
export { FrequentDirections, type FrequentDirectionsOptions } from "./frequentDirections.ts";
export { GaussianSketch, type GaussianSketchOptions, JL_BLOCK_COLUMNS } from "./gaussian.ts";
export { DEFAULT_SPARSITY, HashingSketch, type HashingSketchOptions, sparsityFor } from "./hashing.ts";
export { SketchedTrace, type SketchedTraceOptions, sketchGram } from "./sketchedTrace.ts";
export { fwht, SrhtSketch, type SrhtSketchOptions } from "./srht.ts";
export type { ErrorBoundOptions, Sketch, SketchGuarantee, SketchKind } from "./types.ts";
export { SKETCH_KINDS } from "./types.ts";
export { type SketchSeeding, sketchSeedFor, tensorSketchSeed } from "./seeding.ts";
export { rangeSketchOmega } from "./rangeOmega.ts";
