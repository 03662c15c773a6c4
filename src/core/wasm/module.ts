/** @file Loads gradtrace's WebAssembly SIMD kernels (wasm/gradtrace-kernels.wasm, built from wasm/assembly by
 * scripts/build-wasm.mjs) once per thread, synchronously — the accumulators that use them have synchronous
 * constructors — and says which kernel family runs: "wasm" (default) or the plain-JavaScript reference "js", chosen
 * per object by an option of the classes that use them, or for the whole process by GRADTRACE_KERNELS=js (the
 * fallback switch: it overrides every option, so a CLI run or a test suite can be put on the references at once).
 *
 * The .wasm sits at <package>/wasm/, three levels above this file both in the sources (src/core/wasm/) and in a
 * compiled package (dist/core/wasm/), so one relative URL serves tsx and the build; the package's `files` must list
 * wasm/*.wasm. The module's memory is the process's (thread's) scratch: callers allocate through `alloc`, tie each
 * allocation to the JavaScript object that owns it (`ownMemory`, freed when that object is collected or disposed),
 * and re-create typed-array views after any allocation, since growing the memory detaches the old ones. */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { GradtraceError } from "../errors.ts";

export type KernelFamily = "js" | "wasm";

/** The part of the WebAssembly JavaScript API used here, typed locally: the package is compiled without the DOM
 * library, which is where TypeScript declares `WebAssembly`. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Arguments of the float32 and float64 twins of a kernel (one export per input type, as in the JavaScript kernels). */
type GramAddArgs = [
  k: number,
  ldk: number,
  n: number,
  block: number,
  width: number,
  panel: number,
  flags: number,
];
type HashScatterArgs = [
  x: number,
  count: number,
  col0: number,
  base: number,
  rowOffset: number,
  m: number,
  shift: number,
  out: number,
  scale: number,
];

/** The module's exports (addresses are byte offsets into `memory`). */
export interface WasmKernels {
  readonly memory: { readonly buffer: ArrayBuffer };
  alloc(bytes: number): number;
  free(ptr: number): void;
  zero(ptr: number, bytes: number): void;
  gramPaddedRows(n: number): number;
  gramPanelBytes(n: number): number;
  gramAddF32(...args: GramAddArgs): void;
  gramAddF64(...args: GramAddArgs): void;
  sumSquaresF32(x: number, count: number): number;
  liveFlush(
    ring: number,
    p: number,
    rowSlots: number,
    rows: number,
    firstPending: number,
    maxLag: number,
    kb: number,
    ldk: number,
    panel: number,
    ema: number,
    emaCount: number,
    alphas: number,
    emaInit: number,
    errs: number,
  ): void;
  /** `scaled` 0 skips the multiply by scale = 1 (float32 CountSketch), as the JavaScript reference does. */
  hashScatterF32(...args: [...HashScatterArgs, scaled: number]): void;
  hashScatterF64(...args: HashScatterArgs): void;
  fwht(a: number, n: number): void;
  bf16ToF32(src: number, dst: number, count: number): void;
  f16ToF32(src: number, dst: number, count: number): void;
}

const WASM_FILE = new URL("../../../wasm/gradtrace-kernels.wasm", import.meta.url);

/** Where the module is read from (a string, so the declarations need no URL type). */
export function wasmFilePath(): string {
  return fileURLToPath(WASM_FILE);
}

let loaded: WasmKernels | null = null;
let loadError: unknown = null;

function load(): WasmKernels | null {
  if (loaded !== null || loadError !== null) return loaded;
  try {
    const module = new WA.Module(fs.readFileSync(WASM_FILE));
    const instance = new WA.Instance(module, {
      env: {
        abort: (_msg: number, _file: number, line: number, column: number) => {
          throw new GradtraceError("E_NUMERIC", `WebAssembly kernel aborted at ${line}:${column}`);
        },
      },
    });
    loaded = instance.exports as unknown as WasmKernels;
  } catch (err) {
    loadError = err;
  }
  return loaded;
}

/** The kernel family GRADTRACE_KERNELS asks for (unset or "wasm": "wasm"); anything else is an error naming the
 * variable. */
export function requestedKernels(): KernelFamily {
  const v = process.env.GRADTRACE_KERNELS;
  if (v === undefined || v === "" || v === "wasm") return "wasm";
  if (v === "js") return "js";
  throw new GradtraceError("E_ARG", `GRADTRACE_KERNELS must be "js" or "wasm", got "${v}"`);
}

/** The family an object uses: "js" when GRADTRACE_KERNELS=js or `option` is "js", else "wasm" — which falls back to
 * "js" only when the module cannot load and nobody asked for wasm explicitly (else an error saying why). */
export function resolveKernels(option?: KernelFamily, where = "kernels"): KernelFamily {
  if (requestedKernels() === "js" || option === "js") return "js";
  if (load() !== null) return "wasm";
  if (option === "wasm" || process.env.GRADTRACE_KERNELS === "wasm") {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${where}: the WebAssembly SIMD kernels could not load (${String(loadError)}); use the "js" kernels`,
      { cause: loadError },
    );
  }
  return "js";
}

/** The loaded module; only call after resolveKernels returned "wasm". */
export function wasm(): WasmKernels {
  const k = load();
  if (k === null)
    throw new GradtraceError("E_UNSUPPORTED", `WebAssembly kernels unavailable: ${String(loadError)}`);
  return k;
}

const owners = new FinalizationRegistry<number[]>((ptrs) => {
  const k = loaded;
  if (k !== null) for (const p of ptrs) k.free(p);
});

/** Memory blocks owned by one JavaScript object: freed by `release()` or when the owner is garbage-collected. */
export class WasmMemory {
  private readonly ptrs: number[] = [];
  private released = false;

  constructor(owner: object) {
    owners.register(owner, this.ptrs, this);
  }

  /** A new block of `bytes` bytes (16-byte aligned; contents undefined unless `zeroed`). */
  alloc(bytes: number, zeroed = false): number {
    if (this.released) throw new GradtraceError("E_ARG", "WasmMemory: used after release()");
    const k = wasm();
    const ptr = k.alloc(Math.max(16, bytes));
    if (ptr === 0)
      throw new GradtraceError("E_UNSUPPORTED", `WebAssembly memory: cannot allocate ${bytes} bytes`);
    if (zeroed) k.zero(ptr, bytes);
    this.ptrs.push(ptr);
    return ptr;
  }

  /** Frees one block from this owner. */
  free(ptr: number): void {
    const i = this.ptrs.indexOf(ptr);
    if (i < 0) return;
    this.ptrs.splice(i, 1);
    wasm().free(ptr);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    owners.unregister(this);
    const k = wasm();
    for (const p of this.ptrs) k.free(p);
    this.ptrs.length = 0;
  }
}

/** Fresh views on the module's memory (never keep one across an allocation). */
export function f32View(ptr: number, length: number): Float32Array {
  return new Float32Array(wasm().memory.buffer, ptr, length);
}
export function f64View(ptr: number, length: number): Float64Array {
  return new Float64Array(wasm().memory.buffer, ptr, length);
}
export function i32View(ptr: number, length: number): Int32Array {
  return new Int32Array(wasm().memory.buffer, ptr, length);
}
export function u8View(ptr: number, length: number): Uint8Array {
  return new Uint8Array(wasm().memory.buffer, ptr, length);
}
