/** @file From one Gram matrix K = GᵀG (exact or sketched) to a full per-tensor result: path lengths and κ of every
 * predictor, bootstrap intervals, windows (κ and r*(ε) per window), cosines, the spectra of the increments and of
 * the gradients, and the Eckart–Young oracle (Theorem iii) as path lengths and κ.
 *
 * Sums run over t = B..T with B the burn-in (default 0, the paper's definition). Predictors still see the whole
 * history g_0..g_{t−1}; only the terms of the first B steps are left out of every sum (P_T, Σ‖g‖², κ, windows,
 * bootstrap, cosines, spectra). With B = 0 the unpredictable t = 0 term ‖g_0‖² (m_0 = 0) is part of every P_T and of
 * the oracle, so `increments.oracleRankPathLength[0]` equals P_T(last) exactly; with B ≥ 1 the increments are
 * h_B..h_T and the identity holds with no t = 0 term. */

import type { GramExtras, Mat } from "../core/index.ts";
import {
  blockBootstrapRatioCI,
  GradtraceError,
  cosineSeries,
  incrementGram,
  mat,
  meanFinite,
  pathLengthsFromGram,
  type SpectrumSummary,
  spectrumSummary,
  windowedKappa,
  windowedPredictableRank,
} from "../core/index.ts";
import type { TensorResult, WindowedKappa } from "./types.ts";

export interface FromGramOptions {
  readonly predictors: readonly string[];
  readonly eps: readonly number[];
  /** Window size for windowed κ (steps); stride is half a window. */
  readonly window: number;
  readonly bootstrap: boolean;
  readonly seed: number;
  /** Steps left out of every sum at the start (default 0). */
  readonly burnIn?: number;
}

export interface TensorMeta {
  readonly name: string;
  readonly shape: readonly number[];
  readonly numel: number;
}

/** The per-step series behind a result (for `--csv` and the dashboard), not part of the JSON result. */
export interface TensorSeries {
  readonly gradNormSq: Float64Array;
  readonly error: Record<string, Float64Array>;
}

export const EMPTY_SPECTRUM: SpectrumSummary = {
  singularValues: [],
  predictableRank: {},
  effectiveRank: 0,
  stableRank: 0,
  participationRatio: 0,
  rankCurve: { eps: [], rank: [] },
  oracleRankPathLength: [],
};

export function sum(a: Float64Array, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s;
}

/** κ, path length, bootstrap interval and windowed κ of every predictor from the per-step series — the part of a
 * result shared by the exact mode (series from K) and the streaming mode (series from the live state) — over the
 * steps t ≥ burnIn; and the κ floor ‖g_0‖²/Σ‖g_t‖² (0 with a burn-in). */
export function kappaFromSeries(
  error: Record<string, Float64Array>,
  gradNormSqSeries: Float64Array,
  {
    predictors,
    window,
    bootstrap,
    seed,
    burnIn = 0,
  }: Pick<FromGramOptions, "predictors" | "window" | "bootstrap" | "seed" | "burnIn">,
): {
  kappa: Record<string, number>;
  pathLength: Record<string, number>;
  kappaCI: Record<string, [number, number]>;
  gradNormSq: number;
  kappaFloor: number;
  windows: { size: number; stride: number; starts: number[]; kappa: Record<string, number[]> };
} {
  const b = burnIn;
  const gradNormSq = gradNormSqSeries.subarray(b);
  const n = gradNormSq.length;
  const totalSq = sum(gradNormSq);
  const kappa: Record<string, number> = {};
  const pathLength: Record<string, number> = {};
  const kappaCI: Record<string, [number, number]> = {};
  const size = Math.min(window, n);
  const stride = Math.max(1, Math.ceil(size / 2));
  const windowKappa: Record<string, number[]> = {};
  let starts: number[] = [];
  for (const id of predictors) {
    const e = error[id].subarray(b);
    pathLength[id] = sum(e);
    kappa[id] = totalSq > 0 ? pathLength[id] / totalSq : Number.NaN;
    if (bootstrap && n >= 4 && totalSq > 0) kappaCI[id] = blockBootstrapRatioCI(e, gradNormSq, { seed });
    const w = windowedKappa(e, gradNormSq, size, stride);
    starts = w.starts.map((x) => x + b);
    windowKappa[id] = Array.from(w.kappa);
  }
  return {
    kappa,
    pathLength,
    kappaCI,
    gradNormSq: totalSq,
    kappaFloor: totalSq > 0 ? (b === 0 && n > 0 ? gradNormSq[0] : 0) / totalSq : Number.NaN,
    windows: { size, stride, starts, kappa: windowKappa },
  };
}

/** The TensorResult of either mode from its parts (the increments' summary also fills the top-level rank fields). */
export function assembleTensorResult(
  meta: TensorMeta,
  gradNormSq: Float64Array,
  ks: ReturnType<typeof kappaFromSeries>,
  bootstrap: boolean,
  parts: Pick<TensorResult, "cosineConsecutive" | "cosinePredicted" | "increments" | "gradients" | "windows">,
): TensorResult {
  const { increments } = parts;
  return {
    name: meta.name,
    shape: [...meta.shape],
    numel: meta.numel,
    steps: gradNormSq.length,
    kappa: ks.kappa,
    ...(bootstrap ? { kappaCI: ks.kappaCI } : {}),
    pathLength: ks.pathLength,
    gradNormSq: ks.gradNormSq,
    gradNorm: Array.from(gradNormSq, Math.sqrt),
    cosineConsecutive: parts.cosineConsecutive,
    cosinePredicted: parts.cosinePredicted,
    predictableRank: increments.predictableRank,
    effectiveRank: increments.effectiveRank,
    stableRank: increments.stableRank,
    singularValues: increments.singularValues,
    increments,
    gradients: parts.gradients,
    windows: parts.windows,
    oracleKappa: increments.oracleRankPathLength.map((p) =>
      ks.gradNormSq > 0 ? p / ks.gradNormSq : Number.NaN,
    ),
    kappaFloor: ks.kappaFloor,
  };
}

/** K[from:, from:] as its own matrix (K itself when from = 0). */
function trailingBlock(k: Mat, from: number): Mat {
  if (from === 0) return k;
  const n = k.rows;
  const m = n - from;
  const out = mat(m, m);
  for (let i = 0; i < m; i++) out.data.set(k.data.subarray((from + i) * n + from, (from + i + 1) * n), i * m);
  return out;
}

export function tensorResultFromGram(
  k: Mat,
  meta: TensorMeta,
  { predictors, eps, window, bootstrap, seed, burnIn = 0 }: FromGramOptions,
  extras: GramExtras = {},
): { result: TensorResult; series: TensorSeries } {
  const n = k.rows;
  if (!(Number.isInteger(burnIn) && burnIn >= 0 && (burnIn === 0 || burnIn <= n - 2))) {
    throw new GradtraceError(
      "E_ARG",
      `burn-in ${burnIn}: expected an integer in 0..${Math.max(0, n - 2)} (the ${meta.name === "total" ? "trace" : `tensor "${meta.name}"`} has ${n} steps; at least two must remain)`,
    );
  }
  const b = burnIn;
  const pl = pathLengthsFromGram(k, predictors, { extras });
  const gradNormSq = pl.gradNormSq;
  const error: Record<string, Float64Array> = {};
  for (const id of predictors) error[id] = pl.series[id].error;
  const ks = kappaFromSeries(error, gradNormSq, { predictors, window, bootstrap, seed, burnIn: b });
  const cosines = cosineSeries(k, pl);
  const cosinePredicted: Record<string, number> = {};
  for (const id of predictors) cosinePredicted[id] = meanFinite(cosines.predicted[id].subarray(b));
  const { size, starts } = ks.windows;
  const windows: WindowedKappa = {
    size,
    starts,
    kappa: ks.windows.kappa,
    predictableRank: windowedPredictableRank(k, { starts, size, eps }),
  };
  // Increments inside the sums: h_1..h_T (B = 0, plus the unpredictable ‖g_0‖²) or h_B..h_T (B ≥ 1).
  const unpredictable = b === 0 && n >= 1 ? gradNormSq[0] : 0;
  const incrementSource = trailingBlock(k, Math.max(0, b - 1));
  const increments =
    incrementSource.rows >= 2
      ? spectrumSummary(incrementGram(incrementSource), { eps: [...eps], unpredictable })
      : EMPTY_SPECTRUM;
  const gradients = n - b >= 1 ? spectrumSummary(trailingBlock(k, b), { eps: [...eps] }) : EMPTY_SPECTRUM;
  const result = assembleTensorResult(meta, gradNormSq, ks, bootstrap, {
    cosineConsecutive: meanFinite(cosines.consecutive.subarray(b)),
    cosinePredicted,
    increments,
    gradients,
    windows,
  });
  return { result, series: { gradNormSq, error } };
}
