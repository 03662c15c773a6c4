/** @file Small pieces shared by the sketch implementations: argument checks with messages that name the sketch,
 * the base class that derives `apply` and the error bounds from `accumulate`, the per-index hash used by the
 * hashing sketches, and a byte-budgeted cache for regenerated blocks of S. */
import { GradtraceError } from "../errors.ts";
import type { Vec } from "../matrix.ts";
import { chebyshevErrorBound, jlErrorBound } from "./bounds.ts";
import type { ErrorBoundOptions, Sketch, SketchGuarantee, SketchKind } from "./types.ts";

/** Default memory one sketch may spend caching the parts of S it would otherwise regenerate on every vector (all
 * sketches together are further limited by SHARED_CACHE_BYTES). */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export function checkSketchShape(kind: SketchKind, k: number, dim: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new GradtraceError("E_ARG", `createSketch(${kind}): k must be a positive integer, got ${k}`);
  }
  if (!Number.isInteger(dim) || dim < 1) {
    throw new GradtraceError("E_ARG", `createSketch(${kind}): dim must be a positive integer, got ${dim}`);
  }
}

export function checkAccumulate(
  kind: SketchKind,
  k: number,
  dim: number,
  x: Vec,
  offset: number,
  out: Float64Array,
) {
  if (out.length !== k) {
    throw new GradtraceError(
      "E_SHAPE",
      `${kind}.accumulate: out has length ${out.length}, expected k = ${k}`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + x.length > dim) {
    throw new GradtraceError(
      "E_SHAPE",
      `${kind}.accumulate: slice [${offset}, ${offset + x.length}) is outside the sketch's dim ${dim}`,
    );
  }
}

export function checkApply(kind: SketchKind, dim: number, x: Vec): void {
  if (x.length !== dim) {
    throw new GradtraceError(
      "E_SHAPE",
      `${kind}.apply: vector has length ${x.length}, expected dim = ${dim}`,
    );
  }
}

/**
 * What the Gaussian, hashing and SRHT sketches have in common: each implements `accumulate` (its hot loop, kept in
 * the subclass so every call site there sees one class), and `apply` and the bounds follow from it and from k. The
 * bounds are those of a JL sketch with k rows; `guarantee` says how far each kind is proven to meet them.
 */
export abstract class LinearSketch implements Sketch {
  abstract readonly kind: SketchKind;
  abstract readonly guarantee: SketchGuarantee;

  /** Checks k and dim (errors name `kind`). Subclasses must not redeclare k, dim or seed: a field declared there
   * would be re-initialised to undefined after this constructor. */
  protected constructor(
    kind: SketchKind,
    readonly k: number,
    readonly dim: number,
    readonly seed: number,
  ) {
    checkSketchShape(kind, k, dim);
  }

  abstract accumulate(x: Vec, offset: number, out: Float64Array): void;

  apply(x: Vec): Float64Array {
    checkApply(this.kind, this.dim, x);
    const out = new Float64Array(this.k);
    this.accumulate(x, 0, out);
    return out;
  }

  errorBound(options: ErrorBoundOptions): number {
    return jlErrorBound(this.k, options);
  }

  chebyshevBound(options: ErrorBoundOptions): number {
    return chebyshevErrorBound(this.k, options);
  }
}

/**
 * Walks the slice [offset, offset + length) of the columns of S through the fixed blocks of `blockSize` columns that
 * each sketch generates (or caches) S in: `visit(b, first, from, count)` gets block b, the piece's first column within
 * that block, its start in the slice and its length. One call per block touched, so the sketches' per-column loops
 * stay inside `visit`.
 */
export function forEachBlock(
  offset: number,
  length: number,
  blockSize: number,
  visit: (b: number, first: number, from: number, count: number) => void,
): void {
  let j = 0;
  while (j < length) {
    const col = offset + j;
    const b = Math.floor(col / blockSize);
    const first = col - b * blockSize;
    const count = Math.min(blockSize - first, length - j);
    visit(b, first, j, count);
    j += count;
  }
}

/**
 * 32-bit hash of a column index under a per-sketch base (the base comes from `deriveSeed`, so all randomness is
 * still rooted in rng.ts). MurmurHash3's finaliser (fmix32) after a golden-ratio multiply: ~2.5 ns per call
 * against ~8–35 ns for `deriveSeed(base, j)` (rest-parameter call), measured on the dev machine; the hashing
 * sketches call it once per coordinate, so it sets their speed.
 */
export function hashIndex(base: number, index: number): number {
  let h = (base ^ Math.imul(index, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * All sketches of the process share one pool for cached blocks, on top of each sketch's own `cacheBytes`: callers
 * create one sketch per tensor (hundreds per model), and per-sketch budgets alone would multiply. Bytes return to
 * the pool when a sketch is garbage-collected.
 */
export const SHARED_CACHE_BYTES = 256 * 1024 * 1024;
const sharedPool = { free: SHARED_CACHE_BYTES };
const giveBack = new FinalizationRegistry<{ used: number }>((held) => {
  sharedPool.free += held.used;
});

/** Bytes still free in the process-wide cache pool (for tests and diagnostics). */
export function sharedCacheFreeBytes(): number {
  return sharedPool.free;
}

/**
 * Keeps generated blocks of S up to a byte budget, first come first kept. For a gradient streamed in coordinate
 * order every step, LRU would evict each block just before it is needed again (a cyclic scan larger than the cache
 * never hits); keeping the first blocks gives a hit rate of budget / size instead. The last uncached block is also
 * kept so consecutive small slices (biases, norms) inside one block do not regenerate it.
 */
export class BlockCache<T extends { readonly byteLength: number }> {
  private readonly kept = new Map<number, T>();
  private readonly account = { used: 0 };
  private lastIndex = -1;
  private last: T | null = null;

  constructor(
    private readonly budgetBytes: number,
    private readonly generate: (index: number) => T,
  ) {
    if (budgetBytes > 0) giveBack.register(this, this.account);
  }

  get(index: number): T {
    const hit = this.kept.get(index);
    if (hit !== undefined) return hit;
    if (index === this.lastIndex && this.last !== null) return this.last;
    const block = this.generate(index);
    const size = block.byteLength;
    if (this.account.used + size <= this.budgetBytes && size <= sharedPool.free) {
      this.kept.set(index, block);
      this.account.used += size;
      sharedPool.free -= size;
    } else {
      this.lastIndex = index;
      this.last = block;
    }
    return block;
  }
}
