/** @file One factory for the four sketches and the parser for CLI sketch specs ("jl:512", "countsketch:1024",
 * "sparsejl:512", "srht:256"), so the CLI, the logger and the analysis build the same S from (kind, k, seed, dim). */
import { GradtraceError } from "../errors.ts";
import { GaussianSketch } from "./gaussian.ts";
import { HashingSketch, sparsityFor } from "./hashing.ts";
import { SrhtSketch } from "./srht.ts";
import { SKETCH_KINDS, type Sketch, type SketchKind } from "./types.ts";

export interface CreateSketchOptions {
  readonly kind: SketchKind;
  /** Sketch dimension, e.g. 256..1024. */
  readonly k: number;
  readonly seed?: number;
  /** Length of the vectors to sketch (the model or tensor size p). */
  readonly dim: number;
  /** sparsejl only: nonzeros per column (default: the largest divisor of k that is ≤ 8). */
  readonly s?: number;
  /** Bytes the sketch may spend caching generated parts of S (default 64 MiB for every kind, within a 256 MiB pool
   * shared by all sketches of the process): Gaussian blocks for jl, packed (row, sign) tables for countsketch /
   * sparsejl (≈2× faster than hashing, see hashing.ts). 0 regenerates / hashes every time. */
  readonly cacheBytes?: number;
  /** countsketch, sparsejl, srht: "wasm" (default unless GRADTRACE_KERNELS=js) or "js" kernels; both give the same
   * sketch bit for bit. */
  readonly kernel?: "js" | "wasm";
}

export function createSketch({ kind, k, seed = 0, dim, s, cacheBytes, kernel }: CreateSketchOptions): Sketch {
  switch (kind) {
    case "jl":
      return new GaussianSketch({ k, dim, seed, cacheBytes });
    case "countsketch":
      return new HashingSketch({ k, dim, seed, s: 1, cacheBytes, kernel });
    case "sparsejl":
      return new HashingSketch({ k, dim, seed, s: s ?? sparsityFor(k), cacheBytes, kernel });
    case "srht":
      return new SrhtSketch({ k, dim, seed, cacheBytes, kernel });
    default:
      throw new GradtraceError(
        "E_ARG",
        `createSketch: unknown kind "${String(kind)}", expected one of ${SKETCH_KINDS.join(", ")}`,
      );
  }
}

/** Parses "kind:k" (e.g. "countsketch:1024"). k must be a positive integer. */
export function parseSketchSpec(spec: string): { kind: SketchKind; k: number } {
  const match = /^\s*([a-z]+)\s*:\s*(\d+)\s*$/i.exec(spec);
  const expected = `expected "<kind>:<k>" with kind one of ${SKETCH_KINDS.join(", ")} and k a positive integer, e.g. "jl:512"`;
  if (!match) throw new GradtraceError("E_ARG", `sketch spec "${spec}": ${expected}`);
  const kind = match[1].toLowerCase();
  if (!(SKETCH_KINDS as readonly string[]).includes(kind)) {
    throw new GradtraceError("E_ARG", `sketch spec "${spec}": unknown kind "${kind}"; ${expected}`);
  }
  const k = Number(match[2]);
  if (!Number.isSafeInteger(k) || k < 1)
    throw new GradtraceError("E_ARG", `sketch spec "${spec}": ${expected}`);
  return { kind: kind as SketchKind, k };
}
