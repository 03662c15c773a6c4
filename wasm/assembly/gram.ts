/** @file Gram block update, lower(K) += lower(B·Bᵀ) for an n × width row-major block B of float32 or float64
 * values, accumulated in float64 (the exact mode's hot loop; the JavaScript reference is syrkLowerAccumulate in
 * src/core/gram.ts).
 *
 * Shape of the computation (what made it fast, measured against jax-js's float32 GEMM in the same process):
 * - B is copied KC columns at a time into a float64 panel whose rows are PANEL_STRIDE bytes apart (a compile-time
 *   constant, so every load in the micro-kernel addresses its row with an immediate offset from one moving pointer:
 *   two pointer increments per iteration instead of one add per row). The copy converts float32 → float64 (exact),
 *   pads rows up to a multiple of 4 and columns up to a multiple of 2 with zeros, and flags rows holding NaN/±Inf.
 * - The micro-kernel computes a 4 × 2 tile of K with 8 f64x2 accumulators (two partial sums per entry, even and odd
 *   columns): per iteration 6 loads, 8 multiplies, 8 adds. Of the tile shapes tried (2×4, 3×3, 3×4, 4×3, 4×4, 2×5,
 *   2×6, 5×2, 6×2, 7×2, 8×1, 6×1, and 2× unrolled 2×4 / 3×4 / 4×2), 4×2 was the fastest on Zen 3 under V8
 *   (~0.95 of jax-js GEMM GFLOP/s vs 0.5–0.8 for the others; the larger tiles spill registers).
 * - Only tiles touching the lower triangle run; their few entries above the diagonal land in the padded upper part
 *   of K, which the caller ignores (it mirrors the lower triangle).
 * Rounding: each entry is a float64 sum of exact products in a different order than the sequential reference (two
 * lanes, then per-panel partial sums added into K), so |K_wasm − K_ref| ≤ 2·p·u₆₄·Σ_c |b_s,c·b_t,c| (u₆₄ = 2⁻⁵³). */

/** Columns per panel: 4 + 2 rows × 2 KiB stay in L1; 256 rows × 2 KiB = 512 KiB in L2. */
export const KC: i32 = 256;
/** Bytes between panel rows (KC float64). */
const STRIDE: usize = 2048;

/** Byte size of the panel scratch `gramAdd*` needs for n rows. */
export function gramPanelBytes(n: i32): usize {
  return <usize>((n + 3) & ~3) * STRIDE;
}

/** Rows of K a caller must allocate (and its minimal row stride) for n vectors: n rounded up to a multiple of 4. */
export function gramPaddedRows(n: i32): i32 {
  return (n + 3) & ~3;
}

/** Columns [c0, c0 + kc) of rows [0, n) of a float32 (T = f32) or float64 block with rows `width` long → panel rows
 * (float64), zero padded to kcp columns; rows [n, np) are zero. flags[i] |= 1 when row i holds NaN or ±Inf in
 * these columns (x − x is 0 for finite x and NaN otherwise: one add per lane keeps the check in the copy loop). */
@inline
function pack<T>(
  block: usize,
  width: i32,
  n: i32,
  np: i32,
  c0: i32,
  kc: i32,
  kcp: i32,
  panel: usize,
  flags: usize,
): void {
  const size = <usize>sizeof<T>();
  for (let i = 0; i < n; i++) {
    const src = block + (<usize>i * <usize>width + <usize>c0) * size;
    const dst = panel + <usize>i * STRIDE;
    let bad = f64x2.splat(0);
    let c = 0;
    if (size == 4) {
      let bad32 = f32x4.splat(0);
      for (; c + 4 <= kc; c += 4) {
        const v = v128.load(src + (<usize>c << 2));
        bad32 = f32x4.add(bad32, f32x4.sub(v, v));
        v128.store(dst + (<usize>c << 3), f64x2.promote_low_f32x4(v));
        v128.store(dst + (<usize>c << 3), f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0)), 16);
      }
      bad = f64x2.promote_low_f32x4(v128.or(bad32, i64x2.shuffle(bad32, bad32, 1, 0)));
    } else {
      for (; c + 2 <= kc; c += 2) {
        const v = v128.load(src + (<usize>c << 3));
        bad = f64x2.add(bad, f64x2.sub(v, v));
        v128.store(dst + (<usize>c << 3), v);
      }
    }
    let badTail: f64 = 0;
    for (; c < kc; c++) {
      const x = <f64>load<T>(src + <usize>c * size);
      badTail += x - x;
      store<f64>(dst + (<usize>c << 3), x);
    }
    for (; c < kcp; c++) store<f64>(dst + (<usize>c << 3), 0);
    if (v128.any_true(f64x2.ne(bad, bad)) || badTail != badTail) {
      store<i32>(flags + (<usize>i << 2), load<i32>(flags + (<usize>i << 2)) | 1);
    }
  }
  for (let i = n; i < np; i++) memory.fill(panel + <usize>i * STRIDE, 0, <usize>kcp << 3);
}

@inline
function addTo(p: usize, v: v128): void {
  store<f64>(p, load<f64>(p) + (f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1)));
}

/** K[i0 + r][j0 + q] += Σ_c panel[i0 + r][c]·panel[j0 + q][c] for r < 4, q < 2, c < kcp (even). */
function tile42(pa: usize, pb: usize, bytes: usize, k: usize, ldkBytes: usize): void {
  let s00 = f64x2.splat(0);
  let s01 = s00;
  let s10 = s00;
  let s11 = s00;
  let s20 = s00;
  let s21 = s00;
  let s30 = s00;
  let s31 = s00;
  const end = pa + bytes;
  for (; pa < end; pa += 16, pb += 16) {
    const y0 = v128.load(pb);
    const y1 = v128.load(pb, STRIDE);
    const x0 = v128.load(pa);
    s00 = f64x2.add(s00, f64x2.mul(x0, y0));
    s01 = f64x2.add(s01, f64x2.mul(x0, y1));
    const x1 = v128.load(pa, STRIDE);
    s10 = f64x2.add(s10, f64x2.mul(x1, y0));
    s11 = f64x2.add(s11, f64x2.mul(x1, y1));
    const x2 = v128.load(pa, 2 * STRIDE);
    s20 = f64x2.add(s20, f64x2.mul(x2, y0));
    s21 = f64x2.add(s21, f64x2.mul(x2, y1));
    const x3 = v128.load(pa, 3 * STRIDE);
    s30 = f64x2.add(s30, f64x2.mul(x3, y0));
    s31 = f64x2.add(s31, f64x2.mul(x3, y1));
  }
  addTo(k, s00);
  addTo(k + 8, s01);
  k += ldkBytes;
  addTo(k, s10);
  addTo(k + 8, s11);
  k += ldkBytes;
  addTo(k, s20);
  addTo(k + 8, s21);
  k += ldkBytes;
  addTo(k, s30);
  addTo(k + 8, s31);
}

/** The tiles of rows [iFrom, iTo) (multiples of 4) against columns j ≤ i with i − j ≤ maxLag (all when maxLag ≥
 * iTo), over the first kcp columns of the panel, added into K (row stride ldk entries). */
export function panelTiles(panel: usize, kcp: i32, k: usize, ldk: i32, iFrom: i32, iTo: i32, maxLag: i32): void {
  const bytes = <usize>kcp << 3;
  const ldkBytes = <usize>ldk << 3;
  for (let i0 = iFrom; i0 < iTo; i0 += 4) {
    const jFrom = max(0, i0 - maxLag) & ~1;
    const krow = k + <usize>i0 * ldkBytes;
    for (let j0 = jFrom; j0 < i0 + 4; j0 += 2) {
      tile42(panel + <usize>i0 * STRIDE, panel + <usize>j0 * STRIDE, bytes, krow + (<usize>j0 << 3), ldkBytes);
    }
  }
}

@inline
function gramAdd<T>(k: usize, ldk: i32, n: i32, block: usize, width: i32, panel: usize, flags: usize): void {
  const np = (n + 3) & ~3;
  for (let c0 = 0; c0 < width; c0 += KC) {
    const kc = min(KC, width - c0);
    const kcp = (kc + 1) & ~1;
    pack<T>(block, width, n, np, c0, kc, kcp, panel, flags);
    panelTiles(panel, kcp, k, ldk, 0, np, np);
  }
}

/** lower(K) += lower(B·Bᵀ) for a float32 block (n rows × width, row-major). K has ≥ gramPaddedRows(n) rows of ldk ≥
 * that entries; `panel` has gramPanelBytes(n) bytes; flags (n int32) get bit 0 set for rows holding NaN/±Inf. */
export function gramAddF32(k: usize, ldk: i32, n: i32, block: usize, width: i32, panel: usize, flags: usize): void {
  gramAdd<f32>(k, ldk, n, block, width, panel, flags);
}

/** As gramAddF32 for a float64 block. */
export function gramAddF64(k: usize, ldk: i32, n: i32, block: usize, width: i32, panel: usize, flags: usize): void {
  gramAdd<f64>(k, ldk, n, block, width, panel, flags);
}
