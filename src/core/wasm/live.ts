/** @file One tensor's vectors for the live accumulator's WebAssembly path (src/core/live.ts): a ring of float32
 * slots holding the kept window plus the steps not yet processed, and the tensor's EMA states (float64), all in
 * WebAssembly memory. `ingest` copies a step in and returns ‖g‖²; `flush` runs the fused kernel
 * (wasm/assembly/live.ts) over the buffered steps: their window Gram rows and every EMA's error, in one pass over
 * the coordinates that reads each kept vector once per batch rather than once per step.
 *
 * Ring slot of step t: t mod (window + batch). With at most `batch` steps buffered, a new step's slot last held
 * step t − window − batch, older than anything a buffered step still needs. */
import { f32View, f64View, i32View, WasmMemory, wasm } from "./module.ts";

/** Largest module memory the live path takes for one accumulator; above it the accumulator stays in JavaScript
 * (a 32-bit WebAssembly memory ends at 4 GiB, shared by everything in the thread). */
export const WASM_LIVE_MAX_BYTES = 2 ** 31;

export class WasmLiveTensor {
  readonly numel: number;
  readonly window: number;
  readonly batch: number;
  readonly emaCount: number;
  /** Ring slots: window + batch. */
  readonly slots: number;
  private readonly ldk: number;
  private readonly mem: WasmMemory;
  private readonly ring: number;
  private readonly ema: number;
  private readonly alphas: number;
  private readonly kb: number;
  private readonly panel: number;
  private readonly rowSlots: number;
  private readonly errs: number;

  /** Module bytes one tensor needs (to decide whether the WebAssembly path fits). */
  static bytesFor(numel: number, window: number, batch: number, emaCount: number): number {
    const rows = window + batch;
    const ldk = Math.ceil(rows / 4) * 4;
    return (
      rows * numel * 4 + emaCount * numel * 8 + ldk * ldk * 8 + ldk * 2048 + rows * 4 + batch * emaCount * 8
    );
  }

  /** alphas[a] = 1 − β of the tensor's a-th EMA. */
  constructor(numel: number, window: number, batch: number, alphas: readonly number[]) {
    const w = wasm();
    this.numel = numel;
    this.window = window;
    this.batch = batch;
    this.emaCount = alphas.length;
    this.slots = window + batch;
    this.ldk = w.gramPaddedRows(this.slots);
    this.mem = new WasmMemory(this);
    this.ring = this.mem.alloc(this.slots * numel * 4);
    this.ema = this.mem.alloc(this.emaCount * numel * 8);
    this.alphas = this.mem.alloc(this.emaCount * 8);
    this.kb = this.mem.alloc(this.ldk * this.ldk * 8);
    this.panel = this.mem.alloc(w.gramPanelBytes(this.slots));
    this.rowSlots = this.mem.alloc(this.slots * 4);
    this.errs = this.mem.alloc(batch * this.emaCount * 8);
    f64View(this.alphas, this.emaCount).set(alphas);
  }

  private slotPtr(t: number): number {
    return this.ring + (t % this.slots) * this.numel * 4;
  }

  /** Copies g_t into its slot; returns ‖g_t‖² in float64 (NaN or ±Inf when g_t holds NaN or ±Inf). */
  ingest(t: number, g: Float32Array): number {
    const ptr = this.slotPtr(t);
    f32View(ptr, this.numel).set(g);
    return wasm().sumSquaresF32(ptr, this.numel);
  }

  /**
   * Processes the `count` buffered steps t0 … t0 + count − 1: rows[s][d] = ⟨g_{t0+s}, g_{t0+s−d}⟩ for
   * 1 ≤ d ≤ min(window, t0 + s) (rows[s][0] is left to the caller, who has ‖g‖² from `ingest`), and
   * errors[s·emaCount + a] = ‖g_{t0+s} − m_a‖² before EMA a's update. With `emaInit` the first step starts the EMAs
   * (m = g) and its errors are not written.
   */
  flush(
    t0: number,
    count: number,
    emaInit: boolean,
    rows: readonly Float64Array[],
    errors: Float64Array,
  ): void {
    const w = wasm();
    const nOld = Math.min(this.window, t0);
    const total = nOld + count;
    const slots = i32View(this.rowSlots, total);
    for (let r = 0; r < total; r++) slots[r] = (t0 - nOld + r) % this.slots;
    w.liveFlush(
      this.ring,
      this.numel,
      this.rowSlots,
      total,
      nOld,
      this.window,
      this.kb,
      this.ldk,
      this.panel,
      this.ema,
      this.emaCount,
      this.alphas,
      emaInit ? 1 : 0,
      this.errs,
    );
    const kb = f64View(this.kb, this.ldk * this.ldk);
    for (let s = 0; s < count; s++) {
      const i = nOld + s;
      const row = rows[s];
      const lags = Math.min(this.window, t0 + s);
      for (let d = 1; d <= lags; d++) row[d] = kb[i * this.ldk + i - d];
    }
    errors.set(f64View(this.errs, count * this.emaCount));
  }

  /** Copy of g_t (for moving the tensor to the JavaScript path); t must still be in the ring. */
  vector(t: number): Float32Array {
    return f32View(this.slotPtr(t), this.numel).slice();
  }

  /** Copy of EMA a's state m. */
  emaState(a: number): Float64Array {
    return f64View(this.ema + a * this.numel * 8, this.numel).slice();
  }

  /** Sets EMA a's state m (a state resumed from elsewhere: the streaming mode's step ranges). */
  setEmaState(a: number, m: Float64Array): void {
    f64View(this.ema + a * this.numel * 8, this.numel).set(m);
  }

  dispose(): void {
    this.mem.release();
  }
}
