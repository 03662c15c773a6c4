/** @file Live accumulator: path lengths, κ, cosines and a sliding-window Gram computed during training, one step at
 * a time, per tensor and for the whole model (all tensors concatenated into one vector per step).
 *
 * How each predictor is evaluated (chosen once, in the constructor; see `LiveSnapshot.modes`):
 * - "window-gram": lagged linear predictors (zero, last, linear, ar<p>, lowrank<k>w<w>, and user ones) whose lag fits
 *   in the window. The accumulator computes ⟨g_t, g_s⟩ for the kept window anyway (it reports that Gram); the
 *   predictor's coefficients and ‖g_t − m_t‖² then follow from those numbers with no extra pass over the vector —
 *   exactly the exact-mode arithmetic restricted to the last `window` steps. For the model total the window Gram is
 *   the sum of the per-tensor window Grams, so ar/lowrank fit their own coefficients on the concatenated vector at
 *   no extra memory.
 * - "vector": the predictor's own live state (ema<β>, momentum, lagged ones whose lag exceeds the window, user live
 *   predictors), O(p) floats per tensor. For the total: predictors flagged `coordinatewise` (same coefficients on
 *   every coordinate) have total error = Σ per-tensor errors, ⟨m, g⟩ and ‖m‖² likewise ("sum"); any other
 *   vector-mode predictor gets a separate state on the concatenated gradient ("concatenated"), which costs one
 *   extra buffer of Σ numel floats plus that state's own memory, and receives no extras.
 * Memory: window × p gradient copies (in the input's float type) + O(p) per vector-mode predictor + O(T) scalars
 * for the per-step series; never O(p·T).
 *
 * Step indexing: t counts accepted steps (0, 1, …); skipped steps do not exist for the metrics.
 * NaN/Inf policy: a step in which any tensor (or its momentum buffer, when a momentum predictor is on) contains a
 * NaN or ±Inf, or whose squared norm overflows, is skipped for every tensor and the total, and its call index (the
 * 0-based count of `observe` calls) is recorded in `skippedSteps`; the sums are never poisoned.
 * Storage type: window copies are float32 when the first gradient of a tensor is a Float32Array, else float64; a
 * later float64 gradient upgrades that tensor's copies to float64 so nothing is rounded. */
import { GradtraceError } from "./errors.ts";
import { type Mat, mat, type Vec } from "./matrix.ts";
import { kappaReport } from "./pathLength.ts";
import { emaBetaOf } from "./predictors/basic.ts";
import { EmaBank, EmaScalars } from "./predictors/emaBank.ts";
import { GramRing } from "./predictors/gramRing.ts";
import { compareWithPrediction } from "./predictors/kernels.ts";
import { laggedTerms } from "./predictors/lagged.ts";
import { DEFAULT_PREDICTORS, resolvePredictor } from "./predictors/registry.ts";
import type {
  GramReader,
  LaggedPredictorState,
  PredictorHistory,
  LivePredictorState,
  LiveStepExtras,
  LiveStepTerms,
  PredictorDefinition,
} from "./predictors/types.ts";
import { WASM_LIVE_MAX_BYTES, WasmLiveTensor } from "./wasm/live.ts";
import { resolveKernels } from "./wasm/module.ts";

export interface LiveTensorSpec {
  name: string;
  numel: number;
}

export interface LiveAccumulatorOptions {
  tensors: readonly LiveTensorSpec[];
  /** Predictor ids (see listPredictorForms()). */
  predictors?: readonly string[];
  /** Number of most recent steps whose vectors are kept and whose exact Gram is reported (≥ 1). */
  window?: number;
  /** "wasm" (default unless GRADTRACE_KERNELS=js): the fused WebAssembly update for float32 gradients; "js": the
   * plain-JavaScript reference. */
  kernel?: "js" | "wasm";
  /** wasm kernel: steps buffered before one fused pass processes them (default 8; `snapshot()` processes what is
   * buffered). Costs `batch` more float32 copies of each tensor; 1 processes every step as it comes. */
  batch?: number;
  /** Keep every step's cosines (⟨g_t, g_{t−1}⟩ and ⟨g_t, m_t⟩ normalised), not only their running means: what a step
   * range of the streaming mode hands over so that the ranges' means add up bit for bit (default false). */
  keepCosines?: boolean;
}

export type LiveEvaluationMode = "window-gram" | "vector" | "sum" | "concatenated";

export interface LiveSeriesSnapshot {
  name: string;
  numel: number;
  steps: number;
  /** Σ_t ‖g_t‖². */
  gradNormSq: number;
  /** ‖g_t‖² per accepted step. */
  gradNormSqSeries: Float64Array;
  pathLength: Record<string, number>;
  /** NaN when all gradients are zero (see kappaFlags). */
  kappa: Record<string, number>;
  kappaFlags: Record<string, string>;
  /** ‖g_t − m_t‖² per accepted step. */
  error: Record<string, Float64Array>;
  /** Mean of cos(g_t, g_{t−1}) over t ≥ 1 where defined (NaN if never). */
  cosineConsecutive: number;
  /** Mean of cos(g_t, m_t) over steps where both are non-zero. */
  cosinePredicted: Record<string, number>;
  /** Accepted-step indices of the window, oldest first, and their exact Gram in that order. */
  windowSteps: number[];
  windowGram: Mat;
}

export interface LiveSnapshot {
  steps: number;
  /** Call indices of `observe` calls skipped for non-finite values. */
  skippedSteps: number[];
  predictors: string[];
  /** How each predictor is evaluated: per tensor, and for the total. */
  modes: Record<string, { tensor: LiveEvaluationMode; total: LiveEvaluationMode }>;
  tensors: LiveSeriesSnapshot[];
  total: LiveSeriesSnapshot;
}

/** What `LiveAccumulator.historyState` saves: per track (tensors in order, then the total) the history of each
 * predictor that carries one, by id; and the accepted steps so far. Structured-cloneable. */
export interface LiveHistoryState {
  readonly steps: number;
  readonly tracks: readonly Readonly<Record<string, PredictorHistory>>[];
}

/** A Float64Array that grows by doubling (per-step series are O(T) scalars). */
class Series {
  private data = new Float64Array(64);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
  /** A copy of entries [from, to) (clamped to the length). */
  slice(from: number, to: number): Float64Array {
    return this.data.slice(Math.max(0, from), Math.min(to, this.length));
  }
}

/** The mean of the cosines recorded so far, as a running sum (and, when kept, every step's cosine: NaN where none
 * was defined, so that a run cut into step ranges adds its ranges' cosines in the same order — the same mean, bit for
 * bit — see streamingRanges.ts). */
class CosineMean {
  sum = 0;
  count = 0;
  readonly series: Series | null;
  constructor(keep: boolean) {
    this.series = keep ? new Series() : null;
  }
  /** Adds cos(a, b) = dot / d when d > 0 (clamped to [−1, 1]); otherwise the step has none. */
  add(dot: number, d: number): void {
    if (d > 0) {
      const c = Math.max(-1, Math.min(1, dot / d));
      this.sum += c;
      this.count++;
      this.series?.push(c);
    } else this.series?.push(Number.NaN);
  }
  get mean(): number {
    return this.count > 0 ? this.sum / this.count : Number.NaN;
  }
}

class PredictorRecord {
  readonly error = new Series();
  readonly cosine: CosineMean;
  constructor(keepCosines: boolean) {
    this.cosine = new CosineMean(keepCosines);
  }
  record(gradNormSq: number, terms: LiveStepTerms): void {
    this.error.push(terms.error);
    this.cosine.add(terms.cross, Math.sqrt(gradNormSq) * Math.sqrt(terms.normSq));
  }
}

/** Everything kept for one tensor or for the total, apart from the vectors. */
class Track {
  readonly gram: GramRing;
  readonly gradNormSq = new Series();
  readonly records: PredictorRecord[];
  readonly lagged: (LaggedPredictorState | null)[];
  readonly consecutive: CosineMean;

  constructor(
    readonly name: string,
    readonly numel: number,
    readonly window: number,
    definitions: readonly PredictorDefinition[],
    useWindowGram: readonly boolean[],
    keepCosines: boolean,
  ) {
    this.gram = new GramRing(window + 1);
    this.consecutive = new CosineMean(keepCosines);
    this.records = definitions.map(() => new PredictorRecord(keepCosines));
    this.lagged = definitions.map((d, i) => (useWindowGram[i] ? d.lagged!.create() : null));
  }

  /** Records the new Gram row (dots[d] = ⟨g_t, g_{t−d}⟩) and evaluates the window-gram predictors. */
  commitRow(t: number, dots: Float64Array): void {
    this.gram.setRow(t, dots);
    const ktt = dots[0];
    this.gradNormSq.push(ktt);
    // Step 0 has no predecessor: it counts as a step without a cosine (the series stays aligned with the steps).
    this.consecutive.add(dots[1], t >= 1 ? Math.sqrt(ktt) * Math.sqrt(this.gram.get(t - 1, t - 1)) : 0);
    this.lagged.forEach((state, i) => {
      if (state === null) return;
      const { cross, normSq } = laggedTerms(t, state.coefficients(t, this.gram), this.gram);
      const e = ktt - 2 * cross + normSq;
      this.records[i].record(ktt, { error: Math.max(0, e), cross, normSq });
    });
  }

  snapshot(ids: readonly string[], steps: number): LiveSeriesSnapshot {
    const gradNormSqSeries = this.gradNormSq.toArray();
    const pathLength: Record<string, number> = {};
    const kappa: Record<string, number> = {};
    const kappaFlags: Record<string, string> = {};
    const error: Record<string, Float64Array> = {};
    const cosinePredicted: Record<string, number> = {};
    ids.forEach((id, i) => {
      const r = this.records[i];
      error[id] = r.error.toArray();
      const report = kappaReport(error[id], gradNormSqSeries);
      pathLength[id] = report.pathLength;
      kappa[id] = report.kappa;
      if (report.flag) kappaFlags[id] = report.flag;
      cosinePredicted[id] = r.cosine.mean;
    });
    const n = Math.min(this.window, steps);
    const windowSteps = Array.from({ length: n }, (_, a) => steps - n + a);
    const windowGram = mat(n, n);
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) windowGram.data[a * n + b] = this.gram.get(windowSteps[a], windowSteps[b]);
    }
    let gradNormSq = 0;
    for (const v of gradNormSqSeries) gradNormSq += v;
    return {
      name: this.name,
      numel: this.numel,
      steps,
      gradNormSq,
      gradNormSqSeries,
      pathLength,
      kappa,
      kappaFlags,
      error,
      cosineConsecutive: this.consecutive.mean,
      cosinePredicted,
      windowSteps,
      windowGram,
    };
  }
}

/** ‖g‖² and ⟨g, v⟩ for the kept v, reading g once per four kept vectors: the window Gram row is the live mode's
 * main cost (hand-written: float32 input, float64 accumulators, several dot products per pass). */
function windowDots(g: Vec, kept: readonly Vec[], out: Float64Array): void {
  const n = g.length;
  // First pass: ‖g‖² together with up to three kept vectors, one straight-line loop per count (deliberate twins,
  // like emaBank's passes: a loop over the kept vectors inside the element loop keeps no sums in registers).
  const first = Math.min(3, kept.length);
  let self = 0;
  if (first === 0) {
    for (let i = 0; i < n; i++) self += g[i] * g[i];
  } else if (first === 1) {
    const a = kept[0];
    let sa = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      self += gi * gi;
      sa += gi * a[i];
    }
    out[1] = sa;
  } else if (first === 2) {
    const a = kept[0];
    const b = kept[1];
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      self += gi * gi;
      sa += gi * a[i];
      sb += gi * b[i];
    }
    out[1] = sa;
    out[2] = sb;
  } else {
    const a = kept[0];
    const b = kept[1];
    const c = kept[2];
    let sa = 0;
    let sb = 0;
    let sc = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      self += gi * gi;
      sa += gi * a[i];
      sb += gi * b[i];
      sc += gi * c[i];
    }
    out[1] = sa;
    out[2] = sb;
    out[3] = sc;
  }
  out[0] = self;
  let d = first;
  while (d < kept.length) {
    const left = kept.length - d;
    if (left >= 4) {
      const a = kept[d];
      const b = kept[d + 1];
      const c = kept[d + 2];
      const e = kept[d + 3];
      let sa = 0;
      let sb = 0;
      let sc = 0;
      let se = 0;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        sa += gi * a[i];
        sb += gi * b[i];
        sc += gi * c[i];
        se += gi * e[i];
      }
      out[d + 1] = sa;
      out[d + 2] = sb;
      out[d + 3] = sc;
      out[d + 4] = se;
      d += 4;
    } else {
      const a = kept[d];
      let sa = 0;
      for (let i = 0; i < n; i++) sa += g[i] * a[i];
      out[d + 1] = sa;
      d += 1;
    }
  }
}

function isAllFinite(v: Vec): boolean {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * 0;
  return s === 0;
}

class TensorTrack extends Track {
  /** Ring of the last `window` gradients: ring[t % window] holds g_t (JavaScript path). */
  private ring: Vec[] = [];
  readonly vectorStates: (LivePredictorState | null)[];
  /** All EMA predictors of this tensor, updated together in one pass (see emaBank.ts). */
  readonly emaIndices: number[];
  private emaBank: EmaBank | null;
  /** The EMAs' scalar state (the bank's own on the JavaScript path). */
  emaScalars: EmaScalars;
  /** The WebAssembly path's vectors (ring and EMA states), or null on the JavaScript path. */
  wasm: WasmLiveTensor | null = null;

  constructor(
    name: string,
    numel: number,
    window: number,
    definitions: readonly PredictorDefinition[],
    useWindowGram: readonly boolean[],
    wasmBatch: number,
    keepCosines: boolean,
  ) {
    super(name, numel, window, definitions, useWindowGram, keepCosines);
    this.row = new Float64Array(window + 1);
    this.emaIndices = definitions.flatMap((d, i) =>
      emaBetaOf(d) !== undefined && !useWindowGram[i] ? [i] : [],
    );
    const betas = this.emaIndices.map((i) => emaBetaOf(definitions[i])!);
    if (wasmBatch > 0) {
      this.emaBank = null;
      this.emaScalars = new EmaScalars(betas);
      this.wasm = new WasmLiveTensor(
        numel,
        window,
        wasmBatch,
        betas.map((b) => 1 - b),
      );
    } else {
      this.emaBank = new EmaBank(betas, numel);
      this.emaScalars = this.emaBank.scalars;
    }
    this.vectorStates = definitions.map((d, i) =>
      useWindowGram[i] || this.emaIndices.includes(i) ? null : d.live!(numel),
    );
  }

  /** Reused every step (no per-step allocation): the window Gram row and the list of kept vectors. */
  readonly row: Float64Array;
  private readonly kept: Vec[] = [];

  /** The kept vectors g_{t−1}, g_{t−2}, … (as many as are kept); the returned array is reused by the next call. */
  keptBefore(t: number): Vec[] {
    const n = Math.min(this.window, t);
    this.kept.length = n;
    for (let d = 0; d < n; d++) this.kept[d] = this.ring[(t - 1 - d) % this.window];
    return this.kept;
  }

  store(t: number, g: Vec): void {
    if (this.ring.length === 0) {
      const make = (): Vec =>
        g instanceof Float32Array ? new Float32Array(this.numel) : new Float64Array(this.numel);
      this.ring = Array.from({ length: this.window }, make);
    } else if (g instanceof Float64Array && this.ring[0] instanceof Float32Array) {
      this.ring = this.ring.map((v) => Float64Array.from(v as ArrayLike<number>));
    }
    this.ring[t % this.window].set(g);
  }

  /** Moves the tensor from the WebAssembly path to the JavaScript one after step t − 1 (nothing buffered): the
   * kept vectors and the EMA states are copied out. */
  moveToJs(t: number): void {
    const w = this.wasm;
    if (w === null) return;
    const kept = Math.min(this.window, t);
    if (kept > 0) {
      this.ring = Array.from({ length: this.window }, () => new Float32Array(this.numel));
      for (let s = t - kept; s < t; s++) this.ring[s % this.window].set(w.vector(s));
    }
    const states = this.emaIndices.map((_, a) => w.emaState(a));
    this.emaBank = EmaBank.fromState(this.emaScalars, states, this.numel);
    this.emaScalars = this.emaBank.scalars;
    w.dispose();
    this.wasm = null;
  }

  /** EMA a's history: its vector m, then ‖m‖² and the started flag (see LiveHistoryState). */
  emaHistory(a: number): PredictorHistory {
    const m = this.wasm !== null ? this.wasm.emaState(a) : this.emaBank!.vector(a);
    const values = new Float64Array(this.numel + 2);
    values.set(m);
    values[this.numel] = this.emaScalars.normSq[a];
    values[this.numel + 1] = this.emaScalars.started ? 1 : 0;
    return { values, nextStep: 0 };
  }

  /** Sets every EMA from its history (histories[a] for EMA a), on either path. */
  restoreEmas(histories: readonly PredictorHistory[]): void {
    const n = this.numel;
    const started = histories.every((h) => h.values[n + 1] === 1);
    histories.forEach((h, a) => {
      this.emaScalars.normSq[a] = h.values[n];
    });
    this.emaScalars.started = started;
    if (this.wasm !== null) {
      histories.forEach((h, a) => {
        this.wasm!.setEmaState(a, h.values.subarray(0, n));
      });
    } else {
      this.emaBank = EmaBank.fromState(
        this.emaScalars,
        histories.map((h) => h.values.subarray(0, n)),
        n,
      );
      this.emaScalars = this.emaBank.scalars;
    }
  }

  /** The EMA terms of the step just committed (JavaScript path). */
  stepEmas(g: Vec, ktt: number, terms: (LiveStepTerms | null)[]): void {
    if (this.emaBank === null || this.emaIndices.length === 0) return;
    const results = this.emaBank.step(g, ktt);
    this.emaIndices.forEach((i, j) => {
      terms[i] = results[j];
      this.records[i].record(ktt, results[j]);
    });
  }

  /** The other vector-mode predictors (momentum, user live states, long lags): both paths, at observe time. */
  stepVectors(
    g: Vec,
    ktt: number,
    extras: LiveStepExtras | undefined,
    terms: (LiveStepTerms | null)[],
  ): void {
    this.vectorStates.forEach((state, i) => {
      if (state === null) return;
      let result: LiveStepTerms;
      if (state.step) result = state.step(g, extras);
      else {
        result = compareWithPrediction(g, state.predict());
        state.observe(g, extras);
      }
      terms[i] = result;
      this.records[i].record(ktt, result);
    });
  }
}

/** A step accepted on the WebAssembly path and not yet processed: its index and each tensor's ‖g‖². */
interface PendingStep {
  readonly t: number;
  readonly norms: Float64Array;
}

export class LiveAccumulator {
  private readonly ids: string[];
  private readonly definitions: PredictorDefinition[];
  private readonly useWindowGram: boolean[];
  private readonly totalMode: LiveEvaluationMode[];
  private readonly tensorTracks: TensorTrack[];
  private readonly totalTrack: Track;
  private readonly totalStates: (LivePredictorState | null)[];
  private readonly needsMomentum: boolean;
  private readonly tensorNames: Set<string>;
  private concatenated: Float64Array | null = null;
  private accepted = 0;
  private calls = 0;
  private readonly skipped: number[] = [];
  /** WebAssembly path: steps accepted but not yet processed (at most `batch`), and the buffers flush fills. */
  private useWasm: boolean;
  private pending: PendingStep[] = [];
  private readonly flushRows: Float64Array[][];
  private readonly flushErrors: Float64Array[];

  constructor({
    tensors,
    predictors = DEFAULT_PREDICTORS,
    window = 32,
    kernel,
    batch = 8,
    keepCosines = false,
  }: LiveAccumulatorOptions) {
    if (!(Number.isInteger(window) && window >= 1)) {
      throw new GradtraceError("E_ARG", `LiveAccumulator: window must be an integer ≥ 1, got ${window}`);
    }
    if (!(Number.isInteger(batch) && batch >= 1)) {
      throw new GradtraceError("E_ARG", `LiveAccumulator: batch must be an integer ≥ 1, got ${batch}`);
    }
    if (tensors.length === 0) throw new GradtraceError("E_ARG", "LiveAccumulator: no tensors given");
    const names = new Set<string>();
    for (const t of tensors) {
      if (names.has(t.name))
        throw new GradtraceError("E_ARG", `LiveAccumulator: tensor "${t.name}" listed twice`);
      if (!(Number.isInteger(t.numel) && t.numel >= 1)) {
        throw new GradtraceError(
          "E_ARG",
          `LiveAccumulator: tensor "${t.name}" has numel ${t.numel}, expected ≥ 1`,
        );
      }
      names.add(t.name);
    }
    if (new Set(predictors).size !== predictors.length) {
      throw new GradtraceError(
        "E_ARG",
        `LiveAccumulator: duplicate predictor ids in [${predictors.join(", ")}]`,
      );
    }
    this.tensorNames = names;
    this.ids = [...predictors];
    this.definitions = this.ids.map((id) => resolvePredictor(id));
    this.useWindowGram = this.definitions.map((d) => d.lagged !== undefined && d.lagged.lag <= window);
    this.definitions.forEach((d, i) => {
      if (!this.useWindowGram[i] && !d.live) {
        throw new GradtraceError(
          "E_UNSUPPORTED",
          `LiveAccumulator: predictor "${d.id}" has no live mode` +
            (d.lagged ? ` and its lag ${d.lagged.lag} exceeds the window ${window}` : ""),
        );
      }
    });
    this.totalMode = this.definitions.map((d, i) =>
      this.useWindowGram[i] ? "window-gram" : d.coordinatewise ? "sum" : "concatenated",
    );
    this.needsMomentum = this.definitions.some((d) => d.requiresMomentum === true);
    const emaCount = this.definitions.filter(
      (d, i) => emaBetaOf(d) !== undefined && !this.useWindowGram[i],
    ).length;
    const wasmBytes = tensors.reduce(
      (s, t) => s + WasmLiveTensor.bytesFor(t.numel, window, batch, emaCount),
      0,
    );
    this.useWasm =
      resolveKernels(kernel, "LiveAccumulator") === "wasm" &&
      (kernel === "wasm" || wasmBytes <= WASM_LIVE_MAX_BYTES);
    this.tensorTracks = tensors.map(
      (t) =>
        new TensorTrack(
          t.name,
          t.numel,
          window,
          this.definitions,
          this.useWindowGram,
          this.useWasm ? batch : 0,
          keepCosines,
        ),
    );
    this.flushRows = this.useWasm
      ? this.tensorTracks.map(() => Array.from({ length: batch }, () => new Float64Array(window + 1)))
      : [];
    this.flushErrors = this.useWasm ? this.tensorTracks.map(() => new Float64Array(batch * emaCount)) : [];
    const totalNumel = tensors.reduce((s, t) => s + t.numel, 0);
    this.totalTrack = new Track(
      "total",
      totalNumel,
      window,
      this.definitions,
      this.useWindowGram,
      keepCosines,
    );
    this.totalStates = this.definitions.map((d, i) =>
      this.totalMode[i] === "concatenated" ? d.live!(totalNumel) : null,
    );
  }

  get steps(): number {
    return this.accepted;
  }

  /** The predictor ids, in the constructor's order. */
  get predictorIds(): string[] {
    return [...this.ids];
  }

  /** Feeds one step; returns false when the step was skipped for non-finite values (see the file comment). */
  observe(
    grads: Readonly<Record<string, Vec>>,
    extras?: { momentum?: Readonly<Record<string, Vec>> },
  ): boolean {
    const call = this.calls++;
    const t = this.accepted;
    for (const name of Object.keys(grads)) {
      if (!this.tensorNames.has(name)) {
        throw new GradtraceError(
          "E_ARG",
          `LiveAccumulator.observe: step ${call} has unknown tensor "${name}"`,
        );
      }
    }
    for (const track of this.tensorTracks) {
      const g = grads[track.name];
      if (g === undefined) {
        throw new GradtraceError(
          "E_ARG",
          `LiveAccumulator.observe: step ${call} lacks tensor "${track.name}"`,
        );
      }
      if (g.length !== track.numel) {
        throw new GradtraceError(
          "E_SHAPE",
          `LiveAccumulator.observe: step ${call} tensor "${track.name}" has ${g.length} elements, expected ${track.numel}`,
        );
      }
      if (this.needsMomentum && extras?.momentum?.[track.name] === undefined) {
        throw new GradtraceError(
          "E_ARG",
          `LiveAccumulator.observe: step ${call} lacks extras.momentum["${track.name}"] (a momentum predictor is on)`,
        );
      }
      // The WebAssembly ring holds float32: a float64 gradient moves every tensor to the JavaScript path, which
      // keeps float64 copies (nothing is rounded).
      if (this.useWasm && !(g instanceof Float32Array)) this.moveToJs();
    }
    // Phase 1: read-only for the metrics — ‖g‖² (and on the JavaScript path the window row) of every tensor, and
    // the NaN/Inf check, before any state changes. (The WebAssembly path copies g into a ring slot that no kept
    // step uses.)
    const norms = new Float64Array(this.tensorTracks.length);
    let finite = true;
    this.tensorTracks.forEach((track, k) => {
      const g = grads[track.name];
      if (track.wasm !== null) {
        norms[k] = track.wasm.ingest(t, g as Float32Array);
      } else {
        // Entries past kept.length are still zero (kept only grows); GramRing.setRow ignores d > t anyway.
        windowDots(g, track.keptBefore(t), track.row);
        norms[k] = track.row[0];
      }
      if (!Number.isFinite(norms[k])) finite = false;
      if (this.needsMomentum && !isAllFinite(extras!.momentum![track.name])) finite = false;
    });
    if (!finite) {
      this.skipped.push(call);
      return false;
    }
    // Phase 2: commit. On the WebAssembly path the window rows, the window-gram predictors and the EMAs wait for
    // the batch's fused pass (`flush`); the other vector-mode predictors run now, while g is at hand.
    let totalNorm = 0;
    for (let k = 0; k < norms.length; k++) totalNorm += norms[k];
    const totalRow = this.useWasm ? null : new Float64Array(this.tensorTracks[0].row.length);
    const sums: LiveStepTerms[] = this.ids.map(() => ({ error: 0, cross: 0, normSq: 0 }));
    const terms: (LiveStepTerms | null)[] = this.ids.map(() => null);
    const evaluated: boolean[] = this.ids.map(() => false);
    this.tensorTracks.forEach((track, k) => {
      const g = grads[track.name];
      if (totalRow !== null) {
        const row = track.row;
        for (let d = 0; d < row.length; d++) totalRow[d] += row[d];
        track.commitRow(t, row);
        track.store(t, g);
        track.stepEmas(g, norms[k], terms);
      }
      const momentum = extras?.momentum?.[track.name];
      track.stepVectors(g, norms[k], momentum ? { momentum } : undefined, terms);
      terms.forEach((r, i) => {
        if (r === null) return;
        evaluated[i] = true;
        sums[i].error += r.error;
        sums[i].cross += r.cross;
        sums[i].normSq += r.normSq;
        terms[i] = null;
      });
    });
    const total = this.totalTrack;
    if (totalRow !== null) total.commitRow(t, totalRow);
    const concatenatedNeeded = this.totalStates.some((s) => s !== null);
    if (concatenatedNeeded) {
      this.concatenated ??= new Float64Array(total.numel);
      let offset = 0;
      for (const track of this.tensorTracks) {
        this.concatenated.set(grads[track.name], offset);
        offset += track.numel;
      }
    }
    this.totalMode.forEach((mode, i) => {
      if (mode === "sum") {
        if (evaluated[i]) total.records[i].record(totalNorm, sums[i]);
      } else if (mode === "concatenated") {
        const state = this.totalStates[i]!;
        const g = this.concatenated!;
        let result: LiveStepTerms;
        if (state.step) result = state.step(g);
        else {
          result = compareWithPrediction(g, state.predict());
          state.observe(g);
        }
        total.records[i].record(totalNorm, result);
      }
    });
    this.accepted++;
    if (this.useWasm) {
      this.pending.push({ t, norms });
      if (this.pending.length === this.tensorTracks[0].wasm!.batch) this.flush();
    }
    return true;
  }

  /** Entries ⟨g_i, g_j⟩ of track `index` (tensors in constructor order, then the total) by accepted-step index, valid
   * while steps − 1 − window ≤ i, j < steps: what the window kept, read in place (no copy). The WebAssembly path
   * buffers steps; a read processes them first, so the entries of the latest step are there. */
  gramReader(index: number): GramReader {
    const track = this.trackAt(index, "gramReader");
    const gram = track.gram;
    return {
      get: (i, j) => {
        if (this.pending.length > 0) this.flush();
        return gram.get(i, j);
      },
    };
  }

  /** Exact Gram of the last `size` accepted steps (oldest first) of track `index` — tensors in the order given to the
   * constructor, then the total at index `tensors.length` — read from the window ring without copying the
   * per-step series (what a caller needs at every window boundary; `snapshot` is the end-of-run view).
   * size ≤ min(window, steps). Processes the steps the WebAssembly path has buffered first. */
  recentGram(index: number, size: number): Mat {
    this.flush();
    const track = this.trackAt(index, "recentGram");
    if (!(Number.isInteger(size) && size >= 0 && size <= Math.min(track.window, this.accepted))) {
      throw new GradtraceError(
        "E_ARG",
        `LiveAccumulator.recentGram: size ${size} exceeds the kept window (${Math.min(track.window, this.accepted)} steps)`,
      );
    }
    const first = this.accepted - size;
    const out = mat(size, size);
    for (let a = 0; a < size; a++) {
      for (let b = 0; b <= a; b++) {
        const v = track.gram.get(first + a, first + b);
        out.data[a * size + b] = v;
        out.data[b * size + a] = v;
      }
    }
    return out;
  }

  /** WebAssembly path: runs the fused pass over the buffered steps, then commits them in order exactly as the
   * JavaScript path commits one step (window rows, window-gram predictors, EMAs, the total's row and sums). */
  private flush(): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    const t0 = pending[0].t;
    const count = pending.length;
    const emaInit = !this.tensorTracks[0].emaScalars.started;
    this.tensorTracks.forEach((track, k) => {
      track.wasm!.flush(t0, count, emaInit, this.flushRows[k], this.flushErrors[k]);
    });
    const total = this.totalTrack;
    const width = this.tensorTracks[0].row.length;
    for (let s = 0; s < count; s++) {
      const t = t0 + s;
      const totalRow = new Float64Array(width);
      const emaSums = new Map<number, LiveStepTerms>();
      this.tensorTracks.forEach((track, k) => {
        const row = this.flushRows[k][s];
        const ktt = pending[s].norms[k];
        row[0] = ktt;
        for (let d = 0; d < width; d++) totalRow[d] += row[d];
        track.commitRow(t, row);
        if (track.emaIndices.length === 0) return;
        const results =
          emaInit && s === 0
            ? track.emaScalars.start(ktt)
            : track.emaScalars.terms(this.flushErrors[k], ktt, s * track.emaIndices.length);
        track.emaIndices.forEach((i, j) => {
          track.records[i].record(ktt, results[j]);
          const sum = emaSums.get(i) ?? { error: 0, cross: 0, normSq: 0 };
          sum.error += results[j].error;
          sum.cross += results[j].cross;
          sum.normSq += results[j].normSq;
          emaSums.set(i, sum);
        });
      });
      total.commitRow(t, totalRow);
      for (const [i, sum] of emaSums) total.records[i].record(totalRow[0], sum);
    }
    for (const rows of this.flushRows) for (const row of rows) row.fill(0);
  }

  /** Leaves the WebAssembly path for good (a float64 gradient arrived): processes what is buffered, then copies
   * every tensor's kept vectors and EMA states into the JavaScript path's arrays. */
  private moveToJs(): void {
    if (!this.useWasm) return;
    this.flush();
    for (const track of this.tensorTracks) track.moveToJs(this.accepted);
    this.useWasm = false;
  }

  /** Which implementation runs the per-step vector work now: "wasm" or "js" (after a float64 gradient, or when
   * asked for, or when the WebAssembly memory would not hold the window). */
  get kernel(): "js" | "wasm" {
    return this.useWasm ? "wasm" : "js";
  }

  /** ‖g_t‖² and ‖g_t − m_t‖² per predictor of track `index` (as in `recentGram`) for the accepted steps [from, to)
   * only (buffered WebAssembly steps processed first): what a caller following a growing run needs after each batch of steps, at a cost independent of the steps
   * before `from` (`snapshot` copies every series). */
  seriesRange(
    index: number,
    from: number,
    to: number,
  ): { gradNormSq: Float64Array; error: Record<string, Float64Array> } {
    this.flush();
    const track = this.trackAt(index, "seriesRange");
    const error: Record<string, Float64Array> = {};
    this.ids.forEach((id, i) => {
      error[id] = track.records[i].error.slice(from, to);
    });
    return { gradNormSq: track.gradNormSq.slice(from, to), error };
  }

  /** Every step's cosines of track `index` (as in `recentGram`) for the accepted steps [from, to): the consecutive
   * cosine and each predictor's ⟨g_t, m_t⟩/(‖g_t‖‖m_t‖), NaN where undefined. Needs `keepCosines`. */
  cosineSeriesRange(
    index: number,
    from: number,
    to: number,
  ): { consecutive: Float64Array; predicted: Record<string, Float64Array> } {
    this.flush();
    const track = this.trackAt(index, "cosineSeriesRange");
    const series = track.consecutive.series;
    if (series === null) {
      throw new GradtraceError("E_ARG", "LiveAccumulator.cosineSeriesRange: needs the keepCosines option");
    }
    const predicted: Record<string, Float64Array> = {};
    this.ids.forEach((id, i) => {
      predicted[id] = track.records[i].cosine.series!.slice(from, to);
    });
    return { consecutive: series.slice(from, to), predicted };
  }

  /** The state every predictor carries from the whole history (EMAs, ar<p>'s normal equations, zero-initialised
   * EMAs' vectors), by track and predictor id, with the number of accepted steps: what another accumulator needs to
   * go on from here (`restoreHistory`) once it has seen the last `window` steps itself. The other predictors depend on
   * a bounded number of past steps (the window, the last momentum buffer) and need nothing. */
  historyState(): LiveHistoryState {
    this.flush();
    const tracks = [...this.tensorTracks, this.totalTrack].map((track, k) => {
      const out: Record<string, PredictorHistory> = {};
      this.historyCarriers(track, k).forEach(({ id, save }) => {
        out[id] = save();
      });
      return out;
    });
    return { steps: this.accepted, tracks };
  }

  /** Continues from `state` (another accumulator's `historyState` over the same tensors, taken after the step just
   * before this accumulator's next one): the next accepted step counts as step `state.steps` for the predictors'
   * histories. The window must already hold the steps before it (the caller fed them: a warm-up). */
  restoreHistory(state: LiveHistoryState): void {
    this.flush();
    const offset = state.steps - this.accepted;
    [...this.tensorTracks, this.totalTrack].forEach((track, k) => {
      const saved = state.tracks[k] ?? {};
      const emas: PredictorHistory[] = [];
      this.historyCarriers(track, k).forEach(({ id, restore, ema }) => {
        const h = saved[id];
        if (h === undefined) {
          throw new GradtraceError(
            "E_ARG",
            `LiveAccumulator.restoreHistory: no history for predictor "${id}" of "${track.name}"`,
          );
        }
        if (ema) emas.push(h);
        else restore!(h, offset);
      });
      if (emas.length > 0) (track as TensorTrack).restoreEmas(emas);
    });
  }

  /** The predictors of `track` (index k) whose state depends on the whole history, with how to save / restore it
   * (EMAs of the bank are restored together, in the bank's order). */
  private historyCarriers(
    track: Track,
    k: number,
  ): {
    id: string;
    save: () => PredictorHistory;
    restore?: (h: PredictorHistory, offset: number) => void;
    ema?: boolean;
  }[] {
    const out: ReturnType<LiveAccumulator["historyCarriers"]> = [];
    const tensor = k < this.tensorTracks.length ? this.tensorTracks[k] : null;
    this.ids.forEach((id, i) => {
      const lagged = track.lagged[i];
      const vector = tensor ? tensor.vectorStates[i] : this.totalStates[i];
      if (tensor?.emaIndices.includes(i)) {
        const a = tensor.emaIndices.indexOf(i);
        out.push({ id, save: () => tensor.emaHistory(a), ema: true });
      } else if (lagged?.saveHistory && lagged.restoreHistory) {
        out.push({ id, save: () => lagged.saveHistory!(), restore: (h, o) => lagged.restoreHistory!(h, o) });
      } else if (vector?.saveHistory && vector.restoreHistory) {
        out.push({ id, save: () => vector.saveHistory!(), restore: (h, o) => vector.restoreHistory!(h, o) });
      }
    });
    return out;
  }

  /** Track `index` (tensors in the constructor's order, then the total), or E_ARG naming `method`. */
  private trackAt(index: number, method: string): Track {
    const track = index === this.tensorTracks.length ? this.totalTrack : this.tensorTracks[index];
    if (track === undefined) {
      throw new GradtraceError(
        "E_ARG",
        `LiveAccumulator.${method}: track ${index} does not exist (0..${this.tensorTracks.length})`,
      );
    }
    return track;
  }

  snapshot(): LiveSnapshot {
    this.flush();
    const modes: LiveSnapshot["modes"] = {};
    this.ids.forEach((id, i) => {
      modes[id] = { tensor: this.useWindowGram[i] ? "window-gram" : "vector", total: this.totalMode[i] };
    });
    return {
      steps: this.accepted,
      skippedSteps: [...this.skipped],
      predictors: [...this.ids],
      modes,
      tensors: this.tensorTracks.map((tr) => tr.snapshot(this.ids, this.accepted)),
      total: this.totalTrack.snapshot(this.ids, this.accepted),
    };
  }
}
