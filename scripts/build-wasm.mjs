#!/usr/bin/env node
/** @file Builds gradtrace's WebAssembly kernels: wasm/assembly/*.ts (AssemblyScript) → wasm/gradtrace-kernels.wasm,
 * the file src/core/wasm/module.ts loads. The .wasm is committed (the package needs no compiler at install time);
 * test/core/wasm-build.test.ts rebuilds it with `compileKernels()` and requires identical bytes, so the committed
 * binary always matches its source. The compiler and its optimizer (assemblyscript, binaryen) are pinned by
 * package-lock.json, and the flags below are the only ones used.
 *
 * Usage: `npm run build:wasm` (writes the file), `node scripts/build-wasm.mjs --check` (exit 1 when it differs). */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WASM_ENTRY = "wasm/assembly/index.ts";
export const WASM_OUTPUT = "wasm/gradtrace-kernels.wasm";
/** -O3 for speed; SIMD on; the minimal runtime gives heap.alloc/free (TLSF) and never collects by itself; no
 * assertion traps (the JavaScript callers validate every argument). */
export const ASC_FLAGS = ["-O3", "--runtime", "minimal", "--enable", "simd", "--noAssert"];

/** Compiles the kernels in memory and returns the module's bytes. */
export async function compileKernels() {
  const asc = await import("assemblyscript/asc");
  let binary = null;
  const errors = [];
  const { error } = await asc.main([path.join(root, WASM_ENTRY), ...ASC_FLAGS, "--outFile", "kernels.wasm"], {
    writeFile(name, contents) {
      if (name.endsWith(".wasm")) binary = contents;
    },
    stdout: { write: () => true },
    stderr: { write: (s) => errors.push(String(s)) },
  });
  if (error || binary === null) throw new Error(`asc failed: ${error?.message ?? ""}\n${errors.join("")}`);
  return new Uint8Array(binary);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bytes = await compileKernels();
  const out = path.join(root, WASM_OUTPUT);
  if (process.argv.includes("--check")) {
    const same = fs.existsSync(out) && Buffer.compare(fs.readFileSync(out), Buffer.from(bytes)) === 0;
    console.log(same ? `${WASM_OUTPUT} matches its source` : `${WASM_OUTPUT} differs from a fresh build: run npm run build:wasm`);
    process.exitCode = same ? 0 : 1;
  } else {
    fs.writeFileSync(out, bytes);
    console.log(`wrote ${WASM_OUTPUT} (${bytes.byteLength} bytes)`);
  }
}
