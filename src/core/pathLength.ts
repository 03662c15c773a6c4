/** @file Exact path lengths of every predictor from one Gram matrix K (K_ts = ⟨g_t, g_s⟩, t, s = 0..T), plus the
 * derived summaries: P_T, κ_T, windowed κ and cosines.
 *
 * ‖g_t − m_t‖² = K_tt − 2⟨m_t, g_t⟩ + ‖m_t‖²: computed from K this difference can lose digits when m_t ≈ g_t; a
 * negative result (rounding only) is clamped to 0.
 *
 * NaN policy: κ = P_T / Σ‖g_t‖² is NaN when Σ‖g_t‖² = 0 (all-zero gradients); `kappaReport` says so with
 * `flag: "zero-gradients"` so a caller can warn instead of crashing. Non-finite inputs propagate as NaN and are
 * flagged "non-finite" (the live accumulator skips such steps before they reach these functions). */
import { GradtraceError } from "./errors.ts";
import type { Mat } from "./matrix.ts";
import { resolvePredictor } from "./predictors/registry.ts";
import type { GramExtras, GramPredictorState } from "./predictors/types.ts";

export interface PredictorSeries {
  id: string;
  /** ‖g_t − m_t‖², t = 0..T. */
  error: Float64Array;
  /** ⟨m_t, g_t⟩. */
  cross: Float64Array;
  /** ‖m_t‖². */
  predNormSq: Float64Array;
}

export interface PathLengthResult {
  /** ‖g_t‖² = K_tt. */
  gradNormSq: Float64Array;
  series: Record<string, PredictorSeries>;
}

export interface PathLengthsFromGramOptions {
  /** Side information for predictors that are not combinations of past gradients (momentum). */
  extras?: GramExtras;
}

/** Runs every predictor over t = 0..T in a single pass (each sees row t of K only when predicting step t). */
export function pathLengthsFromGram(
  k: Mat,
  predictorIds: readonly string[],
  { extras }: PathLengthsFromGramOptions = {},
): PathLengthResult {
  if (k.rows !== k.cols) {
    throw new GradtraceError("E_SHAPE", `pathLengthsFromGram: K must be square, got ${k.rows}×${k.cols}`);
  }
  const n = k.rows;
  const states: GramPredictorState[] = [];
  const series: Record<string, PredictorSeries> = {};
  for (const id of predictorIds) {
    if (series[id]) throw new GradtraceError("E_ARG", `pathLengthsFromGram: predictor "${id}" listed twice`);
    const def = resolvePredictor(id);
    let state: GramPredictorState;
    if (def.gram) state = def.gram();
    else if (def.gramWithExtras) state = def.gramWithExtras(extras ?? {});
    else {
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `pathLengthsFromGram: predictor "${id}" has no exact (Gram) mode; use the live accumulator`,
      );
    }
    states.push(state);
    series[id] = {
      id,
      error: new Float64Array(n),
      cross: new Float64Array(n),
      predNormSq: new Float64Array(n),
    };
  }
  const gradNormSq = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const ktt = k.data[t * n + t];
    gradNormSq[t] = ktt;
    for (let i = 0; i < states.length; i++) {
      const { cross, normSq } = states[i].step(t, k);
      const s = series[predictorIds[i]];
      s.cross[t] = cross;
      s.predNormSq[t] = normSq;
      const e = ktt - 2 * cross + normSq;
      s.error[t] = Math.max(0, e);
    }
  }
  return { gradNormSq, series };
}

function checkRange(fn: string, n: number, from: number, to: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= n)) {
    throw new GradtraceError("E_ARG", `${fn}: range [${from}, ${to}) is not inside [0, ${n}]`);
  }
}

function sum(x: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let t = from; t < to; t++) s += x[t];
  return s;
}

/** P = Σ_{t=from..to−1} error[t]. */
export function pathLength(error: Float64Array, from = 0, to = error.length): number {
  checkRange("pathLength", error.length, from, to);
  return sum(error, from, to);
}

export interface KappaReport {
  kappa: number;
  pathLength: number;
  gradNormSq: number;
  /** Present when κ is not a meaningful number. */
  flag?: "zero-gradients" | "non-finite";
}

export function kappaReport(
  error: Float64Array,
  gradNormSq: Float64Array,
  from = 0,
  to = error.length,
): KappaReport {
  if (error.length !== gradNormSq.length) {
    throw new GradtraceError(
      "E_SHAPE",
      `kappa: error has ${error.length} steps but gradNormSq has ${gradNormSq.length}`,
    );
  }
  checkRange("kappa", error.length, from, to);
  const p = sum(error, from, to);
  const g = sum(gradNormSq, from, to);
  if (!Number.isFinite(p) || !Number.isFinite(g)) {
    return { kappa: Number.NaN, pathLength: p, gradNormSq: g, flag: "non-finite" };
  }
  if (g === 0) return { kappa: Number.NaN, pathLength: p, gradNormSq: g, flag: "zero-gradients" };
  return { kappa: p / g, pathLength: p, gradNormSq: g };
}

/** κ = P / Σ‖g‖² over [from, to); NaN for all-zero gradients (see kappaReport for the flag). */
export function kappa(error: Float64Array, gradNormSq: Float64Array, from = 0, to = error.length): number {
  return kappaReport(error, gradNormSq, from, to).kappa;
}

export interface WindowedKappaSeries {
  /** First step of each window; windows are [start, start + size). */
  starts: number[];
  kappa: Float64Array;
}

/** κ over windows [s, s + size) for s = 0, stride, 2·stride, … while the window fits (none if size > n). */
export function windowedKappa(
  error: Float64Array,
  gradNormSq: Float64Array,
  size: number,
  stride: number,
): WindowedKappaSeries {
  if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(stride) && stride >= 1)) {
    throw new GradtraceError(
      "E_ARG",
      `windowedKappa: size (${size}) and stride (${stride}) must be integers ≥ 1`,
    );
  }
  if (error.length !== gradNormSq.length) {
    throw new GradtraceError(
      "E_SHAPE",
      `windowedKappa: error has ${error.length} steps but gradNormSq has ${gradNormSq.length}`,
    );
  }
  const starts: number[] = [];
  for (let s = 0; s + size <= error.length; s += stride) starts.push(s);
  // Prefix sums keep this O(n) whatever the overlap.
  const pe = new Float64Array(error.length + 1);
  const pg = new Float64Array(error.length + 1);
  for (let t = 0; t < error.length; t++) {
    pe[t + 1] = pe[t] + error[t];
    pg[t + 1] = pg[t] + gradNormSq[t];
  }
  const out = new Float64Array(starts.length);
  starts.forEach((s, i) => {
    const g = pg[s + size] - pg[s];
    out[i] = g > 0 ? (pe[s + size] - pe[s]) / g : Number.NaN;
  });
  return { starts, kappa: out };
}

export interface CosineSeries {
  /** cos(g_t, g_{t−1}); index 0 and steps with a zero vector are NaN. */
  consecutive: Float64Array;
  /** cos(g_t, m_t) per predictor; NaN where m_t = 0 or g_t = 0 (always at t = 0). */
  predicted: Record<string, Float64Array>;
}

function cosine(dotValue: number, normSqA: number, normSqB: number): number {
  const d = Math.sqrt(normSqA) * Math.sqrt(normSqB);
  if (!(d > 0)) return Number.NaN;
  // Clamp: rounding can push |cos| a hair above 1.
  return Math.max(-1, Math.min(1, dotValue / d));
}

export function cosineSeries(k: Mat, result: PathLengthResult): CosineSeries {
  const n = k.rows;
  const consecutive = new Float64Array(n);
  consecutive[0] = Number.NaN;
  for (let t = 1; t < n; t++) {
    consecutive[t] = cosine(k.data[t * n + t - 1], k.data[t * n + t], k.data[(t - 1) * n + t - 1]);
  }
  const predicted: Record<string, Float64Array> = {};
  for (const [id, s] of Object.entries(result.series)) {
    predicted[id] = Float64Array.from(s.cross, (c, t) => cosine(c, result.gradNormSq[t], s.predNormSq[t]));
  }
  return { consecutive, predicted };
}

/** Mean of the finite entries (NaN when there are none): how cosine series are summarised. */
export function meanFinite(x: ArrayLike<number>): number {
  let s = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) {
      s += x[i];
      count++;
    }
  }
  return count > 0 ? s / count : Number.NaN;
}
