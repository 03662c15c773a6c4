/** @file Block bootstrap confidence interval for a ratio of sums, Σnum / Σden — κ's interval uses num = the error
 * series ‖g_t − m_t‖² and den = ‖g_t‖². Steps of a training run are autocorrelated, so resampling single steps
 * (the i.i.d. bootstrap) understates the uncertainty; resampling contiguous blocks keeps the dependence inside a
 * block.
 *
 * Method: circular block bootstrap (Politis & Romano 1992). A resample concatenates ceil(n / L) blocks of L
 * consecutive steps with uniformly random starts, wrapping around the end (so every step is equally likely to be
 * drawn), truncated to n steps; the statistic is recomputed on it; the interval is the percentile interval
 * (quantiles (1 − level)/2 and (1 + level)/2, linear interpolation between order statistics).
 * Default block length L = ceil(n^{1/3}), the classical rate for variance estimation with blocks; pass a larger
 * `blockLength` for strongly autocorrelated series. Seeded through src/core/rng.ts: same inputs and seed, same
 * interval. Resamples whose Σden is 0 give no ratio and are left out; [NaN, NaN] when none remain or n = 0. */
import { GradtraceError } from "./errors.ts";
import { createRng } from "./rng.ts";

export interface BlockBootstrapOptions {
  /** Block length L (default ceil(n^{1/3})); 1 gives the ordinary i.i.d. bootstrap. */
  blockLength?: number;
  resamples?: number;
  level?: number;
  seed?: number;
}

export function defaultBlockLength(n: number): number {
  return Math.max(1, Math.ceil(Math.cbrt(n)));
}

/** Type-7 quantile of sorted values. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Throws E_ARG naming `where` unless the confidence level is in (0, 1) and, when given, the number of resamples is
 * an integer ≥ 1 (shared by the intervals of this file and stats.ts). */
export function checkIntervalOptions(where: string, level: number, resamples?: number): void {
  if (!(level > 0 && level < 1)) {
    throw new GradtraceError("E_ARG", `${where}: level must be in (0, 1), got ${level}`);
  }
  if (resamples !== undefined && !(Number.isInteger(resamples) && resamples >= 1)) {
    throw new GradtraceError("E_ARG", `${where}: resamples must be an integer ≥ 1, got ${resamples}`);
  }
}

export function blockBootstrapRatioCI(
  num: Float64Array,
  den: Float64Array,
  { blockLength, resamples = 1000, level = 0.95, seed = 0 }: BlockBootstrapOptions = {},
): [number, number] {
  const n = num.length;
  if (den.length !== n) {
    throw new GradtraceError(
      "E_SHAPE",
      `blockBootstrapRatioCI: num has ${n} steps but den has ${den.length}`,
    );
  }
  checkIntervalOptions("blockBootstrapRatioCI", level, resamples);
  const length = blockLength ?? defaultBlockLength(n);
  if (!(Number.isInteger(length) && length >= 1)) {
    throw new GradtraceError(
      "E_ARG",
      `blockBootstrapRatioCI: blockLength must be an integer ≥ 1, got ${length}`,
    );
  }
  if (n === 0) return [Number.NaN, Number.NaN];
  const L = Math.min(length, n);
  // Prefix sums over the series repeated twice: any circular block sum in O(1).
  const pn = new Float64Array(2 * n + 1);
  const pd = new Float64Array(2 * n + 1);
  for (let i = 0; i < 2 * n; i++) {
    pn[i + 1] = pn[i] + num[i % n];
    pd[i + 1] = pd[i] + den[i % n];
  }
  const rng = createRng(seed);
  const ratios = new Float64Array(resamples);
  let kept = 0;
  const fullBlocks = Math.floor(n / L);
  const tail = n - fullBlocks * L;
  for (let r = 0; r < resamples; r++) {
    let sn = 0;
    let sd = 0;
    for (let b = 0; b < fullBlocks; b++) {
      const start = rng.int(n);
      sn += pn[start + L] - pn[start];
      sd += pd[start + L] - pd[start];
    }
    if (tail > 0) {
      const start = rng.int(n);
      sn += pn[start + tail] - pn[start];
      sd += pd[start + tail] - pd[start];
    }
    const ratio = sn / sd;
    if (Number.isFinite(ratio)) ratios[kept++] = ratio;
  }
  if (kept === 0) return [Number.NaN, Number.NaN];
  const sorted = ratios.slice(0, kept).sort();
  return [quantileSorted(sorted, (1 - level) / 2), quantileSorted(sorted, (1 + level) / 2)];
}
