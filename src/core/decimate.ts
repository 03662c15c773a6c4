/** @file Decimation of long per-step series for display (a 100,000-step run drawn in a 1,000-pixel chart): the steps
 * are cut into buckets and each bucket keeps its minimum and its maximum, in step order, so spikes and dips survive
 * (an average or every n-th point would hide exactly the steps one looks for). Non-finite values are skipped; a
 * bucket without a finite value keeps one NaN point, so the chart shows a gap there. */

export interface DecimatedSeries {
  /** Positions (indices into the original series) of the kept points, ascending. */
  readonly index: number[];
  readonly value: number[];
}

/** At most about `maxPoints` points (two per bucket) of y; a series that already fits is returned whole. */
export function decimateMinMax(y: ArrayLike<number>, maxPoints: number): DecimatedSeries {
  const n = y.length;
  if (n <= maxPoints || maxPoints < 4) {
    return { index: Array.from({ length: n }, (_, i) => i), value: Array.from(y) };
  }
  const buckets = Math.floor(maxPoints / 2);
  const index: number[] = [];
  const value: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = from; i < to; i++) {
      const v = y[i];
      if (!Number.isFinite(v)) continue;
      if (lo < 0 || v < y[lo]) lo = i;
      if (hi < 0 || v > y[hi]) hi = i;
    }
    if (lo < 0) {
      index.push(from);
      value.push(Number.NaN);
    } else if (lo === hi) {
      index.push(lo);
      value.push(y[lo]);
    } else {
      const [a, c] = lo < hi ? [lo, hi] : [hi, lo];
      index.push(a, c);
      value.push(y[a], y[c]);
    }
  }
  return { index, value };
}
