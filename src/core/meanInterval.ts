/** @file Student-t confidence interval for the mean of a few independent values (seeds): the interval used when
 * a quantity was measured once per seed and the seeds are the only replication. */

/** Two-sided 95 % Student-t quantiles t_{0.975, ν} for ν = 1..30 degrees of freedom (beyond: the normal 1.96). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

export interface MeanInterval {
  readonly mean: number;
  /** 95 % interval mean ± t_{0.975, n−1}·sd/√n; [mean, mean] for a single value. */
  readonly lo: number;
  readonly hi: number;
}

/** Mean and 95 % Student-t interval of independent values (NaN for an empty list). */
export function meanInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN };
  const mean = values.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, lo: mean, hi: mean };
  const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = (n - 1 <= T975.length ? T975[n - 2] : 1.96) * (sd / Math.sqrt(n));
  return { mean, lo: mean - half, hi: mean + half };
}
