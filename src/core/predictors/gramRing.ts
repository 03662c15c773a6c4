/** @file Gram entries of the last few steps, addressed by absolute step index: the O(w²) memory that lets lagged
 * predictors run in live mode without keeping K for the whole run. Entry (i, j) is valid while
 * t − capacity < i, j ≤ t, where t is the newest row set. */
import type { GramReader } from "./types.ts";

export class GramRing implements GramReader {
  readonly capacity: number;
  private readonly data: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.data = new Float64Array(capacity * capacity);
  }

  get(i: number, j: number): number {
    const c = this.capacity;
    return this.data[(i % c) * c + (j % c)];
  }

  /** Sets row/column t: dots[d] = ⟨g_t, g_{t−d}⟩ for d = 0..dots.length−1 (dots.length ≤ capacity). */
  setRow(t: number, dots: ArrayLike<number>): void {
    const c = this.capacity;
    const it = t % c;
    for (let d = 0; d < dots.length && d <= t; d++) {
      const js = (t - d) % c;
      this.data[it * c + js] = dots[d];
      this.data[js * c + it] = dots[d];
    }
  }
}

/** A full Gram matrix seen through the reader interface. */
export function matReader(k: { readonly cols: number; readonly data: Float64Array }): GramReader {
  const { cols, data } = k;
  return { get: (i, j) => data[i * cols + j] };
}
