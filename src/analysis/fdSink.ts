/** @file Frequent Directions over the coordinates: the trace's gradient matrix G (p × T: one row per coordinate, one
 * column per step) is streamed row by row into an ℓ-row FD sketch B (ℓ × T). BᵀB approximates K = GᵀG — the T×T
 * Gram every metric comes from — with the deterministic guarantee 0 ≼ K − BᵀB, ‖K − BᵀB‖₂ ≤ Δ (the measured total
 * shrinkage, itself ≤ ‖G − G_k‖_F²/(ℓ − k)). This is the orientation where FD serves the T×T metrics; it costs
 * O(ℓ·T) memory instead of O(T²), which matters when T is large, and the coordinates arrive in exactly the
 * coordinate-blocked order of the exact pass. */

import type { Mat } from "../core/index.ts";
import { FrequentDirections, GramAccumulator } from "../core/index.ts";
import type { BlockSink } from "./gramPass.ts";

export class FdGramSink implements BlockSink {
  private readonly fd: FrequentDirections;
  private readonly row: Float64Array;

  constructor(
    private readonly n: number,
    ell: number,
  ) {
    this.fd = new FrequentDirections({ ell, dim: n });
    this.row = new Float64Array(n);
  }

  addBlock(block: Float64Array, width: number): void {
    const { n, row } = this;
    for (let c = 0; c < width; c++) {
      for (let t = 0; t < n; t++) row[t] = block[t * width + c];
      this.fd.update(row);
    }
  }

  /** BᵀB, the sketched Gram (n × n). */
  get gram(): Mat {
    const b = this.fd.sketch;
    // BᵀB = Σ over B's rows of outer products: the accumulator takes n rows × ℓ columns, i.e. Bᵀ.
    const bt = new Float64Array(this.n * b.rows);
    for (let i = 0; i < b.rows; i++)
      for (let t = 0; t < this.n; t++) bt[t * b.rows + i] = b.data[i * this.n + t];
    const acc = new GramAccumulator(this.n);
    acc.addBlock(bt, b.rows);
    return acc.gram;
  }

  /** Δ: ‖K − BᵀB‖₂ ≤ Δ, deterministic. */
  get shrinkage(): number {
    return this.fd.shrinkage;
  }
}
