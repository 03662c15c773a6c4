/** @file The contract every random sketch implements: a fixed linear map S ∈ R^{k×dim}, generated from a seed, that
 * can be applied to a vector that arrives slice by slice (tensor by tensor, block by block). Because S is linear,
 * the sketch of the concatenated model vector is the sum of the sketches of its slices at their offsets; every
 * implementation guarantees the result does not depend on how the vector was sliced. */
import type { Vec } from "../matrix.ts";

export type SketchKind = "jl" | "countsketch" | "sparsejl" | "srht";

/* Per-tensor and whole-model sketches from one S. Accumulating each tensor's slice at its model offset into its own
 * k-vector gives S[:, tensor]·g_tensor, which is itself a sketch of that tensor of the same kind (a column subset of
 * a Gaussian / hashing / block-SRHT matrix keeps the unbiasedness and the variance bound), and the model's sketch is
 * the sum of the tensors'. So one seed and one dim = total parameter count serve both levels. */

export const SKETCH_KINDS: readonly SketchKind[] = ["jl", "countsketch", "sparsejl", "srht"];

/**
 * How the stated error bound is backed:
 * - "proven": the tail bound is a theorem for this construction (dense Gaussian JL: exact χ² tails).
 * - "variance-matched": the second moment is proven equal or below the Gaussian one (Var‖Sx‖² ≤ 2‖x‖⁴/k), and the
 *   Gaussian tail is stated for vectors whose energy is spread over many coordinates (‖x‖∞² ≪ ‖x‖²), which is the
 *   regime of model gradients; a vector concentrated on a few coordinates can exceed it. `chebyshevBound` is the
 *   bound that holds for every vector.
 */
export type SketchGuarantee = "proven" | "variance-matched";

export interface ErrorBoundOptions {
  /** Failure probability: all `pairs` quantities are within ε at once with probability ≥ 1 − delta. */
  readonly delta: number;
  /** Number of inner products / squared norms that must hold simultaneously (union bound). */
  readonly pairs: number;
}

export interface Sketch {
  readonly kind: SketchKind;
  /** Sketch dimension (rows of S). */
  readonly k: number;
  readonly seed: number;
  /** Input dimension (columns of S): the model (or tensor) size p. */
  readonly dim: number;
  readonly guarantee: SketchGuarantee;
  /** out += S[:, offset : offset + x.length] · x. Accumulates in float64; `out` must have length k. */
  accumulate(x: Vec, offset: number, out: Float64Array): void;
  /** S·x for a whole vector of length dim. */
  apply(x: Vec): Float64Array;
  /**
   * ε such that with probability ≥ 1 − delta all `pairs` squared norms satisfy |‖Sx‖² − ‖x‖²| ≤ ε‖x‖² and all
   * inner products satisfy |⟨Sx, Sy⟩ − ⟨x, y⟩| ≤ ε‖x‖‖y‖. See bounds.ts for the derivation and `guarantee`.
   */
  errorBound(options: ErrorBoundOptions): number;
  /** The same statement from Chebyshev's inequality and the proven variance; holds for every vector, but loose. */
  chebyshevBound(options: ErrorBoundOptions): number;
}
