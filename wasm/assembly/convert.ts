/** @file float16 / bfloat16 → float32 (src/trace/dtype.ts; its table and shift are the references). Both exact:
 * every 16-bit float is a float32. Input is little-endian 16-bit words (the caller byte-swaps big-endian data).
 *
 * bfloat16 is the top half of a float32: widen and shift, eight values per iteration.
 * float16: the bits (sign dropped) shifted into a float32's exponent/mantissa positions give 2⁻¹¹² times the value
 * for normal and subnormal inputs alike (a float16 subnormal lands on a float32 subnormal), so one exact multiply by
 * 2¹¹² rescales it; exponent 31 (±Inf/NaN) comes out ≥ 2¹⁶ and gets the all-ones exponent instead; then the sign. */

export function bf16ToF32(src: usize, dst: usize, count: i32): void {
  let c = 0;
  for (; c + 8 <= count; c += 8) {
    const v = v128.load(src + (<usize>c << 1));
    v128.store(dst + (<usize>c << 2), i32x4.shl(i32x4.extend_low_i16x8_u(v), 16));
    v128.store(dst + (<usize>c << 2), i32x4.shl(i32x4.extend_high_i16x8_u(v), 16), 16);
  }
  for (; c < count; c++) store<u32>(dst + (<usize>c << 2), <u32>load<u16>(src + (<usize>c << 1)) << 16);
}

@inline
function f16x4(w: v128): v128 {
  const magic = f32x4.splat(5.192296858534828e33); // 2^112
  const em = v128.and(w, i32x4.splat(0x7fff));
  const sign = i32x4.shl(v128.and(w, i32x4.splat(0x8000)), 16);
  let f = f32x4.mul(i32x4.shl(em, 13), magic);
  const special = f32x4.ge(f, f32x4.splat(65536));
  f = v128.or(f, v128.and(special, i32x4.splat(0x7f800000)));
  return v128.or(f, sign);
}

export function f16ToF32(src: usize, dst: usize, count: i32): void {
  let c = 0;
  for (; c + 8 <= count; c += 8) {
    const v = v128.load(src + (<usize>c << 1));
    v128.store(dst + (<usize>c << 2), f16x4(i32x4.extend_low_i16x8_u(v)));
    v128.store(dst + (<usize>c << 2), f16x4(i32x4.extend_high_i16x8_u(v)), 16);
  }
  for (; c < count; c++) {
    const w = i32x4.splat(<i32>load<u16>(src + (<usize>c << 1)));
    store<u32>(dst + (<usize>c << 2), i32x4.extract_lane(f16x4(w), 0));
  }
}
