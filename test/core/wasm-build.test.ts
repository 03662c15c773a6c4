/** @file The committed wasm/gradtrace-kernels.wasm is what its AssemblyScript source compiles to: a fresh build with
 * the pinned compiler and the flags of scripts/build-wasm.mjs gives the same bytes (run `npm run build:wasm` after
 * editing wasm/assembly). */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { compileKernels, WASM_OUTPUT } from "../../scripts/build-wasm.mjs";
import { wasmFilePath } from "../../src/core/wasm/module.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

it("wasm/gradtrace-kernels.wasm matches a fresh build of wasm/assembly", async () => {
  const committed = fs.readFileSync(path.join(root, WASM_OUTPUT));
  expect(wasmFilePath()).toBe(path.join(root, WASM_OUTPUT));
  const fresh = await compileKernels();
  expect(fresh.byteLength).toBe(committed.byteLength);
  expect(Buffer.compare(Buffer.from(fresh), committed)).toBe(0);
}, 120_000);
