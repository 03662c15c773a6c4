/** @file From one Gram matrix K = GᵀG (exact or sketched) to a full per-tensor result: path lengths and κ of every
 * predictor, bootstrap intervals, windows (κ and r*(ε) per window), cosines, and the spectra of the increments and
 * of the gradients. */

import type { GramExtras, Mat } from "../core/index.ts";
import {
  blockBootstrapRatioCI,
  cosineSeries,
  incrementGram,
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
 * result shared by the exact mode (series from K) and the streaming mode (series from the live state). */
export function kappaFromSeries(
  error: Record<string, Float64Array>,
  gradNormSq: Float64Array,
  {
    predictors,
    window,
    bootstrap,
    seed,
  }: Pick<FromGramOptions, "predictors" | "window" | "bootstrap" | "seed">,
): {
  kappa: Record<string, number>;
  pathLength: Record<string, number>;
  kappaCI: Record<string, [number, number]>;
  gradNormSq: number;
  windows: { size: number; stride: number; starts: number[]; kappa: Record<string, number[]> };
} {
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
    const e = error[id];
    pathLength[id] = sum(e);
    kappa[id] = totalSq > 0 ? pathLength[id] / totalSq : Number.NaN;
    if (bootstrap && n >= 4 && totalSq > 0) kappaCI[id] = blockBootstrapRatioCI(e, gradNormSq, { seed });
    const w = windowedKappa(e, gradNormSq, size, stride);
    starts = w.starts;
    windowKappa[id] = Array.from(w.kappa);
  }
  return {
    kappa,
    pathLength,
    kappaCI,
    gradNormSq: totalSq,
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
  };
}

export function tensorResultFromGram(
  k: Mat,
  meta: TensorMeta,
  { predictors, eps, window, bootstrap, seed }: FromGramOptions,
  extras: GramExtras = {},
): { result: TensorResult; series: TensorSeries } {
  const n = k.rows;
  const pl = pathLengthsFromGram(k, predictors, { extras });
  const gradNormSq = pl.gradNormSq;
  const error: Record<string, Float64Array> = {};
  for (const id of predictors) error[id] = pl.series[id].error;
  const ks = kappaFromSeries(error, gradNormSq, { predictors, window, bootstrap, seed });
  const cosines = cosineSeries(k, pl);
  const cosinePredicted: Record<string, number> = {};
  for (const id of predictors) cosinePredicted[id] = meanFinite(cosines.predicted[id]);
  const { size, starts } = ks.windows;
  const windows: WindowedKappa = {
    size,
    starts,
    kappa: ks.windows.kappa,
    predictableRank: windowedPredictableRank(k, { starts, size, eps }),
  };
  const increments = n >= 2 ? spectrumSummary(incrementGram(k), { eps: [...eps] }) : EMPTY_SPECTRUM;
  const gradients = n >= 1 ? spectrumSummary(k, { eps: [...eps] }) : EMPTY_SPECTRUM;
  const result = assembleTensorResult(meta, gradNormSq, ks, bootstrap, {
    cosineConsecutive: meanFinite(cosines.consecutive),
    cosinePredicted,
    increments,
    gradients,
    windows,
  });
  return { result, series: { gradNormSq, error } };
}
