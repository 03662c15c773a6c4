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
import { EmaBank } from "./predictors/emaBank.ts";
import { GramRing } from "./predictors/gramRing.ts";
import { compareWithPrediction } from "./predictors/kernels.ts";
import { laggedTerms } from "./predictors/lagged.ts";
import { DEFAULT_PREDICTORS, resolvePredictor } from "./predictors/registry.ts";
import type {
  LaggedPredictorState,
  LivePredictorState,
  LiveStepExtras,
  LiveStepTerms,
  PredictorDefinition,
} from "./predictors/types.ts";

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

class PredictorRecord {
  readonly error = new Series();
  cosineSum = 0;
  cosineCount = 0;
  record(gradNormSq: number, terms: LiveStepTerms): void {
    this.error.push(terms.error);
    const d = Math.sqrt(gradNormSq) * Math.sqrt(terms.normSq);
    if (d > 0) {
      this.cosineSum += Math.max(-1, Math.min(1, terms.cross / d));
      this.cosineCount++;
    }
  }
}

/** Everything kept for one tensor or for the total, apart from the vectors. */
class Track {
  readonly gram: GramRing;
  readonly gradNormSq = new Series();
  readonly records: PredictorRecord[];
  readonly lagged: (LaggedPredictorState | null)[];
  consecutiveSum = 0;
  consecutiveCount = 0;

  constructor(
    readonly name: string,
    readonly numel: number,
    readonly window: number,
    definitions: readonly PredictorDefinition[],
    useWindowGram: readonly boolean[],
  ) {
    this.gram = new GramRing(window + 1);
    this.records = definitions.map(() => new PredictorRecord());
    this.lagged = definitions.map((d, i) => (useWindowGram[i] ? d.lagged!.create() : null));
  }

  /** Records the new Gram row (dots[d] = ⟨g_t, g_{t−d}⟩) and evaluates the window-gram predictors. */
  commitRow(t: number, dots: Float64Array): void {
    this.gram.setRow(t, dots);
    const ktt = dots[0];
    this.gradNormSq.push(ktt);
    if (t >= 1) {
      const d = Math.sqrt(ktt) * Math.sqrt(this.gram.get(t - 1, t - 1));
      if (d > 0) {
        this.consecutiveSum += Math.max(-1, Math.min(1, dots[1] / d));
        this.consecutiveCount++;
      }
    }
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
      cosinePredicted[id] = r.cosineCount > 0 ? r.cosineSum / r.cosineCount : Number.NaN;
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
      cosineConsecutive: this.consecutiveCount > 0 ? this.consecutiveSum / this.consecutiveCount : Number.NaN,
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
  // First pass: ‖g‖² together with up to three kept vectors.
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
  /** Ring of the last `window` gradients: ring[t % window] holds g_t. */
  private ring: Vec[] = [];
  readonly vectorStates: (LivePredictorState | null)[];
  /** All EMA predictors of this tensor, updated together in one pass (see emaBank.ts). */
  private readonly emaIndices: number[];
  private readonly emaBank: EmaBank | null;

  constructor(
    name: string,
    numel: number,
    window: number,
    definitions: readonly PredictorDefinition[],
    useWindowGram: readonly boolean[],
  ) {
    super(name, numel, window, definitions, useWindowGram);
    this.row = new Float64Array(window + 1);
    this.emaIndices = definitions.flatMap((d, i) =>
      emaBetaOf(d) !== undefined && !useWindowGram[i] ? [i] : [],
    );
    this.emaBank =
      this.emaIndices.length > 0
        ? new EmaBank(
            this.emaIndices.map((i) => emaBetaOf(definitions[i])!),
            numel,
          )
        : null;
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

  stepVectors(g: Vec, extras: LiveStepExtras | undefined, terms: (LiveStepTerms | null)[]): void {
    const ktt = this.gradNormSq.get(this.gradNormSq.length - 1);
    if (this.emaBank) {
      const results = this.emaBank.step(g, ktt);
      this.emaIndices.forEach((i, j) => {
        terms[i] = results[j];
        this.records[i].record(ktt, results[j]);
      });
    }
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

  constructor({ tensors, predictors = DEFAULT_PREDICTORS, window = 32 }: LiveAccumulatorOptions) {
    if (!(Number.isInteger(window) && window >= 1)) {
      throw new GradtraceError("E_ARG", `LiveAccumulator: window must be an integer ≥ 1, got ${window}`);
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
    this.tensorTracks = tensors.map(
      (t) => new TensorTrack(t.name, t.numel, window, this.definitions, this.useWindowGram),
    );
    const totalNumel = tensors.reduce((s, t) => s + t.numel, 0);
    this.totalTrack = new Track("total", totalNumel, window, this.definitions, this.useWindowGram);
    this.totalStates = this.definitions.map((d, i) =>
      this.totalMode[i] === "concatenated" ? d.live!(totalNumel) : null,
    );
  }

  get steps(): number {
    return this.accepted;
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
    // Phase 1: read-only — every tensor's window row, and the NaN/Inf check, before any state changes.
    const rows: Float64Array[] = [];
    let finite = true;
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
      const kept = track.keptBefore(t);
      // Entries past kept.length are still zero (kept only grows); GramRing.setRow ignores d > t anyway.
      const row = track.row;
      windowDots(g, kept, row);
      if (!Number.isFinite(row[0])) finite = false;
      rows.push(row);
      if (this.needsMomentum) {
        const b = extras?.momentum?.[track.name];
        if (b === undefined) {
          throw new GradtraceError(
            "E_ARG",
            `LiveAccumulator.observe: step ${call} lacks extras.momentum["${track.name}"] (a momentum predictor is on)`,
          );
        }
        if (!isAllFinite(b)) finite = false;
      }
    }
    if (!finite) {
      this.skipped.push(call);
      return false;
    }
    // Phase 2: commit.
    const totalRow = new Float64Array(rows[0].length);
    const sums: LiveStepTerms[] = this.ids.map(() => ({ error: 0, cross: 0, normSq: 0 }));
    const terms: (LiveStepTerms | null)[] = this.ids.map(() => null);
    this.tensorTracks.forEach((track, k) => {
      const g = grads[track.name];
      const row = rows[k];
      for (let d = 0; d < row.length; d++) totalRow[d] += row[d];
      track.commitRow(t, row);
      track.store(t, g);
      const momentum = extras?.momentum?.[track.name];
      track.stepVectors(g, momentum ? { momentum } : undefined, terms);
      terms.forEach((r, i) => {
        if (r === null) return;
        sums[i].error += r.error;
        sums[i].cross += r.cross;
        sums[i].normSq += r.normSq;
      });
    });
    const total = this.totalTrack;
    total.commitRow(t, totalRow);
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
      if (mode === "sum") total.records[i].record(totalRow[0], sums[i]);
      else if (mode === "concatenated") {
        const state = this.totalStates[i]!;
        const g = this.concatenated!;
        let result: LiveStepTerms;
        if (state.step) result = state.step(g);
        else {
          result = compareWithPrediction(g, state.predict());
          state.observe(g);
        }
        total.records[i].record(totalRow[0], result);
      }
    });
    this.accepted++;
    return true;
  }

  /** Exact Gram of the last `size` accepted steps (oldest first) of track `index` — tensors in the order given to the
   * constructor, then the total at index `tensors.length` — read from the window ring without copying the
   * per-step series (what a caller needs at every window boundary; `snapshot` is the end-of-run view).
   * size ≤ min(window, steps). */
  recentGram(index: number, size: number): Mat {
    const track = index === this.tensorTracks.length ? this.totalTrack : this.tensorTracks[index];
    if (track === undefined) {
      throw new GradtraceError(
        "E_ARG",
        `LiveAccumulator.recentGram: track ${index} does not exist (0..${this.tensorTracks.length})`,
      );
    }
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

  /** ‖g_t‖² and ‖g_t − m_t‖² per predictor of track `index` (as in `recentGram`) for the accepted steps [from, to)
   * only: what a caller following a growing run needs after each batch of steps, at a cost independent of the steps
   * before `from` (`snapshot` copies every series). */
  seriesRange(
    index: number,
    from: number,
    to: number,
  ): { gradNormSq: Float64Array; error: Record<string, Float64Array> } {
    const track = index === this.tensorTracks.length ? this.totalTrack : this.tensorTracks[index];
    if (track === undefined) {
      throw new GradtraceError(
        "E_ARG",
        `LiveAccumulator.seriesRange: track ${index} does not exist (0..${this.tensorTracks.length})`,
      );
    }
    const error: Record<string, Float64Array> = {};
    this.ids.forEach((id, i) => {
      error[id] = track.records[i].error.slice(from, to);
    });
    return { gradNormSq: track.gradNormSq.slice(from, to), error };
  }

  snapshot(): LiveSnapshot {
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
