/** @file Entry of gradtrace's WebAssembly kernels (built by scripts/build-wasm.mjs into wasm/gradtrace-kernels.wasm;
 * loaded by src/core/wasm/module.ts). Every export takes byte addresses in this module's memory. */
export { alloc, free, zero } from "./memory";
export { gramAddF32, gramAddF64, gramPaddedRows, gramPanelBytes } from "./gram";
export { liveFlush, sumSquaresF32 } from "./live";
export { fwht, hashScatterF32, hashScatterF64 } from "./sketch";
export { bf16ToF32, f16ToF32 } from "./convert";
