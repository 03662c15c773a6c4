/** @file The WebAssembly Gram block update behind GramAccumulator's "wasm" kernel: K (float64, lower triangle, rows
 * padded to a multiple of 4), the float64 panel scratch and the row flags live in the module's memory; blocks are
 * copied in (or written in place by the caller through `stage`). Kernel: wasm/assembly/gram.ts. */
import { GradtraceError } from "../errors.ts";
import type { Vec } from "../matrix.ts";
import { f32View, f64View, i32View, WasmMemory, wasm } from "./module.ts";

export class WasmGram {
  readonly n: number;
  /** Row stride of K in entries (n rounded up to 4). */
  private readonly ldk: number;
  private readonly mem: WasmMemory;
  private readonly k: number;
  private readonly panel: number;
  private readonly flags: number;
  private staging = 0;
  private stagingBytes = 0;
  private disposed = false;

  constructor(n: number) {
    const w = wasm();
    this.n = n;
    this.ldk = w.gramPaddedRows(n);
    this.mem = new WasmMemory(this);
    this.k = this.mem.alloc(this.ldk * this.ldk * 8, true);
    this.panel = this.mem.alloc(w.gramPanelBytes(n));
    this.flags = this.mem.alloc(n * 4, true);
  }

  private ensureStaging(bytes: number): number {
    if (this.stagingBytes < bytes) {
      if (this.staging !== 0) this.mem.free(this.staging);
      this.staging = this.mem.alloc(bytes);
      this.stagingBytes = bytes;
    }
    return this.staging;
  }

  /** A view of n × width elements in module memory for the caller to fill before `addStaged(width, type)`; valid
   * until the next allocation in the module (do not allocate between). */
  stage(width: number, type: "f32"): Float32Array;
  stage(width: number, type: "f64"): Float64Array;
  stage(width: number, type: "f32" | "f64"): Float32Array | Float64Array {
    const count = this.n * width;
    const ptr = this.ensureStaging(count * (type === "f32" ? 4 : 8));
    return type === "f32" ? f32View(ptr, count) : f64View(ptr, count);
  }

  addStaged(width: number, type: "f32" | "f64"): void {
    this.checkLive();
    if (width === 0) return;
    if (this.stagingBytes < this.n * width * (type === "f32" ? 4 : 8)) {
      throw new GradtraceError("E_ARG", `WasmGram.addStaged: nothing staged for width ${width}`);
    }
    const w = wasm();
    const add = type === "f32" ? w.gramAddF32 : w.gramAddF64;
    add(this.k, this.ldk, this.n, this.staging, width, this.panel, this.flags);
  }

  /** K += B·Bᵀ for a block held in JavaScript memory (copied in). */
  addBlock(block: Vec, width: number): void {
    if (block instanceof Float32Array) {
      this.stage(width, "f32").set(block);
      this.addStaged(width, "f32");
    } else {
      this.stage(width, "f64").set(block);
      this.addStaged(width, "f64");
    }
  }

  /** Lower triangle (and diagonal) of K into `out` (row-major n × n; entries above the diagonal untouched). */
  readLower(out: Float64Array): void {
    this.checkLive();
    const { n, ldk } = this;
    const k = f64View(this.k, ldk * n);
    for (let i = 0; i < n; i++) out.set(k.subarray(i * ldk, i * ldk + i + 1), i * n);
  }

  /** Rows (vector indices) in which a NaN or ±Inf has been seen so far, ascending. */
  nonFiniteRows(): number[] {
    const f = i32View(this.flags, this.n);
    const rows: number[] = [];
    for (let i = 0; i < this.n; i++) if (f[i] !== 0) rows.push(i);
    return rows;
  }

  dispose(): void {
    this.disposed = true;
    this.mem.release();
  }

  private checkLive(): void {
    if (this.disposed) throw new GradtraceError("E_ARG", "GramAccumulator: used after dispose()");
  }
}
