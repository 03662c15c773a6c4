/** @file Dense Gaussian JL sketch: S has i.i.d. N(0, 1/k) entries. The accuracy reference (its error bound is a
 * theorem, bounds.ts) at k·p flops per vector, so for small p or for checking the faster sketches.
 *
 * S is never stored whole for large p: columns come in blocks of 1024, block b drawn from
 * createRng(deriveSeed(seed, 1, b)) column by column, so any column range can be regenerated without the others.
 * Entries are rounded to float32 when generated, so the cached and regenerated paths give the same S. Blocks are
 * cached up to `cacheBytes` (k·p·4 bytes covers the whole matrix when p is small) within a pool shared by all
 * sketches of the process (one sketch per tensor must not multiply the budget); beyond that they are regenerated
 * for every vector, which costs one normal draw (~80 ns here) per entry — the reason dense JL is only a reference. */

import type { Vec } from "../matrix.ts";
import { createRng, deriveSeed } from "../rng.ts";
import { BlockCache, checkAccumulate, DEFAULT_CACHE_BYTES, forEachBlock, LinearSketch } from "./common.ts";

/** Columns per generated block of S. */
export const JL_BLOCK_COLUMNS = 1024;
const JL_STREAM_TAG = 1;

export interface GaussianSketchOptions {
  readonly k: number;
  readonly dim: number;
  readonly seed?: number;
  /** Bytes of generated S blocks to keep between vectors (default 64 MiB, and all sketches together at most
   * SHARED_CACHE_BYTES = 256 MiB). 0 regenerates every block each time. */
  readonly cacheBytes?: number;
}

export class GaussianSketch extends LinearSketch {
  readonly kind = "jl" as const;
  readonly guarantee = "proven" as const;
  private readonly blocks: BlockCache<Float32Array>;

  constructor({ k, dim, seed = 0, cacheBytes = DEFAULT_CACHE_BYTES }: GaussianSketchOptions) {
    super("jl", k, dim, seed);
    this.blocks = new BlockCache(cacheBytes, (b) => this.generateBlock(b));
  }

  /** Column-major block: entry (row i, column c of the block) at [c·k + i]. */
  private generateBlock(b: number): Float32Array {
    const k = this.k;
    const cols = Math.min(JL_BLOCK_COLUMNS, this.dim - b * JL_BLOCK_COLUMNS);
    const block = new Float32Array(cols * k);
    const rng = createRng(deriveSeed(this.seed, JL_STREAM_TAG, b));
    const scale = 1 / Math.sqrt(k);
    for (let e = 0; e < block.length; e++) block[e] = rng.normal() * scale;
    return block;
  }

  accumulate(x: Vec, offset: number, out: Float64Array): void {
    checkAccumulate("jl", this.k, this.dim, x, offset, out);
    const k = this.k;
    forEachBlock(offset, x.length, JL_BLOCK_COLUMNS, (b, first, j, count) => {
      const block = this.blocks.get(b);
      for (let c = 0; c < count; c++) {
        const xc = x[j + c];
        if (xc === 0) continue;
        const base = (first + c) * k;
        for (let i = 0; i < k; i++) out[i] += xc * block[base + i];
      }
    });
  }
}
