/** @file Gram entries of the last few steps, addressed by absolute step index: the O(w²) memory that lets lagged
 * predictors run in live mode without keeping K for the whole run. Entry (i, j) is valid while
 * t − capacity < i, j ≤ t, where t is the newest row set. Up to 256 steps the storage is rounded up to a power of
 * two so that an index maps to its slot with a mask instead of a division (`get` runs O(w²) times per step for the
 * window-gram predictors); larger rings keep their exact size (memory is capacity², per tensor). */
import type { GramReader } from "./types.ts";

export class GramRing implements GramReader {
  /** Steps kept (at least the capacity asked for). */
  readonly capacity: number;
  private readonly mask: number;
  private readonly shift: number;
  private readonly data: Float64Array;

  constructor(capacity: number) {
    const shift = Math.max(0, Math.ceil(Math.log2(Math.max(1, capacity))));
    // shift = −1 marks the exact-size layout (slot = index mod capacity).
    this.shift = capacity <= 256 ? shift : -1;
    this.capacity = this.shift >= 0 ? 1 << shift : capacity;
    this.mask = this.capacity - 1;
    this.data = new Float64Array(this.capacity * this.capacity);
  }

  private slot(i: number, j: number): number {
    const c = this.capacity;
    return this.shift >= 0 ? ((i & this.mask) << this.shift) | (j & this.mask) : (i % c) * c + (j % c);
  }

  get(i: number, j: number): number {
    return this.data[this.slot(i, j)];
  }

  /** Sets row/column t: dots[d] = ⟨g_t, g_{t−d}⟩ for d = 0..dots.length−1 (dots.length ≤ capacity). */
  setRow(t: number, dots: ArrayLike<number>): void {
    for (let d = 0; d < dots.length && d <= t; d++) {
      this.data[this.slot(t, t - d)] = dots[d];
      this.data[this.slot(t - d, t)] = dots[d];
    }
  }
}

/** A full Gram matrix seen through the reader interface. */
export function matReader(k: { readonly cols: number; readonly data: Float64Array }): GramReader {
  const { cols, data } = k;
  return { get: (i, j) => data[i * cols + j] };
}
