/** @file Captured gradient energy of a GaLore-style projector, E(r, Δ): at every refresh t₀ = 0, Δ, 2Δ, … the
 * projector P is the top-r singular subspace of that step's gradient (on its shorter side, as GaLore does); every
 * step t in [t₀, t₀ + Δ) keeps ‖Pᵀ G_t‖²_F / ‖G_t‖²_F of its gradient. One pass over the steps serves every rank and
 * every interval: the SVD at t is shared by all intervals that refresh at t, and for one projector the captured
 * energy of rank r is the sum of the first r squared row norms of PᵀG (nested subspaces), so a single product of the
 * largest rank gives all smaller ones. Where the trace logged an update direction u_t (the optimizer's momentum),
 * the same products give the part of the first-order loss decrease ⟨g_t, u_t⟩ that the projected update keeps,
 * ⟨Pᵀg_t, Pᵀu_t⟩. */
import { GradtraceError, type Mat, mat, topLeftSubspace, transposeMatmul } from "../../core/index.ts";

/** Gradients of one matrix-shaped tensor, step by step, already oriented shorter side × longer side. */
export interface OrientedSteps {
  readonly steps: number;
  readonly rows: number;
  readonly cols: number;
  gradient(t: number): Mat;
  /** The logged update direction at step t in the same orientation, or null when that step logged none. */
  update?(t: number): Mat | null;
}

export interface EnergySeriesOptions {
  /** Ranks of the grid (positive integers below the shorter side). */
  readonly ranks: readonly number[];
  /** Refresh intervals Δ (positive integers). */
  readonly intervals: readonly number[];
  /** Largest rank whose mean energy is also kept (for settings off the grid, e.g. a uniform rank); default max(ranks). */
  readonly maxRank?: number;
  /** Up to this shorter side the exact SVD gives the projector, above it the randomized SVD (seeded). */
  readonly exactUpTo?: number;
  readonly seed?: number;
  /** Called after each step. */
  readonly onStep?: (t: number) => void;
}

export interface EnergySeries {
  readonly ranks: readonly number[];
  readonly intervals: readonly number[];
  /** perStep[i][j][t]: fraction of ‖G_t‖² kept at rank ranks[i], interval intervals[j] (1 for a zero gradient). */
  readonly perStep: Float64Array[][];
  /** meanByRank[j][r − 1]: mean over steps of the captured fraction at rank r = 1..maxRank, interval intervals[j]. */
  readonly meanByRank: Float64Array[];
  /** Present when updates were logged: kept[i][j][t] = ⟨Pᵀg_t, Pᵀu_t⟩ and total[t] = ⟨g_t, u_t⟩ (NaN where step
   * t logged no update). */
  readonly progress?: { readonly kept: Float64Array[][]; readonly total: Float64Array };
}

function checkGrid(name: string, values: readonly number[], max: number): void {
  if (values.length === 0) throw new GradtraceError("E_ARG", `advise: ${name} is empty`);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 1 || v > max || (i > 0 && v <= values[i - 1])) {
      throw new GradtraceError(
        "E_ARG",
        `advise: ${name} must be increasing integers in [1, ${max}], got ${values.join(", ")}`,
      );
    }
  });
}

function rowSquares(b: Mat): Float64Array {
  const out = new Float64Array(b.rows);
  for (let i = 0; i < b.rows; i++) {
    let s = 0;
    for (let j = i * b.cols; j < (i + 1) * b.cols; j++) s += b.data[j] * b.data[j];
    out[i] = s;
  }
  return out;
}

function rowDots(a: Mat, b: Mat): Float64Array {
  const out = new Float64Array(a.rows);
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let j = i * a.cols; j < (i + 1) * a.cols; j++) s += a.data[j] * b.data[j];
    out[i] = s;
  }
  return out;
}

function sumSquares(a: Mat): number {
  let s = 0;
  for (const x of a.data) s += x * x;
  return s;
}

function dotAll(a: Mat, b: Mat): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

/** Per-step captured energy for every (rank, interval) of the grid, in one pass over the steps. */
export function capturedEnergySeries(
  source: OrientedSteps,
  { ranks, intervals, maxRank, exactUpTo = 256, seed = 0, onStep }: EnergySeriesOptions,
): EnergySeries {
  const { steps, rows, cols } = source;
  if (rows > cols) {
    throw new GradtraceError(
      "E_SHAPE",
      `advise: steps must be oriented shorter side first, got ${rows}×${cols}`,
    );
  }
  checkGrid("ranks", ranks, rows);
  checkGrid("intervals", intervals, Number.MAX_SAFE_INTEGER);
  const top = Math.min(rows, Math.max(maxRank ?? 0, ...ranks));
  const perStep = ranks.map(() => intervals.map(() => new Float64Array(steps)));
  const meanByRank = intervals.map(() => new Float64Array(top));
  const hasUpdates = source.update !== undefined;
  const kept = hasUpdates ? ranks.map(() => intervals.map(() => new Float64Array(steps))) : [];
  const total = new Float64Array(hasUpdates ? steps : 0);
  const projectors: Mat[] = intervals.map(() => mat(rows, 0));
  for (let t = 0; t < steps; t++) {
    const g = source.gradient(t);
    if (g.rows !== rows || g.cols !== cols) {
      throw new GradtraceError(
        "E_SHAPE",
        `advise: step ${t} gradient is ${g.rows}×${g.cols}, expected ${rows}×${cols}`,
      );
    }
    // Intervals refreshing at t share one SVD of G_t.
    let fresh: Mat | null = null;
    intervals.forEach((d, j) => {
      if (t % d === 0) {
        fresh ??= topLeftSubspace(g, top, { exactUpTo, seed: seed + t });
        projectors[j] = fresh;
      }
    });
    const normSq = sumSquares(g);
    const u = source.update?.(t) ?? null;
    if (hasUpdates) total[t] = u === null ? Number.NaN : dotAll(g, u);
    intervals.forEach((_, j) => {
      const p = projectors[j];
      const pg = transposeMatmul(p, g);
      const rowsSq = rowSquares(pg);
      const pu = u === null ? null : transposeMatmul(p, u);
      const dots = pu === null ? null : rowDots(pg, pu);
      let cum = 0;
      let cumDot = 0;
      let next = 0;
      for (let r = 1; r <= top; r++) {
        cum += rowsSq[r - 1];
        if (dots !== null) cumDot += dots[r - 1];
        // A zero gradient loses nothing; rounding can push the ratio a hair above 1.
        const frac = normSq === 0 ? 1 : Math.min(1, cum / normSq);
        meanByRank[j][r - 1] += frac / steps;
        if (next < ranks.length && ranks[next] === r) {
          perStep[next][j][t] = frac;
          if (hasUpdates) kept[next][j][t] = u === null ? Number.NaN : cumDot;
          next++;
        }
      }
    });
    onStep?.(t);
  }
  return {
    ranks,
    intervals,
    perStep,
    meanByRank,
    ...(hasUpdates ? { progress: { kept, total } } : {}),
  };
}
