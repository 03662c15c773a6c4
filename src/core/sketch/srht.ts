/** @file Block subsampled randomized Hadamard transform (SRHT). A single SRHT over all p coordinates needs the
 * whole vector at once; gradients arrive in slices, so coordinates are split into fixed blocks of n = 2^b and each
 * block β gets its own independent SRHT with random output signs, S_β = E_β · √(n/k) · R_β · (H_n/√n) · D_β
 * (D_β: random signs on the block's coordinates, H_n: the ±1 Walsh–Hadamard matrix, R_β: k distinct rows sampled
 * uniformly, E_β: random signs on the k outputs). The sketch is S x = Σ_β S_β x_β, linear in x and independent of
 * how x was sliced (a slice only touches the blocks it overlaps, zero-padded).
 *
 * Why the output signs E_β: column 0 of H_n is all ones whatever rows are sampled, so without E_β the first
 * coordinate of every block maps to the same direction ±1/√k·(1, …, 1) and a vector with mass on several block
 * starts is not embedded at all (‖Sx‖² swings between 0 and a multiple of ‖x‖²; kept as a regression test). E_β
 * makes the blocks' outputs independent sign-randomised vectors. Within a block it changes nothing (E_β² = I).
 * Cost O(n log n) per block, i.e. O(p log n) per vector; tiny slices (biases) use the direct O(m·k) formula instead.
 *
 * Why the sum of block SRHTs is still an unbiased JL embedding with the Gaussian variance. Rows sampled without
 * replacement give E[R_βᵀR_β] = (k/n)·I, so E[S_βᵀS_β] = D H Hᵀ D / n = I; for β ≠ γ the sign vectors are
 * independent with mean zero, so E[S_βᵀS_γ] = 0. Hence E‖Sx‖² = ‖x‖². Write v_β = S_β x_β. Flipping all signs of D_β
 * flips v_β, so Sx has the law of Σ_β ε_β v_β with independent Rademacher ε_β, and
 *   ‖Sx‖² = Σ_β ‖v_β‖² + Σ_{β≠γ} ε_β ε_γ ⟨v_β, v_γ⟩.
 * Within a block (sampling with replacement, which has the larger variance), Var‖v_β‖² ≤ (n·E Σ_j y_j⁴ − ‖x_β‖⁴)/k
 * with y = H D x_β/√n and n·E Σ_j y_j⁴ = 3‖x_β‖⁴ − 2‖x_β‖₄⁴, so Var‖v_β‖² ≤ 2‖x_β‖⁴/k. The cross terms are
 * uncorrelated with mean zero and E⟨v_β, v_γ⟩² = ‖x_β‖²‖x_γ‖²/k (E_β makes E v_β v_βᵀ = ‖x_β‖² I/k exactly), adding
 * 2Σ_{β≠γ}‖x_β‖²‖x_γ‖²/k. Total: Var‖Sx‖² ≤ 2‖x‖⁴/k, the dense Gaussian JL variance. The stated tail is the Gaussian
 * one (bounds.ts, "variance-matched"): within a block the random signs spread x_β so every |y_j| ≤
 * √(2 ln(2n/δ')/n)·‖x_β‖ w.h.p. (Ailon & Chazelle 2009), after which the k sampled coordinates concentrate like a
 * sub-Gaussian average (Tropp 2011, "Improved analysis of the SRHT"), and the cross-block part is a Rademacher chaos
 * (Hanson–Wright). Those theorems carry unspecified constants, so the tests measure the bound rather than assume it. */

import { GradtraceError } from "../errors.ts";
import type { Vec } from "../matrix.ts";
import { createRng, deriveSeed } from "../rng.ts";
import { f64View, resolveKernels, WasmMemory, wasm } from "../wasm/module.ts";
import { BlockCache, checkAccumulate, DEFAULT_CACHE_BYTES, forEachBlock, LinearSketch } from "./common.ts";

const SRHT_STREAM_TAG = 3;
const MIN_BLOCK = 4096;

/** In-place unnormalised fast Walsh–Hadamard transform (Sylvester ordering: H_ij = (−1)^{popcount(i & j)}).
 * Hand-written (no maintained JS package does this on a Float64Array in place). Stages go in radix-4 pairs, which
 * halves the passes over the array and avoids the short inner loops of the h = 1, 2 stages: measured ~3× faster than
 * the plain radix-2 loop at n = 4096. */
export function fwht(a: Float64Array): void {
  const n = a.length;
  if (n & (n - 1)) throw new GradtraceError("E_SHAPE", `fwht: length must be a power of two, got ${n}`);
  let h = 1;
  if (n >= 4) {
    // The first radix-4 stage (h = 1) as straight-line quads: as a loop nest its inner loop has one iteration.
    for (let i = 0; i < n; i += 4) {
      const a0 = a[i];
      const a1 = a[i + 1];
      const a2 = a[i + 2];
      const a3 = a[i + 3];
      const s01 = a0 + a1;
      const d01 = a0 - a1;
      const s23 = a2 + a3;
      const d23 = a2 - a3;
      a[i] = s01 + s23;
      a[i + 1] = d01 + d23;
      a[i + 2] = s01 - s23;
      a[i + 3] = d01 - d23;
    }
    h = 4;
  }
  for (; 4 * h <= n; h <<= 2) {
    const h2 = h << 1;
    const h3 = h2 + h;
    for (let i = 0; i < n; i += h << 2) {
      for (let j = i; j < i + h; j++) {
        const a0 = a[j];
        const a1 = a[j + h];
        const a2 = a[j + h2];
        const a3 = a[j + h3];
        const s01 = a0 + a1;
        const d01 = a0 - a1;
        const s23 = a2 + a3;
        const d23 = a2 - a3;
        a[j] = s01 + s23;
        a[j + h] = d01 + d23;
        a[j + h2] = s01 - s23;
        a[j + h3] = d01 - d23;
      }
    }
  }
  // An odd number of stages leaves one radix-2 stage.
  for (; h < n; h <<= 1) {
    for (let i = 0; i < n; i += h << 1) {
      for (let j = i; j < i + h; j++) {
        const u = a[j];
        const v = a[j + h];
        a[j] = u + v;
        a[j + h] = u - v;
      }
    }
  }
}

/* a[first + c] = D_jj · x[from + c] for c < count (jj = first + c), written twice so that each copy sees one input
 * type: the same loop fed both Float32Array and Float64Array is much slower (see hashing.ts). Within a 32-bit word
 * of sign bits the bits are consumed by shifting; the sign is a multiply by ±1, not a coin-flip branch. With
 * `fill(0)` skipped for full blocks and fwht's first stage unrolled, one SRHT of p = 4·10^6 float32 went from
 * 9.7× to 7.2× and from 6.8× to 6.1× a plain sum of squares in two A/B runs on the shared dev machine (old and
 * new code in the same process; sketch values identical bit for bit). */

function applySignsF32(
  x: Float32Array,
  from: number,
  first: number,
  count: number,
  negative: Uint32Array,
  a: Float64Array,
): void {
  let c = 0;
  // Up to the next word boundary bit by bit, then whole words.
  for (; c < count && (first + c) & 31; c++) {
    const jj = first + c;
    a[jj] = (1 - 2 * ((negative[jj >>> 5] >>> (jj & 31)) & 1)) * x[from + c];
  }
  for (; c + 32 <= count; c += 32) {
    const jj = first + c;
    let bits = negative[jj >>> 5];
    const src = from + c;
    for (let b = 0; b < 32; b++) {
      a[jj + b] = (1 - 2 * (bits & 1)) * x[src + b];
      bits >>>= 1;
    }
  }
  for (; c < count; c++) {
    const jj = first + c;
    a[jj] = (1 - 2 * ((negative[jj >>> 5] >>> (jj & 31)) & 1)) * x[from + c];
  }
}

function applySignsF64(
  x: Float64Array,
  from: number,
  first: number,
  count: number,
  negative: Uint32Array,
  a: Float64Array,
): void {
  let c = 0;
  for (; c < count && (first + c) & 31; c++) {
    const jj = first + c;
    a[jj] = (1 - 2 * ((negative[jj >>> 5] >>> (jj & 31)) & 1)) * x[from + c];
  }
  for (; c + 32 <= count; c += 32) {
    const jj = first + c;
    let bits = negative[jj >>> 5];
    const src = from + c;
    for (let b = 0; b < 32; b++) {
      a[jj + b] = (1 - 2 * (bits & 1)) * x[src + b];
      bits >>>= 1;
    }
  }
  for (; c < count; c++) {
    const jj = first + c;
    a[jj] = (1 - 2 * ((negative[jj >>> 5] >>> (jj & 31)) & 1)) * x[from + c];
  }
}

/** (−1)^{popcount(v)}: the sign of Hadamard entry (i, j) for v = i & j. */
function paritySign(v: number): number {
  let x = v ^ (v >>> 16);
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1 ? -1 : 1;
}

interface SrhtBlock {
  /** Bit j set ⇔ D_jj = −1. */
  readonly negative: Uint32Array;
  /** The k sampled rows of H_n. */
  readonly rows: Int32Array;
  /** ±1/√k per output row: the output signs E_β with the 1/√k scale folded in. */
  readonly rowScale: Float64Array;
  readonly byteLength: number;
}

export interface SrhtSketchOptions {
  readonly k: number;
  readonly dim: number;
  readonly seed?: number;
  /** Coordinates per independent SRHT block, a power of two ≥ k (default max(4096, next power of two ≥ k)). */
  readonly blockSize?: number;
  /** Bytes of per-block signs / rows / output signs to keep (default 64 MiB: all blocks for p up to ~4·10^7 at
   * k = 512, 6.6 KB per 4096 coordinates); beyond that a block is regenerated (~20% of its transform cost). */
  readonly cacheBytes?: number;
  /** "wasm" (default unless GRADTRACE_KERNELS=js): the transform runs in WebAssembly SIMD on a buffer in module
   * memory (wasm/assembly/sketch.ts, same additions in the same order: bit-identical); "js": `fwht` above. */
  readonly kernel?: "js" | "wasm";
}

export class SrhtSketch extends LinearSketch {
  readonly kind = "srht" as const;
  readonly guarantee = "variance-matched" as const;
  readonly blockSize: number;
  private readonly log2Block: number;
  private readonly blocks: BlockCache<SrhtBlock>;
  private readonly scratch: Float64Array;
  /** wasm path: the transform buffer (blockSize float64) in module memory, else null. */
  private readonly wasmMem: WasmMemory | null = null;
  private wasmScratch = 0;

  constructor({ k, dim, seed = 0, blockSize, cacheBytes = DEFAULT_CACHE_BYTES, kernel }: SrhtSketchOptions) {
    super("srht", k, dim, seed);
    const n = blockSize ?? Math.max(MIN_BLOCK, 2 ** Math.ceil(Math.log2(k)));
    if (!Number.isInteger(n) || n < k || n & (n - 1)) {
      throw new GradtraceError(
        "E_ARG",
        `createSketch(srht): blockSize must be a power of two ≥ k = ${k}, got ${n}`,
      );
    }
    this.blockSize = n;
    this.log2Block = Math.log2(n);
    this.blocks = new BlockCache(cacheBytes, (b) => this.generateBlock(b));
    if (resolveKernels(kernel, "createSketch(srht)") === "wasm") {
      this.scratch = new Float64Array(0);
      this.wasmMem = new WasmMemory(this);
      this.wasmScratch = this.wasmMem.alloc(8 * n);
    } else {
      this.scratch = new Float64Array(n);
    }
  }

  /** Which implementation runs the transform. */
  get kernel(): "js" | "wasm" {
    return this.wasmMem ? "wasm" : "js";
  }

  private generateBlock(b: number): SrhtBlock {
    const n = this.blockSize;
    const rng = createRng(deriveSeed(this.seed, SRHT_STREAM_TAG, b));
    const negative = new Uint32Array(Math.ceil(n / 32));
    for (let w = 0; w < negative.length; w++) negative[w] = rng.uint32();
    // Partial Fisher–Yates: k distinct rows, uniformly.
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 0; i < this.k; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    const rows = perm.slice(0, this.k);
    const scale = 1 / Math.sqrt(this.k);
    const rowScale = Float64Array.from({ length: this.k }, () => (rng.uint32() & 1 ? -scale : scale));
    return {
      negative,
      rows,
      rowScale,
      byteLength: negative.byteLength + rows.byteLength + rowScale.byteLength,
    };
  }

  accumulate(x: Vec, offset: number, out: Float64Array): void {
    checkAccumulate("srht", this.k, this.dim, x, offset, out);
    const n = this.blockSize;
    forEachBlock(offset, x.length, n, (b, first, j, count) => {
      const block = this.blocks.get(b);
      // Direct formula when cheaper than a full transform (≈4 ops per entry for the parity against n·log n).
      if (4 * count * this.k < n * this.log2Block) this.accumulateDirect(x, j, first, count, block, out);
      else this.accumulateFwht(x, j, first, count, block, out);
    });
  }

  private accumulateFwht(
    x: Vec,
    from: number,
    first: number,
    count: number,
    blk: SrhtBlock,
    out: Float64Array,
  ) {
    // The wasm buffer's view is taken after every allocation of this call (the block above), so it stays attached.
    const a = this.wasmMem ? f64View(this.wasmScratch, this.blockSize) : this.scratch;
    if (count < this.blockSize) a.fill(0);
    const { negative, rows } = blk;
    if (x instanceof Float32Array) applySignsF32(x, from, first, count, negative, a);
    else applySignsF64(x, from, first, count, negative, a);
    if (this.wasmMem) wasm().fwht(this.wasmScratch, this.blockSize);
    else fwht(a);
    const { rowScale } = blk;
    for (let i = 0; i < this.k; i++) out[i] += rowScale[i] * a[rows[i]];
  }

  private accumulateDirect(
    x: Vec,
    from: number,
    first: number,
    count: number,
    blk: SrhtBlock,
    out: Float64Array,
  ) {
    const { negative, rows, rowScale } = blk;
    for (let c = 0; c < count; c++) {
      const jj = first + c;
      const v = x[from + c];
      if (v === 0) continue;
      const sv = (1 - 2 * ((negative[jj >>> 5] >>> (jj & 31)) & 1)) * v;
      for (let i = 0; i < this.k; i++) out[i] += paritySign(rows[i] & jj) * rowScale[i] * sv;
    }
  }
}
