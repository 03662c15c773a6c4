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

/** EMAs over kc coordinates for one step, in groups of up to three that read g once: for each, e = Σ (g − m)² and
 * m ← m + α(g − m) (the reference's formula, so states match it bit for bit); e is added to errs[a]. The states are
 * planar (EMA a's coordinate c at ema + (a·p + c)·8). */
function emaStep(g: usize, m: usize, pBytes: usize, kc: i32, alphas: usize, emaCount: i32, errs: usize): void {
  let a = 0;
  for (; a + 3 <= emaCount; a += 3) {
    ema3(g, m + <usize>a * pBytes, pBytes, kc, alphas + (<usize>a << 3), errs + (<usize>a << 3));
  }
  for (; a < emaCount; a++) {
    ema1(g, m + <usize>a * pBytes, kc, load<f64>(alphas + (<usize>a << 3)), errs + (<usize>a << 3));
  }
}

function ema3(g: usize, m0: usize, pBytes: usize, kc: i32, alphas: usize, errs: usize): void {
  const m1 = m0 + pBytes;
  const m2 = m1 + pBytes;
  const a0 = load<f64>(alphas);
  const a1 = load<f64>(alphas, 8);
  const a2 = load<f64>(alphas, 16);
  const v0 = f64x2.splat(a0);
  const v1 = f64x2.splat(a1);
  const v2 = f64x2.splat(a2);
  let e0 = f64x2.splat(0);
  let e1 = e0;
  let e2 = e0;
  let c = 0;
  for (; c + 2 <= kc; c += 2) {
    const o = <usize>c << 3;
    const gv = v128.load(g + o);
    const x0 = v128.load(m0 + o);
    const x1 = v128.load(m1 + o);
    const x2 = v128.load(m2 + o);
    const d0 = f64x2.sub(gv, x0);
    const d1 = f64x2.sub(gv, x1);
    const d2 = f64x2.sub(gv, x2);
    e0 = f64x2.add(e0, f64x2.mul(d0, d0));
    e1 = f64x2.add(e1, f64x2.mul(d1, d1));
    e2 = f64x2.add(e2, f64x2.mul(d2, d2));
    v128.store(m0 + o, f64x2.add(x0, f64x2.mul(v0, d0)));
    v128.store(m1 + o, f64x2.add(x1, f64x2.mul(v1, d1)));
    v128.store(m2 + o, f64x2.add(x2, f64x2.mul(v2, d2)));
  }
  let s0 = f64x2.extract_lane(e0, 0) + f64x2.extract_lane(e0, 1);
  let s1 = f64x2.extract_lane(e1, 0) + f64x2.extract_lane(e1, 1);
  let s2 = f64x2.extract_lane(e2, 0) + f64x2.extract_lane(e2, 1);
  if (c < kc) {
    const o = <usize>c << 3;
    const gi = load<f64>(g + o);
    const x0 = load<f64>(m0 + o);
    const x1 = load<f64>(m1 + o);
    const x2 = load<f64>(m2 + o);
    const d0 = gi - x0;
    const d1 = gi - x1;
    const d2 = gi - x2;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    store<f64>(m0 + o, x0 + a0 * d0);
    store<f64>(m1 + o, x1 + a1 * d1);
    store<f64>(m2 + o, x2 + a2 * d2);
  }
  store<f64>(errs, load<f64>(errs) + s0);
  store<f64>(errs, load<f64>(errs, 8) + s1, 8);
  store<f64>(errs, load<f64>(errs, 16) + s2, 16);
}

/** One EMA; two accumulators so the error sum is not one long dependency chain. */
function ema1(g: usize, m: usize, kc: i32, alpha: f64, errs: usize): void {
  const av = f64x2.splat(alpha);
  let e = f64x2.splat(0);
  let f = e;
  let c = 0;
  for (; c + 4 <= kc; c += 4) {
    const o = <usize>c << 3;
    const g0 = v128.load(g + o);
    const g1 = v128.load(g + o, 16);
    const x0 = v128.load(m + o);
    const x1 = v128.load(m + o, 16);
    const d0 = f64x2.sub(g0, x0);
    const d1 = f64x2.sub(g1, x1);
    e = f64x2.add(e, f64x2.mul(d0, d0));
    f = f64x2.add(f, f64x2.mul(d1, d1));
    v128.store(m + o, f64x2.add(x0, f64x2.mul(av, d0)));
    v128.store(m + o, f64x2.add(x1, f64x2.mul(av, d1)), 16);
  }
  let s = f64x2.extract_lane(e, 0) + f64x2.extract_lane(e, 1) + (f64x2.extract_lane(f, 0) + f64x2.extract_lane(f, 1));
  for (; c < kc; c++) {
    const o = <usize>c << 3;
    const mi = load<f64>(m + o);
    const d = load<f64>(g + o) - mi;
    s += d * d;
    store<f64>(m + o, mi + alpha * d);
  }
  store<f64>(errs, load<f64>(errs) + s);
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
    if (emaCount > 0) {
      const m = ema + (<usize>c0 << 3);
      const pBytes = <usize>p << 3;
      for (let r = firstPending; r < rows; r++) {
        const g = panel + <usize>r * STRIDE;
        if (emaInit != 0 && r == firstPending) {
          for (let a = 0; a < emaCount; a++) memory.copy(m + <usize>a * pBytes, g, <usize>kc << 3);
          continue;
        }
        emaStep(g, m, pBytes, kc, alphas, emaCount, errs + (<usize>(r - firstPending) * <usize>emaCount << 3));
      }
    }
  }
}
