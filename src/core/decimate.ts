/** @file Decimation of long per-step series for display (a 100,000-step run drawn in a 1,000-pixel chart): the steps
 * are cut into buckets and each bucket keeps its minimum and its maximum, in step order, so spikes and dips survive
 * (an average or every n-th point would hide exactly the steps one looks for). Non-finite values are skipped; a
 * bucket without a finite value keeps one NaN point, so the chart shows a gap there.
 *
 * Buckets are contiguous index ranges [⌊b·n/B⌋, ⌊(b+1)·n/B⌋) (`bucketStart`), the same cut for every function here:
 * one series (`decimateMinMax`), several series on one x (`decimateMinMaxMany`: each bucket keeps the union of the
 * series' extremes, so they stay aligned on shared indices) and column means (`bucketMeans`, the heatmap's time axis,
 * where a cell shows the mean of the columns it covers, as the page's own pixel aggregation does). */

export interface DecimatedSeries {
  /** Positions (indices into the original series) of the kept points, ascending. */
  readonly index: number[];
  readonly value: number[];
}

/** Buckets of a decimation to `maxPoints` points: two points (minimum, maximum) each, and two more for the first and
 * the last position, which are always kept (a chart of the decimated series spans the same x range). */
export function decimationBuckets(maxPoints: number): number {
  return Math.max(1, Math.floor((maxPoints - 2) / 2));
}

/** First index of bucket b when n items are cut into `buckets` buckets (b = buckets gives n). */
export function bucketStart(b: number, n: number, buckets: number): number {
  return Math.floor((b * n) / buckets);
}

/** Indices of the minimum and maximum finite value of y[from, to), or [-1, -1] when none is finite. */
function extremes(y: ArrayLike<number>, from: number, to: number): [number, number] {
  let lo = -1;
  let hi = -1;
  for (let i = from; i < to; i++) {
    const v = y[i];
    if (!Number.isFinite(v)) continue;
    if (lo < 0 || v < y[lo]) lo = i;
    if (hi < 0 || v > y[hi]) hi = i;
  }
  return [lo, hi];
}

/** At most `maxPoints` points of y (two per bucket, and the first and last); a series that fits is returned whole. */
export function decimateMinMax(y: ArrayLike<number>, maxPoints: number): DecimatedSeries {
  const { index } = decimateMinMaxMany([y], maxPoints, y.length);
  return { index, value: index.map((i) => y[i]) };
}

/**
 * Shared kept indices of several series over the same n positions: each bucket (`decimationBuckets(maxPoints)` of
 * them) keeps, in index order, the positions of every series' minimum and maximum there (a bucket where no series
 * is finite keeps its first position, NaN in every series: a gap), and the first and last positions are always kept.
 * So each series keeps its own extremes and all stay aligned on one x. The result has at most
 * `maxPoints · ys.length` points (`maxPoints` for one series); n ≤ maxPoints keeps every position.
 */
export function decimateMinMaxMany(
  ys: readonly ArrayLike<number>[],
  maxPoints: number,
  n: number = ys[0]?.length ?? 0,
): { index: number[] } {
  if (n <= maxPoints || maxPoints < 4) return { index: Array.from({ length: n }, (_, i) => i) };
  const buckets = decimationBuckets(maxPoints);
  const index: number[] = [];
  const kept: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = bucketStart(b, n, buckets);
    const to = bucketStart(b + 1, n, buckets);
    kept.length = 0;
    if (b === 0) kept.push(0);
    if (b === buckets - 1) kept.push(n - 1);
    let finite = false;
    for (const y of ys) {
      const [lo, hi] = extremes(y, from, to);
      if (lo >= 0) {
        kept.push(lo, hi);
        finite = true;
      }
    }
    if (!finite) kept.push(from);
    kept.sort((a, c) => a - c);
    for (let k = 0; k < kept.length; k++) if (k === 0 || kept[k] !== kept[k - 1]) index.push(kept[k]);
  }
  return { index };
}

/**
 * Column means of a rows × n row-major matrix cut into `buckets` column buckets: out[r·buckets + b] is the mean of
 * the finite values of row r in bucket b (NaN when none is finite). buckets ≥ n returns the matrix unchanged.
 */
export function bucketMeans(
  values: ArrayLike<number>,
  rows: number,
  n: number,
  buckets: number,
): Float64Array {
  if (buckets >= n) return Float64Array.from(values);
  const out = new Float64Array(rows * buckets);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let b = 0; b < buckets; b++) {
      let sum = 0;
      let count = 0;
      for (let c = bucketStart(b, n, buckets), e = bucketStart(b + 1, n, buckets); c < e; c++) {
        const v = values[base + c];
        if (Number.isFinite(v)) {
          sum += v;
          count++;
        }
      }
      out[r * buckets + b] = count > 0 ? sum / count : Number.NaN;
    }
  }
  return out;
}
