/** @file Public API of the cli layer: the `gradtrace` program, for the bin and for tests. */
export { buildProgram, main } from "./main.ts";
