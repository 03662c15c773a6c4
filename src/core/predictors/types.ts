/** @file Contracts of the predictor bank. A predictor guesses g_t from g_0..g_{t−1}; the path length sums
 * ‖g_t − m_t‖². The same predictor can be evaluated three ways, and a definition offers whichever it supports:
 * - `gram` (exact mode): from the Gram matrix K_ts = ⟨g_t, g_s⟩ of a stored trace, one step at a time;
 * - `live` (live mode): from explicit vectors during training, O(p) memory (O(p·w) for windowed ones);
 * - `lagged`: a linear predictor m_t = Σ_{l=1..lag} c_l g_{t−l} whose coefficients are a function of the K entries of
 *   the last `lag` steps. From it the registry derives both `gram` and `live`, and the live accumulator evaluates it
 *   from its sliding-window Gram without touching the vectors again (see src/core/live.ts). */
import type { Mat, Vec } from "../matrix.ts";

/** ⟨m_t, g_t⟩ and ‖m_t‖²: with ‖g_t‖² = K_tt they give ‖g_t − m_t‖² = K_tt − 2·cross + normSq. */
export interface PredictionTerms {
  /** ⟨m_t, g_t⟩ */
  cross: number;
  /** ‖m_t‖² */
  normSq: number;
}

/** Exact mode. `step` is called for t = 0, 1, …, T in this order; it may read only K entries whose indices are both
 * ≤ t, and uses g_t only through ⟨m_t, g_t⟩ (the row K_{t,·} below t) — never K_tt. */
export interface GramPredictorState {
  step(t: number, k: Mat): PredictionTerms;
}

/** Per-step side information a live predictor may need (only `momentum` today). */
export interface LiveStepExtras {
  /** The optimizer's momentum buffer for this tensor *after* the optimizer step that consumed g_t (what a logger sees
   * after `optimizer.step()`); it becomes the prediction m_{t+1}. */
  momentum?: Vec;
}

/** Result of a fused live step: the prediction m_t compared with the new g_t. */
export interface LiveStepTerms extends PredictionTerms {
  /** ‖g_t − m_t‖², computed from the vectors (no cancellation). */
  error: number;
}

/** Live mode: `predict()` gives m_t (null means the zero vector) before g_t is known, then `observe(g_t)` updates the
 * state. Memory O(p) (O(p·w) for a windowed predictor). `step` is an optional fused form of
 * predict + compare + observe in a single pass over the coordinates (used by the live accumulator when present). */
export interface LivePredictorState {
  predict(): Float64Array | null;
  observe(g: Vec, extras?: LiveStepExtras): void;
  step?(g: Vec, extras?: LiveStepExtras): LiveStepTerms;
  /** The state carried from the whole history (not only from the last few steps), for a state resumed elsewhere:
   * the streaming mode's step ranges replay the history up to a range's start and hand it over (see
   * src/core/streamingRanges.ts). Absent when the state depends on a bounded number of past steps only. */
  saveHistory?(): PredictorHistory;
  restoreHistory?(history: PredictorHistory, stepOffset: number): void;
}

/** A predictor state's history as plain numbers (structured-cloneable): its vectors and scalars, and the index of the
 * next step it expects (in the indexing of the accumulator that saved it; `restoreHistory` subtracts the receiving
 * accumulator's offset). */
export interface PredictorHistory {
  readonly values: Float64Array;
  readonly nextStep: number;
}

/** Read access to Gram entries by absolute step indices (a full matrix or a ring over the last few steps). */
export interface GramReader {
  get(i: number, j: number): number;
}

/** Coefficients of a lagged linear predictor. `coefficients(t, k)` is called for t = 0, 1, … in order and returns c
 * with m_t = Σ_{l=1..c.length} c[l−1] g_{t−l} (null: m_t = 0). It may read K(i, j) only for
 * t − lag ≤ i, j ≤ t − 1: strictly the past, and never further back than `lag` steps. */
export interface LaggedPredictorState {
  coefficients(t: number, k: GramReader): Float64Array | null;
  /** Sums over the whole history the coefficients depend on (ar<p>'s normal equations), as for LivePredictorState;
   * absent when the coefficients depend on the last `lag` steps only. */
  saveHistory?(): PredictorHistory;
  restoreHistory?(history: PredictorHistory, stepOffset: number): void;
}

export interface LaggedPredictor {
  /** How many past steps the coefficients and the prediction may use. */
  readonly lag: number;
  create(): LaggedPredictorState;
}

/** Exact-mode side information for predictors that are not combinations of past gradients (momentum-matched).
 * Arrays have length T + 1, index t refers to step t, index 0 is unused (m_0 = 0). */
export interface MomentumCrossGram {
  /** ⟨g_t, b_{t−1}⟩ where b_{t−1} is the buffer logged after the optimizer step of step t − 1. */
  readonly gradDotBuffer: Float64Array;
  /** ‖b_{t−1}‖². */
  readonly bufferNormSq: Float64Array;
}

export interface GramExtras {
  momentum?: MomentumCrossGram;
}

export interface PredictorDefinition {
  /** The id as the user writes it (e.g. "ema0.9"). */
  id: string;
  description: string;
  gram?: () => GramPredictorState;
  /** Exact mode for predictors that need side information (see GramExtras). */
  gramWithExtras?: (extras: GramExtras) => GramPredictorState;
  live?: (dim: number) => LivePredictorState;
  lagged?: LaggedPredictor;
  /** True when the predictor acts coordinate-wise with coefficients that do not depend on the data (zero, last, ema,
   * linear, momentum): then its error on a concatenation of tensors is the sum of the per-tensor errors. */
  coordinatewise?: boolean;
  /** True when the live form needs `extras.momentum` at every step (the live accumulator then demands the buffer
   * for every tensor and checks it for NaN/Inf). */
  requiresMomentum?: boolean;
}
