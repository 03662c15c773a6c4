/** @file Streaming Gram matrix K = Σ_blocks B·Bᵀ of n vectors (steps) seen one coordinate block at a time: the hot
 * loop of the exact mode (spec "How to compute it": K = Σ_b G_bᵀG_b, memory O(n² + n·width), independent of p).
 *
 * Three kernels behind one class:
 * - "wasm" (default; GRADTRACE_KERNELS=js or `kernel: "js"` selects the reference): the same symmetric rank-k
 *   update in WebAssembly SIMD (wasm/assembly/gram.ts via src/core/wasm/gram.ts): float32 or float64 blocks,
 *   products and sums in float64 (f64x2), 4 × 2 register tiles over a float64 panel. It also flags the rows that
 *   held NaN/±Inf (`nonFiniteRows`), which the exact pass uses instead of scanning every value in JavaScript.
 *   Error: float64 sums in a different order, |K_wasm − K_js|_st ≤ 2·p·u₆₄·Σ_c |g_s,c||g_t,c| (u₆₄ = 2⁻⁵³).
 * - "js" (the exact reference): a hand-written float64 symmetric rank-k update. Hand-written because no
 *   maintained JS BLAS provides a SYRK on typed arrays; ml-matrix multiplies arrays-of-arrays one dot product at a
 *   time. The block is copied column-chunk by column-chunk (KC columns, converting float32 → float64 on the way)
 *   into a zero-padded panel that stays in L2, and the lower triangle of K is computed in 4×4 register tiles: each
 *   inner iteration loads 8 numbers and does 16 multiply-adds, instead of 2 loads per multiply-add for separate dot
 *   products. Only tiles on or below the diagonal are computed (half the flops); `gram` mirrors them.
 *   Error: ordinary float64 dot products, |ΔK_st| ≤ p·u₆₄·Σ_c |g_s,c||g_t,c| (u₆₄ = 2⁻⁵³).
 * - "jax": each block product B·Bᵀ is computed by @jax-js/jax (jit np.dot, WASM backend) in float32 and added into
 *   the float64 K. Per block the error is that of a float32 dot product of length `width` (plus rounding float64
 *   input to float32): |ΔK_st| ≤ (width + 2)·u₃₂·‖b_s‖‖b_t‖, u₃₂ = 2⁻²⁴; summed over blocks and by Cauchy–Schwarz,
 *   |ΔK_st| ≤ (width + 2)·u₃₂·‖g_s‖‖g_t‖ — the error grows with the block width, not with p. Use it for speed on
 *   large traces whose metrics do not need more than ~1e-7·width relative accuracy; `jaxErrorBound` gives the bound.
 *   (Measured on random float32 data, T = 256, p = 10⁶, width 4096: max |ΔK_st|/(‖g_s‖‖g_t‖) = 3.9e-7, about 1/600 of
 *   the worst-case bound, as expected when rounding errors are random and grow like √width.)
 *   Only the lower block triangle is multiplied (4 row bands → 10 of 16 band products), which is what lifts the
 *   useful-flop rate of the symmetric product to ≈ 0.8–0.9 of a same-shape jax-js GEMM (bench/gram.bench.ts).
 *
 * Non-finite values are not checked in the hot loop: they propagate into K, and symmetricEigen rejects them.
 *
 * Create with `new GramAccumulator(n, { kernel })` (wasm or js) or `await GramAccumulator.create({ n, kernel })`
 * (any; jax needs an async initialisation, done once per process). */
import { GradtraceError } from "./errors.ts";
import { type Mat, mat, type Vec } from "./matrix.ts";
import { WasmGram } from "./wasm/gram.ts";
import { resolveKernels } from "./wasm/module.ts";

export type GramKernel = "js" | "wasm" | "jax";

export interface GramAccumulatorOptions {
  /** Number of vectors (steps): K is n×n. */
  n: number;
  /** "wasm" (default unless GRADTRACE_KERNELS=js): float64 SIMD kernel. "js": the float64 reference. "jax": float32
   * block products via @jax-js/jax WASM, float64 accumulation. */
  kernel?: GramKernel;
}

/** Columns per panel: 4-row tiles × 2 × KC × 8 bytes stay in L1, the whole n×KC panel in L2 for n ≤ 512. */
const KC = 256;
const TILE = 4;

/** Computes the float32 product B·Bᵀ (at least its lower triangle) of an n×width row-major block, as an n×n
 * row-major array. `GramAccumulator.create` supplies the jax-js one; tests may inject their own. */
export type BlockProduct = (block: Float32Array, n: number, width: number) => Float32Array;

export class GramAccumulator {
  readonly n: number;
  readonly kernel: GramKernel;
  /** Lower triangle (and diagonal) of K, row-major n×n; the upper part is filled only by `gram` (js and jax). */
  private readonly lower: Float64Array;
  private readonly blockProduct: BlockProduct | null;
  /** The wasm kernel's state (K lives in WebAssembly memory), or null for js / jax. */
  private readonly wasmGram: WasmGram | null;
  private columnsSeen = 0;

  constructor(
    n: number,
    { blockProduct = null, kernel }: { blockProduct?: BlockProduct | null; kernel?: "js" | "wasm" } = {},
  ) {
    if (!Number.isInteger(n) || n < 1) {
      throw new GradtraceError(
        "E_ARG",
        `GramAccumulator: n (number of vectors) must be a positive integer, got ${n}`,
      );
    }
    this.n = n;
    this.blockProduct = blockProduct;
    this.kernel = blockProduct ? "jax" : resolveKernels(kernel, "GramAccumulator");
    this.wasmGram = this.kernel === "wasm" ? new WasmGram(n) : null;
    this.lower = new Float64Array(this.wasmGram ? 0 : n * n);
  }

  static async create({ n, kernel }: GramAccumulatorOptions): Promise<GramAccumulator> {
    if (kernel === undefined || kernel === "js" || kernel === "wasm")
      return new GramAccumulator(n, { kernel });
    if (kernel !== "jax")
      throw new GradtraceError("E_ARG", `GramAccumulator.create: unknown kernel "${kernel}"`);
    let blockProduct: BlockProduct;
    try {
      blockProduct = await jaxBlockProduct();
    } catch (cause) {
      jaxProductPromise = null; // let a later call retry
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `GramAccumulator.create: the "jax" kernel could not start @jax-js/jax on the WASM backend (${String(cause)}); use kernel "js"`,
        { cause },
      );
    }
    return new GramAccumulator(n, { blockProduct });
  }

  /** Worst-case |K_jax − K|_st bound of the jax kernel for blocks of `width` columns, given ‖g_s‖‖g_t‖. */
  static jaxErrorBound(width: number, normProduct: number): number {
    return (width + 2) * 2 ** -24 * normProduct;
  }

  /** Total number of coordinates (columns) accumulated so far. */
  get coordinates(): number {
    return this.columnsSeen;
  }

  /** K += B·Bᵀ for `block` = n rows × width columns, row-major (row t = a coordinate slice of vector t). */
  addBlock(block: Vec, width: number): void {
    const n = this.n;
    if (!Number.isInteger(width) || width < 0) {
      throw new GradtraceError(
        "E_ARG",
        `GramAccumulator.addBlock: width must be a non-negative integer, got ${width}`,
      );
    }
    if (block.length !== n * width) {
      throw new GradtraceError(
        "E_SHAPE",
        `GramAccumulator.addBlock: block has ${block.length} elements, expected n × width = ${n} × ${width}`,
      );
    }
    if (width === 0) return;
    if (this.wasmGram) {
      this.wasmGram.addBlock(block, width);
    } else if (this.blockProduct) {
      const b32 = block instanceof Float32Array ? block : Float32Array.from(block);
      const prod = this.blockProduct(b32, n, width);
      const k = this.lower;
      for (let i = 0; i < n; i++) {
        const row = i * n;
        for (let j = 0; j <= i; j++) k[row + j] += prod[row + j];
      }
    } else {
      syrkLowerAccumulate(this.lower, block, n, width);
    }
    this.columnsSeen += width;
  }

  /** For the wasm kernel: a view of n × width elements in WebAssembly memory to fill (row t = a coordinate slice
   * of vector t) and then add with `addStaged` — the block is read straight into place, no copy. Valid until the
   * next WebAssembly allocation: fill it and call addStaged with nothing in between. Null for the other kernels. */
  stage(width: number, type: "f32"): Float32Array | null;
  stage(width: number, type: "f64"): Float64Array | null;
  stage(width: number, type: "f32" | "f64"): Float32Array | Float64Array | null {
    if (!this.wasmGram) return null;
    checkWidth(width);
    return type === "f32" ? this.wasmGram.stage(width, "f32") : this.wasmGram.stage(width, "f64");
  }

  /** K += B·Bᵀ for the block just written into `stage(width, type)`. */
  addStaged(width: number, type: "f32" | "f64"): void {
    if (!this.wasmGram)
      throw new GradtraceError("E_ARG", "GramAccumulator.addStaged: only the wasm kernel stages blocks");
    checkWidth(width);
    this.wasmGram.addStaged(width, type);
    this.columnsSeen += width;
  }

  /** Vectors in which the wasm kernel met NaN or ±Inf (their rows and columns of K are then meaningless); null for
   * the other kernels, which do not look. */
  nonFiniteRows(): number[] | null {
    return this.wasmGram ? this.wasmGram.nonFiniteRows() : null;
  }

  /** Frees the wasm kernel's memory now (otherwise when the accumulator is garbage-collected); `gram` still works
   * on a js or jax accumulator, not on a disposed wasm one. */
  dispose(): void {
    this.wasmGram?.dispose();
  }

  /** The full symmetric n×n Gram matrix (a fresh copy). */
  get gram(): Mat {
    const n = this.n;
    const out = mat(n, n, this.wasmGram ? new Float64Array(n * n) : Float64Array.from(this.lower));
    if (this.wasmGram) this.wasmGram.readLower(out.data);
    const k = out.data;
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) k[j * n + i] = k[i * n + j];
    return out;
  }
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 0) {
    throw new GradtraceError("E_ARG", `GramAccumulator: width must be a non-negative integer, got ${width}`);
  }
}

/** lower(K) += lower(B·Bᵀ), B n×width row-major: panel-copied, 4×4 register tiles, lower-triangular tiles only. */
export function syrkLowerAccumulate(k: Float64Array, block: Vec, n: number, width: number): void {
  const np = Math.ceil(n / TILE) * TILE;
  const kcMax = Math.min(KC, width);
  const panel = new Float64Array(np * kcMax); // rows n..np-1 stay zero: tiles need no edge cases
  const tile = new Float64Array(TILE * TILE);
  for (let c0 = 0; c0 < width; c0 += KC) {
    const kc = Math.min(KC, width - c0);
    for (let i = 0; i < n; i++) {
      const src = i * width + c0;
      const dst = i * kc;
      for (let c = 0; c < kc; c++) panel[dst + c] = block[src + c];
    }
    for (let i0 = 0; i0 < np; i0 += TILE) {
      const a0 = i0 * kc;
      const a1 = a0 + kc;
      const a2 = a1 + kc;
      const a3 = a2 + kc;
      for (let j0 = 0; j0 <= i0; j0 += TILE) {
        const b0 = j0 * kc;
        const b1 = b0 + kc;
        const b2 = b1 + kc;
        const b3 = b2 + kc;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0; // biome-ignore format: tile layout
        let s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0;
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0;
        let s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0;
        for (let c = 0; c < kc; c++) {
          const x0 = panel[a0 + c];
          const x1 = panel[a1 + c];
          const x2 = panel[a2 + c];
          const x3 = panel[a3 + c];
          const y0 = panel[b0 + c];
          const y1 = panel[b1 + c];
          const y2 = panel[b2 + c];
          const y3 = panel[b3 + c];
          s00 += x0 * y0;
          s01 += x0 * y1;
          s02 += x0 * y2;
          s03 += x0 * y3;
          s10 += x1 * y0;
          s11 += x1 * y1;
          s12 += x1 * y2;
          s13 += x1 * y3;
          s20 += x2 * y0;
          s21 += x2 * y1;
          s22 += x2 * y2;
          s23 += x2 * y3;
          s30 += x3 * y0;
          s31 += x3 * y1;
          s32 += x3 * y2;
          s33 += x3 * y3;
        }
        tile[0] = s00;
        tile[1] = s01;
        tile[2] = s02;
        tile[3] = s03;
        tile[4] = s10;
        tile[5] = s11;
        tile[6] = s12;
        tile[7] = s13;
        tile[8] = s20;
        tile[9] = s21;
        tile[10] = s22;
        tile[11] = s23;
        tile[12] = s30;
        tile[13] = s31;
        tile[14] = s32;
        tile[15] = s33;
        const iEnd = Math.min(TILE, n - i0);
        for (let di = 0; di < iEnd; di++) {
          const i = i0 + di;
          const jEnd = Math.min(TILE, i - j0 + 1);
          const row = i * n + j0;
          for (let dj = 0; dj < jEnd; dj++) k[row + dj] += tile[di * TILE + dj];
        }
      }
    }
  }
}

let jaxProductPromise: Promise<BlockProduct> | null = null;

/** Row bands for the jax kernel: only the band pairs (i ≥ j) of the lower block triangle are multiplied, so 4 bands
 * do 10/16 of a full GEMM's work (measured: 4 beats 2 and 8 on the WASM backend for n = 256). */
const JAX_BANDS = 4;

/** Loads @jax-js/jax lazily (JS-only users never pay for it), initialises WASM once, and returns a function that
 * computes the lower block triangle of B·Bᵀ in float32 and writes it into an n×n row-major array. */
function jaxBlockProduct(): Promise<BlockProduct> {
  jaxProductPromise ??= (async () => {
    const jax = await import("@jax-js/jax");
    await jax.init("wasm");
    const { numpy: np } = jax;
    type JaxArray = InstanceType<typeof jax.Array>;
    const bandEdges = (n: number): number[] => {
      const bands = n >= 16 * JAX_BANDS ? JAX_BANDS : 1;
      return Array.from({ length: bands + 1 }, (_, i) => Math.round((i * n) / bands));
    };
    // jit caches one compiled program per input shape. jax-js arrays are consumed by ops: `.ref` keeps one alive.
    const product = jax.jit((b: JaxArray): JaxArray[] => {
      const edges = bandEdges(b.shape[0]);
      const bands = edges.slice(1).map((end, i) => b.ref.slice([edges[i], end]));
      b.dispose();
      const out: JaxArray[] = [];
      for (let i = 0; i < bands.length; i++) {
        for (let j = 0; j <= i; j++) out.push(np.dot(bands[i].ref, bands[j].ref.transpose()));
      }
      for (const band of bands) band.dispose();
      return out;
    });
    return (block: Float32Array, n: number, width: number): Float32Array => {
      const edges = bandEdges(n);
      const tiles = product(np.array(block, { shape: [n, width] }));
      const result = new Float32Array(n * n);
      let t = 0;
      for (let i = 0; i + 1 < edges.length; i++) {
        for (let j = 0; j <= i; j++) {
          const data = tiles[t++].dataSync(); // consumes the tile
          const cols = edges[j + 1] - edges[j];
          for (let r = edges[i]; r < edges[i + 1]; r++) {
            const src = (r - edges[i]) * cols;
            result.set(data.subarray(src, src + cols), r * n + edges[j]);
          }
        }
      }
      return result;
    };
  })();
  return jaxProductPromise;
}

/** Gram of the increments h_t = g_t − g_{t−1}: D K Dᵀ, (n−1)×(n−1), in O(n²) from K alone. */
export function incrementGram(k: Mat): Mat {
  const n = k.rows;
  if (k.cols !== n || n < 1)
    throw new GradtraceError(
      "E_SHAPE",
      `incrementGram: expected a square non-empty Gram, got ${k.rows}×${k.cols}`,
    );
  const m = n - 1;
  const out = mat(m, m);
  const x = k.data;
  // ⟨g_{i+1} − g_i, g_{j+1} − g_j⟩ expanded; differences first keeps the cancellation to two terms at a time. Only
  // j ≤ i is computed and mirrored, so the result is exactly symmetric like K.
  for (let i = 0; i < m; i++) {
    const r0 = i * n;
    const r1 = r0 + n;
    for (let j = 0; j <= i; j++) {
      const v = x[r1 + j + 1] - x[r1 + j] - (x[r0 + j + 1] - x[r0 + j]);
      out.data[i * m + j] = v;
      out.data[j * m + i] = v;
    }
  }
  return out;
}
