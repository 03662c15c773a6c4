/** @file Storage dtypes of gradient traces: byte sizes, exact F16/BF16 ↔ float conversion, and decoding raw bytes
 * (either endianness) into float64 / float32 arrays. Hand-written because the conversions are a few lines each, must
 * be exact on every special value (subnormals, ±0, ±inf, NaN) and no maintained npm package covers BF16 and F16
 * decoding into preallocated float64 buffers without extra copies. */

import { GradtraceError, halfToFloatWasm } from "../core/index.ts";
import type { DType } from "./types.ts";

export const DTYPES: readonly DType[] = ["F64", "F32", "F16", "BF16"];

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

export function dtypeSize(dtype: DType): number {
  switch (dtype) {
    case "F64":
      return 8;
    case "F32":
      return 4;
    case "F16":
    case "BF16":
      return 2;
  }
}

/** Value of a small IEEE-like float given its bit pattern (1 sign bit, `expBits`, `mantBits`). Exact. */
export function decodeSmallFloat(bits: number, expBits: number, mantBits: number): number {
  const sign = (bits >>> (expBits + mantBits)) & 1 ? -1 : 1;
  const expMax = (1 << expBits) - 1;
  const bias = (1 << (expBits - 1)) - 1;
  const exp = (bits >>> mantBits) & expMax;
  const mant = bits & ((1 << mantBits) - 1);
  if (exp === expMax) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  // Subnormals have no implicit leading 1 and the exponent of the smallest normal.
  if (exp === 0) return sign * mant * 2 ** (1 - bias - mantBits);
  return sign * (1 + mant / 2 ** mantBits) * 2 ** (exp - bias);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Bit pattern of the nearest small float to `x` (round to nearest, ties to even; overflow → ±inf; NaN → quiet
 * NaN). Rounds once from the float64 value, so float64 inputs do not suffer double rounding through float32. */
export function encodeSmallFloat(x: number, expBits: number, mantBits: number): number {
  const expMax = (1 << expBits) - 1;
  const bias = (1 << (expBits - 1)) - 1;
  const signBit = 1 << (expBits + mantBits);
  if (Number.isNaN(x)) return (expMax << mantBits) | (1 << (mantBits - 1));
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const a = Math.abs(x);
  if (a === Number.POSITIVE_INFINITY) return sign | (expMax << mantBits);
  const minNormal = 2 ** (1 - bias);
  if (a < minNormal) {
    // Subnormal range: units of 2^(1-bias-mantBits); a carry into 2^mantBits lands exactly on the smallest normal.
    return sign | roundHalfEven(a * 2 ** (mantBits - 1 + bias));
  }
  let e = Math.floor(Math.log2(a));
  // log2 may be off by one near powers of two; fix it exactly.
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  let m = roundHalfEven((a / 2 ** e - 1) * 2 ** mantBits);
  if (m === 2 ** mantBits) {
    m = 0;
    e += 1;
  }
  if (e + bias >= expMax) return sign | (expMax << mantBits);
  return sign | ((e + bias) << mantBits) | m;
}

export const f16ToFloat = (bits: number): number => decodeSmallFloat(bits, 5, 10);
export const bf16ToFloat = (bits: number): number => decodeSmallFloat(bits, 8, 7);
export const floatToF16 = (x: number): number => encodeSmallFloat(x, 5, 10);
export const floatToBf16 = (x: number): number => encodeSmallFloat(x, 8, 7);

let f16Table: Float32Array | null = null;
/** All 65536 F16 values as float32 (exact: every F16 is a float32); built once, 256 KiB. */
function getF16Table(): Float32Array {
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) f16Table[b] = f16ToFloat(b);
  }
  return f16Table;
}

/** Native byte order of this machine (all supported platforms are little-endian, but do not assume). */
export const NATIVE_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 → float64 copy in its own monomorphic function so V8 keeps one fast loop for the hot readSlice path. */
function widenInto(view: Float32Array, out: Float64Array, outOffset: number): void {
  const n = view.length;
  for (let i = 0; i < n; i++) out[outOffset + i] = view[i];
}

/**
 * Decodes `count` elements of `dtype` from `src` (starting at byte 0 of the view) into `out[outOffset...]`.
 * Fast paths use typed-array views when the bytes are aligned and in native order; otherwise a DataView.
 */
export function decodeInto(
  src: Uint8Array,
  dtype: DType,
  littleEndian: boolean,
  count: number,
  out: Float64Array | Float32Array,
  outOffset = 0,
): void {
  const size = dtypeSize(dtype);
  if (src.byteLength < count * size) {
    throw new GradtraceError(
      "E_ARG",
      `decodeInto: ${count} ${dtype} elements need ${count * size} bytes, got ${src.byteLength}`,
    );
  }
  const native = littleEndian === NATIVE_LITTLE_ENDIAN;
  const aligned = (src.byteOffset & (size - 1)) === 0;
  if (dtype === "F32") {
    if (native && aligned) {
      const view = new Float32Array(src.buffer, src.byteOffset, count);
      if (out instanceof Float32Array) out.set(view, outOffset);
      else widenInto(view, out, outOffset);
      return;
    }
    const dv = new DataView(src.buffer, src.byteOffset, count * 4);
    for (let i = 0; i < count; i++) out[outOffset + i] = dv.getFloat32(i * 4, littleEndian);
    return;
  }
  if (dtype === "F64") {
    if (native && aligned) {
      const view = new Float64Array(src.buffer, src.byteOffset, count);
      if (out instanceof Float64Array) out.set(view, outOffset);
      else for (let i = 0; i < count; i++) out[outOffset + i] = view[i];
      return;
    }
    const dv = new DataView(src.buffer, src.byteOffset, count * 8);
    for (let i = 0; i < count; i++) out[outOffset + i] = dv.getFloat64(i * 8, littleEndian);
    return;
  }
  const bits =
    native && aligned
      ? new Uint16Array(src.buffer, src.byteOffset, count)
      : (() => {
          const dv = new DataView(src.buffer, src.byteOffset, count * 2);
          const u = new Uint16Array(count);
          for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, littleEndian);
          return u;
        })();
  // The WebAssembly SIMD conversion unless GRADTRACE_KERNELS=js (the code below is its reference).
  if (halfToFloatWasm(bits, dtype === "F16" ? "f16" : "bf16", out, outOffset)) return;
  if (dtype === "F16") {
    const table = getF16Table();
    for (let i = 0; i < count; i++) out[outOffset + i] = table[bits[i]];
    return;
  }
  // BF16 is the upper half of a float32: shifting the bits back is exact, including NaN payloads and subnormals.
  const word = new Uint32Array(1);
  const asFloat = new Float32Array(word.buffer);
  for (let i = 0; i < count; i++) {
    word[0] = bits[i] << 16;
    out[outOffset + i] = asFloat[0];
  }
}

/** Encodes float values (or raw 16-bit patterns for F16/BF16 given as Uint16Array) into little-endian bytes. */
export function encodeLittleEndian(
  data: Float32Array | Float64Array | Uint16Array,
  dtype: DType,
): Uint8Array {
  const n = data.length;
  // Same representation in memory and on disk: one copy of the bytes instead of a loop over elements.
  if (
    NATIVE_LITTLE_ENDIAN &&
    ((dtype === "F32" && data instanceof Float32Array) || (dtype === "F64" && data instanceof Float64Array))
  )
    return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint8Array(n * dtypeSize(dtype));
  const dv = new DataView(out.buffer);
  if (data instanceof Uint16Array) {
    if (dtype !== "F16" && dtype !== "BF16") {
      throw new GradtraceError(
        "E_ARG",
        `encode: raw Uint16Array data is only valid for F16/BF16, not ${dtype}`,
      );
    }
    for (let i = 0; i < n; i++) dv.setUint16(i * 2, data[i], true);
    return out;
  }
  switch (dtype) {
    case "F64":
      for (let i = 0; i < n; i++) dv.setFloat64(i * 8, data[i], true);
      break;
    case "F32":
      for (let i = 0; i < n; i++) dv.setFloat32(i * 4, data[i], true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, floatToF16(data[i]), true);
      break;
    case "BF16":
      for (let i = 0; i < n; i++) dv.setUint16(i * 2, floatToBf16(data[i]), true);
      break;
  }
  return out;
}

/** Product of a shape, validating every dimension is a non-negative safe integer and the product stays safe. */
export function shapeNumel(shape: unknown, where: string): number {
  if (!Array.isArray(shape))
    throw new GradtraceError("E_FORMAT", `${where}: shape must be an array of integers`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d === "number" && Number.isInteger(d) && d > Number.MAX_SAFE_INTEGER) {
      throw new GradtraceError("E_FORMAT", `${where}: shape[${i}] = ${d} exceeds 2^53 elements`);
    }
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: shape[${i}] must be a non-negative integer, got ${JSON.stringify(d)}`,
      );
    }
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: shape ${JSON.stringify(shape)} has more than 2^53 elements`,
      );
    }
  }
  return n;
}
