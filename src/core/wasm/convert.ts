/** @file float16 / bfloat16 → float32 in WebAssembly SIMD (wasm/assembly/convert.ts), for the trace readers'
 * decoder (src/trace/dtype.ts holds the JavaScript reference: a 65536-entry table for float16, a shift for
 * bfloat16). Both conversions are exact; NaN stays NaN (its payload may differ from the table's canonical NaN). */
import { f32View, resolveKernels, u8View, WasmMemory, wasm } from "./module.ts";

/** Elements converted per call into module memory (128 KiB in, 256 KiB out). */
const CHUNK = 1 << 16;

let scratch: { mem: WasmMemory; src: number; dst: number } | null = null;

/**
 * out[outOffset + i] = value of the 16-bit float bits[i] (little-endian words already in native order), or false
 * without touching `out` when the kernels in use are the JavaScript ones.
 */
export function halfToFloatWasm(
  bits: Uint16Array,
  kind: "f16" | "bf16",
  out: Float32Array | Float64Array,
  outOffset: number,
): boolean {
  if (resolveKernels(undefined, "float16 decoding") !== "wasm") return false;
  if (scratch === null) {
    const owner = { mem: null as unknown as WasmMemory, src: 0, dst: 0 };
    owner.mem = new WasmMemory(owner);
    owner.src = owner.mem.alloc(2 * CHUNK);
    owner.dst = owner.mem.alloc(4 * CHUNK);
    scratch = owner;
  }
  const { src, dst } = scratch;
  const w = wasm();
  const convert = kind === "f16" ? w.f16ToF32 : w.bf16ToF32;
  for (let i = 0; i < bits.length; i += CHUNK) {
    const n = Math.min(CHUNK, bits.length - i);
    u8View(src, 2 * n).set(new Uint8Array(bits.buffer, bits.byteOffset + 2 * i, 2 * n));
    convert(src, dst, n);
    out.set(f32View(dst, n), outOffset + i);
  }
  return true;
}
