/** @file The live accumulator's fused update (src/core/live.ts, WASM path): per tensor, its last steps are kept in a
 * ring of float32 slots in this memory, new steps are buffered, and one pass over the coordinates of a batch of new
 * steps computes, chunk by chunk, every window Gram entry ⟨g_t, g_{t−d}⟩ (d ≤ window) of the batch — the same
 * packed-panel 4 × 2 micro-kernel as the Gram block update (gram.ts), restricted to the band of lags — and runs every
 * EMA state of the tensor through the batch's steps (state in float64, updated m ← m + (1−β)(g − m) exactly as the
 * JavaScript reference, so the states agree bit for bit; only the order of the float64 error sums differs). Reading
 * each kept vector once per batch instead of once per step is what brings the window Gram near memory speed. */
import { KC, panelTiles } from "./gram";

const STRIDE: usize = 2048;

/** Σ x² of a float32 vector in float64 (NaN/±Inf when x holds one): the step's ‖g‖², taken when it is ingested. */
export function sumSquaresF32(x: usize, count: i32): f64 {
  let a = f64x2.splat(0);
  let b = a;
  let c = 0;
  for (; c + 4 <= count; c += 4) {
    const v = v128.load(x + (<usize>c << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1));
  for (; c < count; c++) {
    const v = <f64>load<f32>(x + (<usize>c << 2));
    s += v * v;
  }
  return s;
}

/** float32 [src, src + kc) → float64 panel row, zero-padded to kcp. */
function packRow(src: usize, kc: i32, kcp: i32, dst: usize): void {
  let c = 0;
  for (; c + 4 <= kc; c += 4) {
    const v = v128.load(src + (<usize>c << 2));
    v128.store(dst + (<usize>c << 3), f64x2.promote_low_f32x4(v));
    v128.store(dst + (<usize>c << 3), f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0)), 16);
  }
  for (; c < kc; c++) store<f64>(dst + (<usize>c << 3), <f64>load<f32>(src + (<usize>c << 2)));
  for (; c < kcp; c++) store<f64>(dst + (<usize>c << 3), 0);
}

/** One EMA over kc coordinates for one step: e = Σ (g − m)², m ← m + α(g − m); returns e. */
function emaChunk(g: usize, m: usize, kc: i32, alpha: f64): f64 {
  const av = f64x2.splat(alpha);
  let e = f64x2.splat(0);
  let c = 0;
  for (; c + 2 <= kc; c += 2) {
    const o = <usize>c << 3;
    const gv = v128.load(g + o);
    const mv = v128.load(m + o);
    const d = f64x2.sub(gv, mv);
    e = f64x2.add(e, f64x2.mul(d, d));
    v128.store(m + o, f64x2.add(mv, f64x2.mul(av, d)));
  }
  let s = f64x2.extract_lane(e, 0) + f64x2.extract_lane(e, 1);
  for (; c < kc; c++) {
    const o = <usize>c << 3;
    const mi = load<f64>(m + o);
    const d = load<f64>(g + o) - mi;
    s += d * d;
    store<f64>(m + o, mi + alpha * d);
  }
  return s;
}

/**
 * One batch of a tensor with p coordinates. `rowSlots` (int32 × rows) lists the ring slots of the rows, oldest first:
 * rows [0, firstPending) are kept steps, rows [firstPending, rows) the new ones. Writes, for new rows i, the Gram
 * entries K[i][j] for i − maxLag ≤ j ≤ i into kb (row stride ldk ≥ rows rounded up to 4; zeroed here), and for each
 * EMA a (states: emaCount planar float64 vectors of p, alphas[a] = 1 − β_a) and new row s the error Σ(g − m)² into
 * errs[(s − firstPending)·emaCount + a]. With emaInit set, the first new row initialises the states (m = g) instead.
 * `panel` holds gramPanelBytes(rows) bytes.
 */
export function liveFlush(
  ring: usize,
  p: i32,
  rowSlots: usize,
  rows: i32,
  firstPending: i32,
  maxLag: i32,
  kb: usize,
  ldk: i32,
  panel: usize,
  ema: usize,
  emaCount: i32,
  alphas: usize,
  emaInit: i32,
  errs: usize,
): void {
  const np = (rows + 3) & ~3;
  const slotBytes = <usize>p << 2;
  memory.fill(kb, 0, <usize>np * <usize>ldk << 3);
  memory.fill(errs, 0, <usize>(rows - firstPending) * <usize>emaCount << 3);
  for (let c0 = 0; c0 < p; c0 += KC) {
    const kc = min(KC, p - c0);
    const kcp = (kc + 1) & ~1;
    for (let r = 0; r < rows; r++) {
      const slot = <usize>load<i32>(rowSlots + (<usize>r << 2));
      packRow(ring + slot * slotBytes + (<usize>c0 << 2), kc, kcp, panel + <usize>r * STRIDE);
    }
    for (let r = rows; r < np; r++) memory.fill(panel + <usize>r * STRIDE, 0, <usize>kcp << 3);
    panelTiles(panel, kcp, kb, ldk, firstPending & ~3, np, maxLag);
    for (let a = 0; a < emaCount; a++) {
      const m = ema + ((<usize>a * <usize>p + <usize>c0) << 3);
      const alpha = load<f64>(alphas + (<usize>a << 3));
      for (let r = firstPending; r < rows; r++) {
        const g = panel + <usize>r * STRIDE;
        if (emaInit != 0 && r == firstPending) {
          memory.copy(m, g, <usize>kc << 3);
          continue;
        }
        const at = errs + ((<usize>(r - firstPending) * <usize>emaCount + <usize>a) << 3);
        store<f64>(at, load<f64>(at) + emaChunk(g, m, kc, alpha));
      }
    }
  }
}
