/** @file Sketch kernels (src/core/sketch: hashing.ts and srht.ts are the JavaScript references). Both give results
 * bit-identical to the references: every output row receives the same terms in the same order.
 *
 * Hashing sketches (CountSketch, block sparse JL): column j's (row, sign) in a row block comes from the same
 * multiply–xorshift hash as hashIndex (rng.ts), computed here for four columns at once with i32x4 multiplies
 * (i32x4.mul is Math.imul lane by lane), so no table is read; the scatter itself, out[row] ±= scale·x[j], is a
 * random-access read-modify-write and stays scalar. ±(scale·x) is bit-identical to the reference's (±1·scale)·x.
 *
 * SRHT: the in-place fast Walsh–Hadamard transform with f64x2 butterflies in the same radix-4 stage order as fwht()
 * in srht.ts, so each output is the same sequence of additions (the signs and the row sampling stay in JavaScript,
 * writing into and reading from the transform's buffer in this memory). */

/** The 4-lane hash of columns `cols` (i32x4.mul is Math.imul lane by lane): hashIndex(base, col) of rng.ts. */
@inline
function hash4(vb: v128, cols: v128): v128 {
  let h = v128.xor(vb, i32x4.mul(cols, i32x4.splat(0x9e3779b1)));
  h = i32x4.mul(v128.xor(h, i32x4.shr_u(h, 16)), i32x4.splat(0x85ebca6b));
  h = i32x4.mul(v128.xor(h, i32x4.shr_u(h, 13)), i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/** Byte addresses out + 8·(rowOffset + bucket) of four hashes (bucket as bucketOf in hashing.ts; general m < 2²²,
 * where (h >>> 1)·m < 2⁵³ and the reference's float64 arithmetic is exact, via 64-bit products). */
@inline
function rows4(h: v128, rowOffset: i32, m: i32, shift: i32, out: usize): v128 {
  const u = i32x4.shr_u(h, 1);
  let bucket: v128;
  if (shift >= 0) {
    bucket = i32x4.shr_u(u, shift);
  } else {
    const mv = i64x2.splat(<i64>m);
    const lo = i64x2.shr_u(i64x2.mul(i64x2.extend_low_i32x4_u(u), mv), 31);
    const hi = i64x2.shr_u(i64x2.mul(i64x2.extend_high_i32x4_u(u), mv), 31);
    bucket = i8x16.shuffle(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  }
  return i32x4.add(i32x4.shl(i32x4.add(bucket, i32x4.splat(rowOffset)), 3), i32x4.splat(<i32>out));
}

@inline
function addAt(at: i32, v: f64): void {
  store<f64>(<usize>at, load<f64>(<usize>at) + v);
}

/** Columns [col0, col0 + count) of one row block: base = the block's hash seed, rows [rowOffset, rowOffset + m)
 * (m < 2²²; shift = 31 − log₂ m when m is a power of two, else −1). Four columns at a time: hash, rows and signs in
 * i32x4 lanes, the sign applied by flipping the float's sign bit (exact, like the reference's multiply by ±1, and
 * without the coin-flip branch a float select compiles to: that branch made the scatter ~3× slower), x widened to
 * float64 (times `scale` unless scaled is false: the float32 CountSketch skips the multiply by 1), then four scalar
 * read–add–writes, in column order. */
@inline
function hashScatter<T>(
  x: usize,
  count: i32,
  col0: i32,
  base: u32,
  rowOffset: i32,
  m: i32,
  shift: i32,
  out: usize,
  scale: f64,
  scaled: bool,
): void {
  const vb = i32x4.splat(base);
  let cols = i32x4.add(i32x4.splat(col0), i32x4(0, 1, 2, 3));
  const vs = f64x2.splat(scale);
  let c = 0;
  for (; c + 4 <= count; c += 4) {
    const h = hash4(vb, cols);
    cols = i32x4.add(cols, i32x4.splat(4));
    const at = rows4(h, rowOffset, m, shift, out);
    let lo: v128;
    let hi: v128;
    if (sizeof<T>() == 4) {
      // Sign bit 31 of each float32 lane; −x in float32 widens to exactly −x in float64.
      const v = v128.xor(v128.load(x + (<usize>c << 2)), i32x4.shl(h, 31));
      lo = f64x2.promote_low_f32x4(v);
      hi = f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0));
    } else {
      const signs = i32x4.shl(h, 31);
      const s01 = i64x2.extend_low_i32x4_u(signs);
      const s23 = i64x2.extend_high_i32x4_u(signs);
      lo = v128.xor(v128.load(x + (<usize>c << 3)), i64x2.shl(s01, 32));
      hi = v128.xor(v128.load(x + (<usize>c << 3), 16), i64x2.shl(s23, 32));
    }
    if (scaled) {
      lo = f64x2.mul(vs, lo);
      hi = f64x2.mul(vs, hi);
    }
    addAt(i32x4.extract_lane(at, 0), f64x2.extract_lane(lo, 0));
    addAt(i32x4.extract_lane(at, 1), f64x2.extract_lane(lo, 1));
    addAt(i32x4.extract_lane(at, 2), f64x2.extract_lane(hi, 0));
    addAt(i32x4.extract_lane(at, 3), f64x2.extract_lane(hi, 1));
  }
  for (; c < count; c++) {
    const h = hash4(vb, i32x4.splat(col0 + c));
    const at = rows4(h, rowOffset, m, shift, out);
    let v = <f64>load<T>(x + <usize>c * sizeof<T>());
    v = reinterpret<f64>(reinterpret<i64>(v) ^ (<i64>(i32x4.extract_lane(h, 0) & 1) << 63));
    if (scaled) v = scale * v;
    addAt(i32x4.extract_lane(at, 0), v);
  }
}

export function hashScatterF32(
  x: usize,
  count: i32,
  col0: i32,
  base: u32,
  rowOffset: i32,
  m: i32,
  shift: i32,
  out: usize,
  scale: f64,
  scaled: i32,
): void {
  if (scaled != 0) hashScatter<f32>(x, count, col0, base, rowOffset, m, shift, out, scale, true);
  else hashScatter<f32>(x, count, col0, base, rowOffset, m, shift, out, scale, false);
}

export function hashScatterF64(
  x: usize,
  count: i32,
  col0: i32,
  base: u32,
  rowOffset: i32,
  m: i32,
  shift: i32,
  out: usize,
  scale: f64,
): void {
  hashScatter<f64>(x, count, col0, base, rowOffset, m, shift, out, scale, true);
}

/** In-place unnormalised Walsh–Hadamard transform of n = 2^b float64 values (Sylvester order), the same stage
 * sequence as fwht() in srht.ts: a radix-4 first stage as quads, radix-4 stages h = 4, 16, …, and one radix-2 stage
 * when b is odd. */
export function fwht(a: usize, n: i32): void {
  let h = 1;
  if (n >= 4) {
    for (let i = 0; i < n; i += 4) {
      const p = a + (<usize>i << 3);
      const v = v128.load(p);
      const w = v128.load(p, 16);
      const vs = i64x2.shuffle(v, v, 1, 0);
      const ws = i64x2.shuffle(w, w, 1, 0);
      // (a0 + a1, a0 − a1) and (a2 + a3, a2 − a3), then their sum and difference.
      const sd01 = i64x2.shuffle(f64x2.add(v, vs), f64x2.sub(v, vs), 0, 2);
      const sd23 = i64x2.shuffle(f64x2.add(w, ws), f64x2.sub(w, ws), 0, 2);
      v128.store(p, f64x2.add(sd01, sd23));
      v128.store(p, f64x2.sub(sd01, sd23), 16);
    }
    h = 4;
  }
  for (; 4 * h <= n; h <<= 2) {
    const hb = <usize>h << 3;
    for (let i = 0; i < n; i += h << 2) {
      const start = a + (<usize>i << 3);
      const end = start + hb;
      for (let p = start; p < end; p += 16) {
        const a0 = v128.load(p);
        const a1 = v128.load(p + hb);
        const a2 = v128.load(p + 2 * hb);
        const a3 = v128.load(p + 3 * hb);
        const s01 = f64x2.add(a0, a1);
        const d01 = f64x2.sub(a0, a1);
        const s23 = f64x2.add(a2, a3);
        const d23 = f64x2.sub(a2, a3);
        v128.store(p, f64x2.add(s01, s23));
        v128.store(p + hb, f64x2.add(d01, d23));
        v128.store(p + 2 * hb, f64x2.sub(s01, s23));
        v128.store(p + 3 * hb, f64x2.sub(d01, d23));
      }
    }
  }
  for (; h < n; h <<= 1) {
    if (h == 1) {
      // n = 2: the only case with a stage of width 1 left.
      const u = load<f64>(a);
      const v = load<f64>(a, 8);
      store<f64>(a, u + v);
      store<f64>(a, u - v, 8);
      continue;
    }
    const hb = <usize>h << 3;
    for (let i = 0; i < n; i += h << 1) {
      const start = a + (<usize>i << 3);
      const end = start + hb;
      for (let p = start; p < end; p += 16) {
        const u = v128.load(p);
        const v = v128.load(p + hb);
        v128.store(p, f64x2.add(u, v));
        v128.store(p + hb, f64x2.sub(u, v));
      }
    }
  }
}
