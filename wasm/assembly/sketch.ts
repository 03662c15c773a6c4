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

/** Columns [col0, col0 + count) of one row block: base = the block's hash seed, rows [rowOffset, rowOffset + m).
 * m must be below 2²² (then the reference's float64 bucket arithmetic is exact); shift = 31 − log₂ m when m is a
 * power of two, else −1. `scale` multiplies x unless scaled is 0 (CountSketch over float32 skips the multiply). */
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
  const golden = i32x4.splat(0x9e3779b1);
  const c1 = i32x4.splat(0x85ebca6b);
  const c2 = i32x4.splat(0xc2b2ae35);
  const step = i32x4.splat(4);
  let cols = i32x4.add(i32x4.splat(col0), i32x4(0, 1, 2, 3));
  const size = sizeof<T>();
  let c = 0;
  for (; c + 4 <= count; c += 4) {
    let h = v128.xor(vb, i32x4.mul(cols, golden));
    h = i32x4.mul(v128.xor(h, i32x4.shr_u(h, 16)), c1);
    h = i32x4.mul(v128.xor(h, i32x4.shr_u(h, 13)), c2);
    h = v128.xor(h, i32x4.shr_u(h, 16));
    cols = i32x4.add(cols, step);
    const xp = x + <usize>c * size;
    scatterOne<T>(i32x4.extract_lane(h, 0), load<T>(xp), rowOffset, m, shift, out, scale, scaled);
    scatterOne<T>(i32x4.extract_lane(h, 1), load<T>(xp + size), rowOffset, m, shift, out, scale, scaled);
    scatterOne<T>(i32x4.extract_lane(h, 2), load<T>(xp + 2 * size), rowOffset, m, shift, out, scale, scaled);
    scatterOne<T>(i32x4.extract_lane(h, 3), load<T>(xp + 3 * size), rowOffset, m, shift, out, scale, scaled);
  }
  for (; c < count; c++) {
    let h: u32 = base ^ (<u32>(col0 + c) * <u32>0x9e3779b1);
    h = (h ^ (h >>> 16)) * 0x85ebca6b;
    h = (h ^ (h >>> 13)) * 0xc2b2ae35;
    h ^= h >>> 16;
    scatterOne<T>(<i32>h, load<T>(x + <usize>c * size), rowOffset, m, shift, out, scale, scaled);
  }
}

@inline
function scatterOne<T>(h: i32, xv: T, rowOffset: i32, m: i32, shift: i32, out: usize, scale: f64, scaled: bool): void {
  const u = <u32>h >>> 1;
  const bucket = shift >= 0 ? u >>> <u32>shift : <u32>((<u64>u * <u64>m) >>> 31);
  const at = out + (<usize>(rowOffset + <i32>bucket) << 3);
  let v = <f64>xv;
  if (scaled) v = scale * v;
  store<f64>(at, load<f64>(at) + (h & 1 ? -v : v));
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
