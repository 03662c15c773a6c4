/** @file Hashing sketches: CountSketch (one ±1 per column in a hashed row) and block sparse JL (s nonzeros ±1/√s
 * per column, one in each of s row blocks of k/s rows — the construction of Kane & Nelson 2014, "Sparser
 * Johnson–Lindenstrauss transforms", §2 block version). CountSketch is the s = 1 case. Cost O(s·p) per vector.
 *
 * Column j's row and sign in block q come from hashIndex(deriveSeed(seed, 2, q), j): S needs no storage, so any
 * slice at any offset is sketched on its own. For speed the (row, sign) pairs are packed into one int32 per
 * (column, block), entry = (row << 1) | negative, and kept in tables of TABLE_BLOCK_COLUMNS columns through the
 * process-wide BlockCache pool (common.ts): 4·s bytes per coordinate, so the default 64 MiB budget per sketch
 * covers tensors up to 16.7·10^6 coordinates for CountSketch and 2.1·10^6 for sparse JL with s = 8, and all
 * sketches together stop at SHARED_CACHE_BYTES = 256 MiB (6.7·10^7 CountSketch coordinates). Columns whose table
 * block did not fit are hashed on the fly, a chunk of HASH_CHUNK entries at a time, into a small scratch table and
 * then scattered by the same kernel; `cacheBytes: 0` forces that path. Both paths give bit-identical sketches (same
 * entries, same order of additions into each output row).
 *
 * Measured (p = 10^7 float32, k = 512, shared 2-core dev machine under load, ratio to a plain float64 sum of squares
 * over the same buffer in the same run, fastest of interleaved rounds; old and new code A/B in one process and in
 * bench/sketch.bench.ts): CountSketch with the previous kernel (hash inlined in the scatter loop, one loop for both
 * input types) 5.2–8.4×; now 2.0–2.8× with the cached table (the default) and 4.6–5.2× hashing on the fly. Sparse
 * JL with s = 8: 48× → 17× when the whole table fits (p = 2·10^6), 44–52× → 34–45× at p = 10^7 (a fifth tabled). What
 * mattered, from micro-benchmarks of the scatter alone: (1) one kernel per input type — the same unrolled loop after
 * it had also seen Float64Array ran 2× slower; (2) unrolling the scatter by 8 (1.3–1.5× against 4.1–4.8× for the
 * plain loop over the same table — the likely reason an earlier table experiment found no gain); (3) the table
 * itself, a 4-byte load instead of three integer multiplies per coordinate; (4) skipping the multiply by scale = 1
 * for CountSketch (~20%). Hashing a chunk ahead into scratch and then scattering costs about what the fused hash
 * loop did, and keeps one kernel for both paths. Tried without gain: unrolling the hash loop by 4; splitting each
 * row into positive and negative sums (no sign multiply; ~10–20% faster but it changes the rounding, so the
 * sketches would no longer be bit-identical to the previous ones).
 *
 * WebAssembly path (default unless GRADTRACE_KERNELS=js or `kernel: "js"`): wasm/assembly/sketch.ts hashes four
 * columns at once with i32x4 multiplies (the same hash) and scatters them, so it needs no table at all; x is copied
 * into the module's memory in chunks. Every output row receives the same terms in the same order as here, so the
 * sketches are bit-identical to this file's kernels (tested). It serves row blocks of m < 2²² rows (where the
 * float64 bucket arithmetic below is exact); larger blocks stay in JavaScript.
 *
 * Unbiasedness and variance (fully random hash): ‖Sx‖² − ‖x‖² = (1/s) Σ_q Σ_{i≠j} σ_qi σ_qj x_i x_j [h_q(i) = h_q(j)]
 * has mean 0 and, per block, variance 2(‖x‖⁴ − ‖x‖₄⁴)/(k/s); averaging s independent blocks divides by s, so
 * Var‖Sx‖² = 2(‖x‖⁴ − ‖x‖₄⁴)/k ≤ the Gaussian 2‖x‖⁴/k for every s. */

import { GradtraceError } from "../errors.ts";
import type { Vec } from "../matrix.ts";
import { deriveSeed } from "../rng.ts";
import { f32View, f64View, resolveKernels, WasmMemory, wasm } from "../wasm/module.ts";
import {
  BlockCache,
  checkAccumulate,
  DEFAULT_CACHE_BYTES,
  forEachBlock,
  hashIndex,
  LinearSketch,
  sharedCacheFreeBytes,
} from "./common.ts";

const HASH_STREAM_TAG = 2;
/** Default nonzeros per column of sparse JL; reduced to the largest divisor of k that is ≤ 8. */
export const DEFAULT_SPARSITY = 8;
/** Columns per cached table block: s·256 KiB of entries, large enough that per-block bookkeeping is negligible,
 * small enough that a tensor's table is kept block by block up to the budget rather than all or nothing. */
export const TABLE_BLOCK_COLUMNS = 1 << 16;
/** Entries hashed at a time on the uncached path (16 KiB of scratch: stays in L1 between hashing and scattering). */
const HASH_CHUNK = 4096;

export interface HashingSketchOptions {
  readonly k: number;
  readonly dim: number;
  readonly seed?: number;
  /** Nonzeros per column: 1 is CountSketch. Must divide k. */
  readonly s?: number;
  /** Bytes of (row, sign) tables this sketch may keep (4·s bytes per column, within the process-wide pool of
   * common.ts). Default DEFAULT_CACHE_BYTES (64 MiB); 0 always hashes on the fly. Unused by the wasm kernel. */
  readonly cacheBytes?: number;
  /** "wasm" (default unless GRADTRACE_KERNELS=js) or "js" (the reference). */
  readonly kernel?: "js" | "wasm";
}

/** Columns the wasm path copies into module memory at a time (512 KiB of float64). */
const WASM_CHUNK = 1 << 16;

/** Bucket in [0, m) from the high 31 bits of a hash (multiply-shift, uniform up to 2^-31); the sign uses the low bit. */
export function bucketOf(h: number, m: number): number {
  return Math.floor(((h >>> 1) * m) / 2147483648);
}

/** Largest divisor of k not above `preferred` (so the s row blocks have equal size). */
export function sparsityFor(k: number, preferred = DEFAULT_SPARSITY): number {
  for (let s = Math.min(preferred, k); s > 1; s--) if (k % s === 0) return s;
  return 1;
}

/** Table block state: not yet seen, kept by the cache, or refused (then hashed on the fly from then on). */
const UNSEEN = 0;
const KEPT = 1;
const REFUSED = 2;

export class HashingSketch extends LinearSketch {
  readonly kind: "countsketch" | "sparsejl";
  readonly guarantee = "variance-matched" as const;
  readonly s: number;
  private readonly rowsPerBlock: number;
  private readonly bases: Uint32Array;
  /** Table blocks: block b holds columns [b·TABLE_BLOCK_COLUMNS, …), row block q's entry of column c at
   * [q·cols + c] — or at [c·8 + q] when s = 8 (the default sparse JL), which one kernel reads column by column:
   * x[j] is loaded and scaled once for its 8 entries (measured 21× against 28× a sum of squares at p = 2·10^6). */
  private readonly tables: BlockCache<Int32Array> | null;
  private readonly tableState: Uint8Array;
  private readonly scratch = new Int32Array(HASH_CHUNK);
  /** The wasm kernel's buffers (x chunk, then out), or null on the JavaScript path. */
  private readonly wasmMem: WasmMemory | null = null;
  private wasmX = 0;
  private wasmOut = 0;

  constructor({ k, dim, seed = 0, s = 1, cacheBytes = DEFAULT_CACHE_BYTES, kernel }: HashingSketchOptions) {
    const kind = s === 1 ? "countsketch" : "sparsejl";
    super(kind, k, dim, seed);
    if (!Number.isInteger(s) || s < 1 || k % s !== 0) {
      throw new GradtraceError(
        "E_ARG",
        `createSketch(${kind}): s = ${s} nonzeros per column must divide k = ${k}`,
      );
    }
    this.kind = kind;
    this.s = s;
    this.rowsPerBlock = k / s;
    this.bases = Uint32Array.from({ length: s }, (_, q) => deriveSeed(seed, HASH_STREAM_TAG, q));
    const useWasm = resolveKernels(kernel, `createSketch(${kind})`) === "wasm" && this.rowsPerBlock < 2 ** 22;
    const blockCount = Math.ceil(dim / TABLE_BLOCK_COLUMNS);
    this.tableState = new Uint8Array(useWasm ? 0 : blockCount);
    this.tables =
      cacheBytes > 0 && !useWasm ? new BlockCache(cacheBytes, (b) => this.generateTable(b)) : null;
    if (useWasm) {
      this.wasmMem = new WasmMemory(this);
      this.wasmX = this.wasmMem.alloc(8 * Math.min(WASM_CHUNK, dim));
      this.wasmOut = this.wasmMem.alloc(8 * k);
    }
  }

  /** Which implementation `accumulate` runs. */
  get kernel(): "js" | "wasm" {
    return this.wasmMem ? "wasm" : "js";
  }

  /** Writes the encoded (row, sign) of columns [from, from + count) in row block q to dst[at …]. Power-of-two row
   * blocks (the usual k = 2^n) take the bucket from the top bits by a shift, the general case multiplies; both are
   * bucketOf(h, m) exactly. */
  private fillEntries(q: number, from: number, count: number, dst: Int32Array, at: number): void {
    const m = this.rowsPerBlock;
    const base = this.bases[q];
    const rowOffset = q * m;
    if ((m & (m - 1)) === 0) {
      const shift = 31 - Math.log2(m);
      for (let c = 0; c < count; c++) {
        // hashIndex(base, from + c), inlined: on the uncached path this loop is half the cost of the sketch.
        let h = base ^ Math.imul(from + c, 0x9e3779b1);
        h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
        h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
        h ^= h >>> 16;
        dst[at + c] = ((rowOffset + ((h >>> 1) >>> shift)) << 1) | (h & 1);
      }
    } else {
      for (let c = 0; c < count; c++) {
        const h = hashIndex(base, from + c);
        dst[at + c] = ((rowOffset + bucketOf(h, m)) << 1) | (h & 1);
      }
    }
  }

  private generateTable(b: number): Int32Array {
    const from = b * TABLE_BLOCK_COLUMNS;
    const cols = Math.min(TABLE_BLOCK_COLUMNS, this.dim - from);
    const byBlock = new Int32Array(this.s * cols);
    for (let q = 0; q < this.s; q++) this.fillEntries(q, from, cols, byBlock, q * cols);
    if (this.s !== 8) return byBlock;
    const byColumn = new Int32Array(8 * cols);
    for (let q = 0; q < 8; q++) for (let c = 0; c < cols; c++) byColumn[c * 8 + q] = byBlock[q * cols + c];
    return byColumn;
  }

  /** The table block b when it is (or has just been) generated through the cache; null when it must be hashed. The
   * cache does not say whether it kept a block, so that is read from the pool: a kept block is charged to it. */
  private tableFor(b: number): Int32Array | null {
    const state = this.tableState[b];
    if (this.tables === null || state === REFUSED) return null;
    if (state === UNSEEN) {
      const before = sharedCacheFreeBytes();
      const table = this.tables.get(b);
      this.tableState[b] = sharedCacheFreeBytes() < before ? KEPT : REFUSED;
      return table;
    }
    return this.tables.get(b);
  }

  accumulate(x: Vec, offset: number, out: Float64Array): void {
    checkAccumulate(this.kind, this.k, this.dim, x, offset, out);
    const { s } = this;
    const scale = 1 / Math.sqrt(s);
    if (this.wasmMem) {
      this.accumulateWasm(x, offset, out, scale);
      return;
    }
    forEachBlock(offset, x.length, TABLE_BLOCK_COLUMNS, (b, first, j, count) => {
      const table = this.tableFor(b);
      if (table !== null && s === 8) {
        scatterByColumn8(x, j, count, table, first * 8, out, scale);
      } else if (table !== null) {
        const cols = table.length / s;
        for (let q = 0; q < s; q++) scatter(x, j, count, table, q * cols + first, out, scale);
      } else {
        const col = offset + j;
        for (let q = 0; q < s; q++) {
          for (let c = 0; c < count; c += HASH_CHUNK) {
            const chunk = Math.min(HASH_CHUNK, count - c);
            this.fillEntries(q, col + c, chunk, this.scratch, 0);
            scatter(x, j + c, chunk, this.scratch, 0, out, scale);
          }
        }
      }
    });
  }
  /** out += S x on the wasm path: x in chunks into module memory, every row block scattered by the SIMD-hashing
   * kernel; the float32 CountSketch skips the multiply by scale = 1 as the reference does. */
  private accumulateWasm(x: Vec, offset: number, out: Float64Array, scale: number): void {
    const f32 = x instanceof Float32Array;
    this.scatterChunks(offset, x.length, out, scale, f32, (view, from) => {
      view.set(x.subarray(from, from + view.length));
    });
  }

  /**
   * out += S[:, offset : offset + count]·x where the caller writes x itself, chunk by chunk, into the kernel's input
   * buffer: `fill(view, from)` must put x[from … from + view.length) into `view` (a float32 view of WebAssembly
   * memory, valid during that call only; no other WebAssembly allocation may happen in it). Saves the copy when x
   * comes from a file (a trace reader reads float32 data straight into the view). Same result as `accumulate` of
   * the same x as a Float32Array, bit for bit. Returns false (and does nothing) on the JavaScript path.
   */
  accumulateFilled(
    offset: number,
    count: number,
    out: Float64Array,
    fill: (view: Float32Array, from: number) => void,
  ): boolean {
    if (!this.wasmMem) return false;
    checkAccumulate(this.kind, this.k, this.dim, { length: count } as Vec, offset, out);
    this.scatterChunks(offset, count, out, 1 / Math.sqrt(this.s), true, (view, from) =>
      fill(view as Float32Array, from),
    );
    return true;
  }

  private scatterChunks(
    offset: number,
    count: number,
    out: Float64Array,
    scale: number,
    f32: boolean,
    fill: (view: Float32Array | Float64Array, from: number) => void,
  ): void {
    const w = wasm();
    const m = this.rowsPerBlock;
    const shift = (m & (m - 1)) === 0 ? 31 - Math.log2(m) : -1;
    f64View(this.wasmOut, this.k).set(out);
    for (let j = 0; j < count; j += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, count - j);
      fill(f32 ? f32View(this.wasmX, n) : f64View(this.wasmX, n), j);
      // Column indices enter the hash modulo 2³² (Math.imul's ToInt32), as a wasm i32.
      const col0 = (offset + j) | 0;
      for (let q = 0; q < this.s; q++) {
        if (f32) {
          w.hashScatterF32(
            this.wasmX,
            n,
            col0,
            this.bases[q],
            q * m,
            m,
            shift,
            this.wasmOut,
            scale,
            scale === 1 ? 0 : 1,
          );
        } else {
          w.hashScatterF64(this.wasmX, n, col0, this.bases[q], q * m, m, shift, this.wasmOut, scale);
        }
      }
    }
    out.set(f64View(this.wasmOut, this.k));
  }
}

/** out[row] ±= scale·x[from + c] for the `count` entries starting at entries[at]. Dispatches to kernels that each
 * see one input type (the same loop fed both Float32Array and Float64Array ran 2× slower) and, for float32 input
 * with s = 1, skips the multiply by scale = 1 (exact, so the result is unchanged; ~20% faster). */
function scatter(
  x: Vec,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
  scale: number,
): void {
  if (x instanceof Float32Array) {
    if (scale === 1) scatterF32(x, from, count, entries, at, out);
    else scatterScaledF32(x, from, count, entries, at, out, scale);
  } else scatterScaledF64(x, from, count, entries, at, out, scale);
}

/* The kernels below are one loop written three times (see `scatter`). The sign is applied as a multiply by ±1
 * rather than a branch (a coin flip per coordinate would be mispredicted half the time); (±1·scale)·x is
 * bit-identical to ±(x·scale), so every path of this file adds the same numbers in the same order. Unrolled by 8:
 * independent loads and adds in flight hide the latency of each random-row read-modify-write. */

function scatterF32(
  x: Float32Array,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
): void {
  let c = 0;
  for (; c + 8 <= count; c += 8) {
    const j = from + c;
    const e = at + c;
    const e0 = entries[e];
    const e1 = entries[e + 1];
    const e2 = entries[e + 2];
    const e3 = entries[e + 3];
    const e4 = entries[e + 4];
    const e5 = entries[e + 5];
    const e6 = entries[e + 6];
    const e7 = entries[e + 7];
    out[e0 >> 1] += (1 - 2 * (e0 & 1)) * x[j];
    out[e1 >> 1] += (1 - 2 * (e1 & 1)) * x[j + 1];
    out[e2 >> 1] += (1 - 2 * (e2 & 1)) * x[j + 2];
    out[e3 >> 1] += (1 - 2 * (e3 & 1)) * x[j + 3];
    out[e4 >> 1] += (1 - 2 * (e4 & 1)) * x[j + 4];
    out[e5 >> 1] += (1 - 2 * (e5 & 1)) * x[j + 5];
    out[e6 >> 1] += (1 - 2 * (e6 & 1)) * x[j + 6];
    out[e7 >> 1] += (1 - 2 * (e7 & 1)) * x[j + 7];
  }
  for (; c < count; c++) {
    const e = entries[at + c];
    out[e >> 1] += (1 - 2 * (e & 1)) * x[from + c];
  }
}

function scatterScaledF32(
  x: Float32Array,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
  scale: number,
): void {
  let c = 0;
  for (; c + 8 <= count; c += 8) {
    const j = from + c;
    const e = at + c;
    const e0 = entries[e];
    const e1 = entries[e + 1];
    const e2 = entries[e + 2];
    const e3 = entries[e + 3];
    const e4 = entries[e + 4];
    const e5 = entries[e + 5];
    const e6 = entries[e + 6];
    const e7 = entries[e + 7];
    out[e0 >> 1] += (1 - 2 * (e0 & 1)) * scale * x[j];
    out[e1 >> 1] += (1 - 2 * (e1 & 1)) * scale * x[j + 1];
    out[e2 >> 1] += (1 - 2 * (e2 & 1)) * scale * x[j + 2];
    out[e3 >> 1] += (1 - 2 * (e3 & 1)) * scale * x[j + 3];
    out[e4 >> 1] += (1 - 2 * (e4 & 1)) * scale * x[j + 4];
    out[e5 >> 1] += (1 - 2 * (e5 & 1)) * scale * x[j + 5];
    out[e6 >> 1] += (1 - 2 * (e6 & 1)) * scale * x[j + 6];
    out[e7 >> 1] += (1 - 2 * (e7 & 1)) * scale * x[j + 7];
  }
  for (; c < count; c++) {
    const e = entries[at + c];
    out[e >> 1] += (1 - 2 * (e & 1)) * scale * x[from + c];
  }
}

function scatterScaledF64(
  x: Float64Array,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
  scale: number,
): void {
  let c = 0;
  for (; c + 8 <= count; c += 8) {
    const j = from + c;
    const e = at + c;
    const e0 = entries[e];
    const e1 = entries[e + 1];
    const e2 = entries[e + 2];
    const e3 = entries[e + 3];
    const e4 = entries[e + 4];
    const e5 = entries[e + 5];
    const e6 = entries[e + 6];
    const e7 = entries[e + 7];
    out[e0 >> 1] += (1 - 2 * (e0 & 1)) * scale * x[j];
    out[e1 >> 1] += (1 - 2 * (e1 & 1)) * scale * x[j + 1];
    out[e2 >> 1] += (1 - 2 * (e2 & 1)) * scale * x[j + 2];
    out[e3 >> 1] += (1 - 2 * (e3 & 1)) * scale * x[j + 3];
    out[e4 >> 1] += (1 - 2 * (e4 & 1)) * scale * x[j + 4];
    out[e5 >> 1] += (1 - 2 * (e5 & 1)) * scale * x[j + 5];
    out[e6 >> 1] += (1 - 2 * (e6 & 1)) * scale * x[j + 6];
    out[e7 >> 1] += (1 - 2 * (e7 & 1)) * scale * x[j + 7];
  }
  for (; c < count; c++) {
    const e = entries[at + c];
    out[e >> 1] += (1 - 2 * (e & 1)) * scale * x[from + c];
  }
}

/** Sparse JL with s = 8 from a column-major table: out[row] ±= scale·x[from + c] for the 8 entries of each column,
 * entries[at + 8c …]. Each output row belongs to one row block and still receives its terms in column order, and
 * ±1·(scale·x) is bit-identical to (±1·scale)·x, so the result equals the block-by-block kernels' bit for bit. The
 * float32 and float64 copies below are deliberate twins, one input type per kernel (see `scatter`). */
function scatterByColumn8(
  x: Vec,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
  scale: number,
): void {
  if (x instanceof Float32Array) scatterByColumn8F32(x, from, count, entries, at, out, scale);
  else scatterByColumn8F64(x, from, count, entries, at, out, scale);
}

function scatterByColumn8F32(
  x: Float32Array,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
  scale: number,
): void {
  for (let c = 0, e = at; c < count; c++, e += 8) {
    const v = scale * x[from + c];
    const e0 = entries[e];
    const e1 = entries[e + 1];
    const e2 = entries[e + 2];
    const e3 = entries[e + 3];
    const e4 = entries[e + 4];
    const e5 = entries[e + 5];
    const e6 = entries[e + 6];
    const e7 = entries[e + 7];
    out[e0 >> 1] += (1 - 2 * (e0 & 1)) * v;
    out[e1 >> 1] += (1 - 2 * (e1 & 1)) * v;
    out[e2 >> 1] += (1 - 2 * (e2 & 1)) * v;
    out[e3 >> 1] += (1 - 2 * (e3 & 1)) * v;
    out[e4 >> 1] += (1 - 2 * (e4 & 1)) * v;
    out[e5 >> 1] += (1 - 2 * (e5 & 1)) * v;
    out[e6 >> 1] += (1 - 2 * (e6 & 1)) * v;
    out[e7 >> 1] += (1 - 2 * (e7 & 1)) * v;
  }
}

function scatterByColumn8F64(
  x: Float64Array,
  from: number,
  count: number,
  entries: Int32Array,
  at: number,
  out: Float64Array,
  scale: number,
): void {
  for (let c = 0, e = at; c < count; c++, e += 8) {
    const v = scale * x[from + c];
    const e0 = entries[e];
    const e1 = entries[e + 1];
    const e2 = entries[e + 2];
    const e3 = entries[e + 3];
    const e4 = entries[e + 4];
    const e5 = entries[e + 5];
    const e6 = entries[e + 6];
    const e7 = entries[e + 7];
    out[e0 >> 1] += (1 - 2 * (e0 & 1)) * v;
    out[e1 >> 1] += (1 - 2 * (e1 & 1)) * v;
    out[e2 >> 1] += (1 - 2 * (e2 & 1)) * v;
    out[e3 >> 1] += (1 - 2 * (e3 & 1)) * v;
    out[e4 >> 1] += (1 - 2 * (e4 & 1)) * v;
    out[e5 >> 1] += (1 - 2 * (e5 & 1)) * v;
    out[e6 >> 1] += (1 - 2 * (e6 & 1)) * v;
    out[e7 >> 1] += (1 - 2 * (e7 & 1)) * v;
  }
}
