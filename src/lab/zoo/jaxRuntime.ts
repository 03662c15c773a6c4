/** @file Starts jax-js once on its WebAssembly backend. A bare `init()` probes WebGPU and throws in Node, so the zoo
 * always asks for "wasm" explicitly and makes it the default device. */
import { defaultDevice, init } from "@jax-js/jax";

let ready: Promise<void> | null = null;

/** Idempotent: every trainer / test awaits this before touching jax-js arrays. */
export function ensureJax(): Promise<void> {
  if (ready === null) {
    ready = init("wasm").then(() => {
      defaultDevice("wasm");
    });
  }
  return ready;
}
