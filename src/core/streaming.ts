/** @file Streaming analysis state: everything `analyze` reports, computed one step at a time with work linear in the
 * number of steps T and memory independent of T apart from the per-step series (O(T) scalars).
 *
 * What it holds and why each part is exact or bounded:
 * - A LiveAccumulator (src/core/live.ts) over the tensors: ‖g_t‖², the error ‖g_t − m_t‖² of every predictor and the
 *   cosines. Lagged predictors (zero, last, linear, ar<p>, lowrank<k>w<w>, user ones) take their coefficients from the
 *   Gram entries of their last `lag` steps — the exact mode's own definitions and arithmetic, restricted to the only
 *   entries they may read — and EMAs / momentum carry their one-vector state; so κ equals the exact mode's up to
 *   float64 rounding of the Gram entries (tests: 1e-9).
 * - Windows: the accumulator's window ring keeps the exact Gram of the last `windowSize` steps; when a window
 *   [s, s + size) closes (s a multiple of the stride), its increments' Gram D·K_W·Dᵀ gives that window's r*(ε),
 *   exactly as windowedPredictableRank does from the full K. Windowed κ needs only the per-step series.
 * - Whole-run spectra: Frequent Directions over time (rows = steps, dim = the tensor's coordinates) of the increments
 *   h_t = g_t − g_{t−1} of every tensor and of the whole model, and of the whole model's gradients g_t (the per-tensor
 *   gradient spectra are left out: each FD costs O(ℓ·p) per step, the largest item of the pass), ℓ rows each. FD's deterministic guarantee 0 ≼ HᵀH − BᵀB,
 *   ‖HᵀH − BᵀB‖₂ ≤ Δ bounds every eigenvalue (μ_i ≤ σ_i² ≤ μ_i + Δ) and, with the exact ‖H‖_F² summed here, brackets
 *   r*(ε) (spectrum.ts: fdSpectrumSummary).
 *
 * Memory per tensor of p coordinates: window·p gradient copies (float32 for float32 input), an FD of 4ℓ·p float64
 * (ℓ sketch rows, a 2ℓ-row buffer, an ℓ-row shrink scratch), one previous gradient, one vector per EMA / momentum
 * predictor; the total (all tensors concatenated) adds 2 FDs and a previous vector of Σp. `estimateStreamingBytes`
 * states it; for very large p run the streaming state on sketched steps (k coordinates per tensor) instead.
 *
 * Per-step work is `observe`: the window Gram row (window·p multiply-adds), the predictors, and the FD row inserts
 * (ℓ·p for the projections on the sketch rows plus 1.5ℓ·p amortised for the shrinks' rotation, with the dot products
 * between buffered rows read off the window Gram); each is a plain loop over Float32/Float64 arrays
 * (LiveAccumulator.windowDots, EmaBank, FrequentDirections.update / combineRows), the places a SIMD kernel would
 * replace. */
import { GradtraceError } from "./errors.ts";
import { incrementGram } from "./gram.ts";
import { gramEigenvalues } from "./linalg/gramEigenvalues.ts";
import { LiveAccumulator, type LiveHistoryState, type LiveSnapshot, type LiveTensorSpec } from "./live.ts";
import type { Vec } from "./matrix.ts";
import { DEFAULT_PREDICTORS } from "./predictors/registry.ts";
import type { GramReader } from "./predictors/types.ts";
import { FrequentDirections, type PreviousDots } from "./sketch/frequentDirections.ts";
import { clampGramEigenvalues, type FdSpectrumInput, predictableRank } from "./spectrum.ts";

export interface StreamingOptions {
  readonly tensors: readonly LiveTensorSpec[];
  readonly predictors?: readonly string[];
  /** Window length (steps) of the windowed r*(ε); windows are [s, s + size) for s = 0, stride, 2·stride, … */
  readonly windowSize: number;
  /** Default ⌈size/2⌉, the exact mode's stride. */
  readonly windowStride?: number;
  /** ε values of the windowed r*(ε). */
  readonly eps: readonly number[];
  /** Rows ℓ of the Frequent Directions sketches over time (default 16; 0 = no whole-run spectra). */
  readonly fdRows?: number;
  /** Keep every step's cosines, for `rangeExport` (default false). */
  readonly keepCosines?: boolean;
  /** Start warming up: steps fill the window and the predictors' short memories but count nowhere until
   * `beginOutput` — a step range of a streaming analysis cut into ranges (streamingRanges.ts) first re-reads the
   * steps just before its range. */
  readonly warmUp?: boolean;
  /** The live accumulator's kernel (default: its own choice; see LiveAccumulatorOptions). */
  readonly kernel?: "js" | "wasm";
}

/** A Frequent Directions sketch with its spectrum: what a step range hands over for merging (streamingRanges.ts). */
export interface FdRows extends FdSpectrum {
  /** The sketch B, ℓ × dim row-major (rows past its rank are zero). */
  readonly sketch: Float64Array;
}

/** A Frequent Directions sketch's view of a whole-run spectrum (of the increments or of the gradients): the sketch's
 * squared singular values, its bound Δ, the exact ‖M‖_F², and the rows streamed (see spectrum.ts). */
export type FdSpectrum = FdSpectrumInput;

export interface StreamingTrack {
  readonly name: string;
  readonly numel: number;
  /** ‖g_t‖² and ‖g_t − m_t‖² per accepted step; mean cosines as in the exact mode. */
  readonly gradNormSq: Float64Array;
  readonly error: Record<string, Float64Array>;
  readonly cosineConsecutive: number;
  readonly cosinePredicted: Record<string, number>;
  /** Windowed r*(ε) keyed by String(ε), with the windows' sizes and starts (NaN for windows under two steps). */
  readonly windows: {
    size: number;
    stride: number;
    starts: number[];
    predictableRank: Record<string, number[]>;
  };
  readonly increments: FdSpectrum | null;
  /** The whole model only (null for tensors). */
  readonly gradients: FdSpectrum | null;
}

/** One track of a step range (StreamingState.rangeExport): the per-step series of the range's steps, every step's
 * cosines (NaN where undefined), the windows that end inside the range, and the range's Frequent Directions
 * sketches. */
export interface StreamingRangeTrack
  extends Omit<StreamingTrack, "cosineConsecutive" | "cosinePredicted" | "increments" | "gradients"> {
  readonly cosineConsecutive: Float64Array;
  readonly cosinePredicted: Record<string, Float64Array>;
  readonly increments: FdRows | null;
  readonly gradients: FdRows | null;
}

/** A step range's share of a streaming analysis: its tracks (tensors, then the total) for the run's accepted steps
 * [firstStep, firstStep + steps). Structured-cloneable. */
export interface StreamingRange {
  readonly firstStep: number;
  readonly steps: number;
  readonly predictors: string[];
  readonly tracks: StreamingRangeTrack[];
}

export interface StreamingSnapshot {
  readonly steps: number;
  /** Indices of `observe` calls skipped for NaN/Inf values. */
  readonly skippedSteps: number[];
  readonly predictors: string[];
  /** One per tensor, in the constructor's order, then the whole model (all tensors concatenated). */
  readonly tensors: StreamingTrack[];
  readonly total: StreamingTrack;
}

export const DEFAULT_FD_ROWS = 16;

/** Bytes the streaming state holds apart from the O(T) series (see the file comment). */
export function estimateStreamingBytes({
  tensors,
  windowSize,
  fdRows = DEFAULT_FD_ROWS,
  predictors = DEFAULT_PREDICTORS,
  bytesPerElement = 4,
}: {
  tensors: readonly LiveTensorSpec[];
  windowSize: number;
  fdRows?: number;
  predictors?: readonly string[];
  bytesPerElement?: number;
}): number {
  const p = tensors.reduce((s, t) => s + t.numel, 0);
  const vectorStates = predictors.filter(
    (id) => !/^(zero|last|linear|ar\d+|lowrank\d+w\d+)$/.test(id),
  ).length;
  // An FD holds ℓ sketch rows, a buffer of 2ℓ (ℓ when the window is too short to read dot products off) and an
  // ℓ-row scratch for its shrink, float64.
  const fd = fdRows > 0 ? (SpectrumSketches.usesWindowGram(windowSize, fdRows) ? 4 : 3) * fdRows * 8 : 0;
  // Tensors carry the window, the states, one FD and a previous vector; the total two FDs, a previous vector and
  // the increment row.
  return p * (windowSize * bytesPerElement + 8 * vectorStates + fd + 8) + p * (2 * fd + 16);
}

/** Exact r*(ε) of one window's increments from its Gram (the windowedPredictableRank arithmetic). */
function windowRanks(gram: Parameters<typeof incrementGram>[0], eps: readonly number[]): number[] {
  if (gram.rows < 2) return eps.map(() => Number.NaN);
  const sigmaSq = clampGramEigenvalues(gramEigenvalues(incrementGram(gram)));
  return eps.map((e) => predictableRank(sigmaSq, e));
}

/** FD sketches of one sequence's increments (and gradients), plus the previous gradient and ‖H‖_F², ‖G‖_F². When the
 * window Gram reaches back over a whole FD buffer, the dot products between buffered rows are read from it
 * (⟨h_t, h_s⟩ = K_ts − K_t,s−1 − K_t−1,s + K_t−1,s−1, the increments' Gram the exact mode uses too) instead of being
 * recomputed, and each shrink takes 2ℓ new rows. */
class SpectrumSketches {
  private readonly inc: FrequentDirections;
  private readonly grad: FrequentDirections | null;
  private readonly prev: Float64Array;
  private readonly diff: Float64Array;
  private incNormSq = 0;
  private gradNormSq = 0;
  private seen = 0;
  /** Reads the window Gram for the current step (null: the sketches compute their own dot products). */
  private readonly gramDots: { gram: GramReader; t: number; inc: PreviousDots; grad: PreviousDots } | null;

  constructor(
    readonly dim: number,
    readonly ell: number,
    gradients: boolean,
    gram: GramReader | null,
  ) {
    // Buffered rows reach back capacity − 1 steps; an increment's dot product needs one step more.
    const buffer = gram !== null ? 2 * ell : ell;
    this.inc = new FrequentDirections({ ell, dim, buffer });
    this.grad = gradients ? new FrequentDirections({ ell, dim, buffer }) : null;
    this.prev = new Float64Array(dim);
    this.diff = new Float64Array(dim);
    if (gram !== null) {
      const state = {
        gram,
        t: 0,
        inc: (d: number): number => {
          const t = state.t;
          const s = t - d;
          return gram.get(t, s) - gram.get(t, s - 1) - gram.get(t - 1, s) + gram.get(t - 1, s - 1);
        },
        grad: (d: number): number => gram.get(state.t, state.t - d),
      };
      this.gramDots = state;
    } else this.gramDots = null;
  }

  /** Buffered rows the FD sketches hold between shrinks when reading dot products off a window Gram of `window`
   * steps: they need window ≥ 3ℓ. */
  static usesWindowGram(window: number, ell: number): boolean {
    return window >= 3 * ell;
  }

  /** Step t (its row is in the window Gram): g as one vector, or as consecutive parts (the total: the tensors
   * concatenated, never copied into one array). */
  add(t: number, parts: readonly Vec[]): void {
    const { prev, diff } = this;
    let o = 0;
    let gs = 0;
    let hs = 0;
    for (const g of parts) {
      for (let i = 0; i < g.length; i++, o++) {
        const v = g[i];
        const d = v - prev[o];
        gs += v * v;
        hs += d * d;
        diff[o] = d;
        prev[o] = v;
      }
    }
    const dots = this.gramDots;
    if (dots) dots.t = t;
    this.gradNormSq += gs;
    // Rows go in as the float64 copy just made (FrequentDirections copies again into its buffer).
    this.grad?.update(prev, dots?.grad);
    if (this.seen > 0) {
      this.incNormSq += hs;
      this.inc.update(diff, dots?.inc);
    }
    this.seen++;
  }

  /** A warm-up step: only remembered as the previous gradient, so that the first step after the warm-up gives an
   * increment. */
  prime(parts: readonly Vec[]): void {
    let o = 0;
    for (const g of parts) {
      this.prev.set(g, o);
      o += g.length;
    }
    this.seen = 1;
  }

  /** The sketches themselves (ℓ×dim rows) with their spectra and bounds, for merging with other step ranges'. */
  export(): { increments: FdRows; gradients: FdRows | null } {
    const { increments, gradients } = this.spectra();
    return {
      increments: { ...increments, sketch: this.inc.sketch.data },
      gradients: gradients && this.grad ? { ...gradients, sketch: this.grad.sketch.data } : null,
    };
  }

  spectra(): { increments: FdSpectrum; gradients: FdSpectrum | null } {
    const view = (fd: FrequentDirections, frobeniusSq: number, count: number): FdSpectrum => ({
      rows: this.ell,
      sigmaSq: fd.sigmaSq,
      delta: fd.shrinkage,
      frobeniusSq,
      count,
      dim: this.dim,
    });
    return {
      increments: view(this.inc, this.incNormSq, this.inc.rows),
      gradients: this.grad ? view(this.grad, this.gradNormSq, this.grad.rows) : null,
    };
  }
}

export class StreamingState {
  private readonly live: LiveAccumulator;
  private readonly tensorSpecs: LiveTensorSpec[];
  private readonly eps: number[];
  private readonly size: number;
  private readonly stride: number;
  private readonly sketches: SpectrumSketches[];
  /** Per track (tensors, then total): starts and ranks of the windows closed so far. */
  private readonly starts: number[] = [];
  private readonly ranks: number[][][];
  /** Warming up (see StreamingOptions.warmUp). */
  private warming: boolean;
  /** After `beginOutput`: the run's index of local step 0 (steps are counted from the warm-up's first), and the local
   * index of the first step that counts. */
  private offset = 0;
  private outputFrom = 0;
  private resumed = false;

  constructor({
    tensors,
    predictors = DEFAULT_PREDICTORS,
    windowSize,
    windowStride,
    eps,
    fdRows,
    keepCosines = false,
    warmUp = false,
    kernel,
  }: StreamingOptions) {
    if (!(Number.isInteger(windowSize) && windowSize >= 1)) {
      throw new GradtraceError(
        "E_ARG",
        `StreamingState: windowSize must be an integer ≥ 1, got ${windowSize}`,
      );
    }
    const stride = windowStride ?? Math.max(1, Math.ceil(windowSize / 2));
    if (!(Number.isInteger(stride) && stride >= 1)) {
      throw new GradtraceError("E_ARG", `StreamingState: windowStride must be an integer ≥ 1, got ${stride}`);
    }
    const ell = fdRows ?? DEFAULT_FD_ROWS;
    if (!(Number.isInteger(ell) && ell >= 0)) {
      throw new GradtraceError("E_ARG", `StreamingState: fdRows must be an integer ≥ 0, got ${ell}`);
    }
    this.tensorSpecs = tensors.map((t) => ({ name: t.name, numel: t.numel }));
    // The ring must hold a whole window; lagged predictors with a longer lag fall back to their vector form.
    this.live = new LiveAccumulator({
      tensors,
      predictors,
      window: windowSize,
      keepCosines,
      ...(kernel ? { kernel } : {}),
    });
    this.warming = warmUp;
    this.eps = [...eps];
    this.size = windowSize;
    this.stride = stride;
    const totalNumel = tensors.reduce((s, t) => s + t.numel, 0);
    const gram = (i: number): GramReader | null =>
      SpectrumSketches.usesWindowGram(windowSize, ell) ? this.live.gramReader(i) : null;
    this.sketches =
      ell > 0
        ? [
            ...tensors.map((t, i) => new SpectrumSketches(t.numel, ell, false, gram(i))),
            new SpectrumSketches(totalNumel, ell, true, gram(tensors.length)),
          ]
        : [];
    this.ranks = Array.from({ length: tensors.length + 1 }, () => this.eps.map(() => []));
  }

  get steps(): number {
    return this.live.steps;
  }

  /** Window length and stride (steps) of the windowed r*(ε). */
  get window(): { size: number; stride: number } {
    return { size: this.size, stride: this.stride };
  }

  /** Number of windows closed so far. */
  get windowCount(): number {
    return this.starts.length;
  }

  /** The windows closed since the first `from` ones (for a caller following a growing run): their starts (accepted
   * steps) and, per track (tensors, then the total), r*(ε) per ε (in the constructor's order) per window. */
  closedWindows(from: number): { starts: number[]; predictableRank: number[][][] } {
    return {
      starts: this.starts.slice(from),
      predictableRank: this.ranks.map((perEps) => perEps.map((r) => r.slice(from))),
    };
  }

  /** Per-step ‖g_t‖² and ‖g_t − m_t‖² of one track for the accepted steps [from, to) only (see
   * LiveAccumulator.seriesRange). */
  seriesRange(
    track: number,
    from: number,
    to: number,
  ): { gradNormSq: Float64Array; error: Record<string, Float64Array> } {
    return this.live.seriesRange(track, from, to);
  }

  /** One step: every tensor's gradient by name (and the momentum buffers when a momentum predictor is on).
   * Returns false when the step was skipped for NaN/Inf values (it then counts nowhere). */
  observe(
    grads: Readonly<Record<string, Vec>>,
    extras?: { momentum?: Readonly<Record<string, Vec>> },
  ): boolean {
    if (!this.live.observe(grads, extras)) return false;
    const t = this.live.steps;
    if (this.sketches.length > 0) {
      const parts = this.tensorSpecs.map((s) => grads[s.name]);
      if (this.warming) {
        for (let i = 0; i < parts.length; i++) this.sketches[i].prime([parts[i]]);
        this.sketches[parts.length].prime(parts);
      } else {
        for (let i = 0; i < parts.length; i++) this.sketches[i].add(t - 1, [parts[i]]);
        this.sketches[parts.length].add(t - 1, parts);
      }
    }
    // Windows are aligned on the run's step indices; a resumed state closes only those its window holds whole.
    const run = t + this.offset;
    if (!this.warming && t >= this.size && (run - this.size) % this.stride === 0) {
      this.closeWindow(run - this.size, this.size);
    }
    return true;
  }

  /** Ends the warm-up: the next accepted step is the run's step `firstStep`, and the predictors that carry the whole
   * history continue from `history` (the state of a replay of the steps before it; null when no predictor carries
   * one). The warm-up must have fed at least the window's steps before it (see streamingRanges.ts). */
  beginOutput(firstStep: number, history: LiveHistoryState | null): void {
    if (!this.warming) throw new GradtraceError("E_ARG", "StreamingState.beginOutput: not warming up");
    if (history !== null && history.steps !== firstStep) {
      throw new GradtraceError(
        "E_ARG",
        `StreamingState.beginOutput: the history was saved before step ${history.steps}, not ${firstStep}`,
      );
    }
    if (history !== null) this.live.restoreHistory(history);
    this.offset = firstStep - this.live.steps;
    this.outputFrom = this.live.steps;
    this.warming = false;
    this.resumed = true;
  }

  /** The live accumulator's kernel ("js" or "wasm"), which a replay of the same steps must use to get the same bits. */
  get kernel(): "js" | "wasm" {
    return this.live.kernel;
  }

  /** The history the predictors carry (see LiveAccumulator.historyState): what a step range after this one needs. */
  historyState(): LiveHistoryState {
    return this.live.historyState();
  }

  /** Steps accepted so far, the warm-up's included. */
  get acceptedSteps(): number {
    return this.live.steps;
  }

  /** What this state computed for the steps after its warm-up (all of them without one), for merging with the other
   * step ranges of the run (mergeStreamingRanges). Needs `keepCosines`. */
  rangeExport(): StreamingRange {
    const steps = this.live.steps;
    const from = this.outputFrom;
    const windows = this.windowsView();
    const spectra = this.sketches.map((s) => s.export());
    const names = [...this.tensorSpecs.map((t) => t.name), "total"];
    const totalNumel = this.tensorSpecs.reduce((s, t) => s + t.numel, 0);
    const tracks = names.map((name, i): StreamingRangeTrack => {
      const series = this.live.seriesRange(i, from, steps);
      const cosines = this.live.cosineSeriesRange(i, from, steps);
      const predictableRank: Record<string, number[]> = {};
      this.eps.forEach((e, j) => {
        predictableRank[String(e)] = [...windows.ranks[i][j]];
      });
      return {
        name,
        numel: i < this.tensorSpecs.length ? this.tensorSpecs[i].numel : totalNumel,
        gradNormSq: series.gradNormSq,
        error: series.error,
        cosineConsecutive: cosines.consecutive,
        cosinePredicted: cosines.predicted,
        windows: { size: windows.size, stride: windows.stride, starts: [...windows.starts], predictableRank },
        increments: spectra[i]?.increments ?? null,
        gradients: spectra[i]?.gradients ?? null,
      };
    });
    return { firstStep: from + this.offset, steps: steps - from, predictors: this.live.predictorIds, tracks };
  }

  /** The closed windows; a run shorter than the window gets one window of all its steps (as the exact mode does). */
  private windowsView(): { size: number; stride: number; starts: number[]; ranks: number[][][] } {
    const steps = this.live.steps;
    if (!this.resumed && steps < this.size && steps > 0) {
      const size = steps;
      return {
        size,
        stride: Math.max(1, Math.ceil(size / 2)),
        starts: [0],
        ranks: this.ranks.map((_, track) =>
          windowRanks(this.live.recentGram(track, size), this.eps).map((v) => [v]),
        ),
      };
    }
    return { size: this.size, stride: this.stride, starts: this.starts, ranks: this.ranks };
  }

  private closeWindow(start: number, size: number): void {
    this.starts.push(start);
    // No ε (a step range's replay): no ranks, and no window Gram to copy.
    if (this.eps.length === 0) return;
    for (let track = 0; track < this.ranks.length; track++) {
      const r = windowRanks(this.live.recentGram(track, size), this.eps);
      for (let j = 0; j < r.length; j++) this.ranks[track][j].push(r[j]);
    }
  }

  /** The results so far. A run shorter than the window gets one window of all its steps (as the exact mode does). */
  snapshot(): StreamingSnapshot {
    const steps = this.live.steps;
    const { size, stride, starts, ranks } = this.windowsView();
    const live: LiveSnapshot = this.live.snapshot();
    const spectra = this.sketches.map((s) => s.spectra());
    const track = (i: number, s: LiveSnapshot["total"]): StreamingTrack => {
      const predictableRank: Record<string, number[]> = {};
      this.eps.forEach((e, j) => {
        predictableRank[String(e)] = [...ranks[i][j]];
      });
      return {
        name: s.name,
        numel: s.numel,
        gradNormSq: s.gradNormSqSeries,
        error: s.error,
        cosineConsecutive: s.cosineConsecutive,
        cosinePredicted: s.cosinePredicted,
        windows: { size, stride, starts: [...starts], predictableRank },
        increments: spectra[i]?.increments ?? null,
        gradients: spectra[i]?.gradients ?? null,
      };
    };
    return {
      steps,
      skippedSteps: live.skippedSteps,
      predictors: live.predictors,
      tensors: live.tensors.map((s, i) => track(i, s)),
      total: track(live.tensors.length, live.total),
    };
  }
}
