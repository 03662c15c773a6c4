/** @file Types of scripts/build-wasm.mjs for the TypeScript code that imports it (test/core/wasm-build.test.ts). */
export declare const WASM_ENTRY: string;
export declare const WASM_OUTPUT: string;
export declare const ASC_FLAGS: readonly string[];
export declare function compileKernels(): Promise<Uint8Array>;
