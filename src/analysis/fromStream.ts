/** @file From one streaming track (src/core/streaming.ts) to a per-tensor result of the same shape as the exact
 * mode's: κ, intervals and windowed κ from the per-step series (shared with fromGram.ts), windowed r*(ε) from each
 * window's own Gram, and the whole-run spectra from the Frequent Directions sketches with their bounds. */

import { fdSpectrumSummary, type StreamingTrack } from "../core/index.ts";
import {
  assembleTensorResult,
  EMPTY_SPECTRUM,
  type FromGramOptions,
  kappaFromSeries,
  type TensorMeta,
  type TensorSeries,
} from "./fromGram.ts";
import type { SpectrumSummary, TensorResult, WindowedKappa } from "./types.ts";

export function tensorResultFromStream(
  track: StreamingTrack,
  meta: TensorMeta,
  { predictors, eps, window, bootstrap, seed }: FromGramOptions,
): { result: TensorResult; series: TensorSeries } {
  const n = track.gradNormSq.length;
  const ks = kappaFromSeries(track.error, track.gradNormSq, { predictors, window, bootstrap, seed });
  const windows: WindowedKappa = {
    size: ks.windows.size,
    starts: ks.windows.starts,
    kappa: ks.windows.kappa,
    predictableRank: track.windows.predictableRank,
  };
  const spectrum = (fd: StreamingTrack["increments"], rows: number, unpredictable = 0): SpectrumSummary =>
    fd !== null && rows >= 1 ? fdSpectrumSummary(fd, { eps: [...eps], unpredictable }) : EMPTY_SPECTRUM;
  // The oracle of the increments carries the unpredictable t = 0 term, as in exact mode (oracle[0] = P_T(last)).
  const increments = spectrum(track.increments, n - 1, n >= 1 ? track.gradNormSq[0] : 0);
  const gradients = spectrum(track.gradients, n);
  const cosinePredicted: Record<string, number> = {};
  for (const id of predictors) cosinePredicted[id] = track.cosinePredicted[id];
  const result = assembleTensorResult(meta, track.gradNormSq, ks, bootstrap, {
    cosineConsecutive: track.cosineConsecutive,
    cosinePredicted,
    increments,
    gradients,
    windows,
  });
  return { result, series: { gradNormSq: track.gradNormSq, error: track.error } };
}
