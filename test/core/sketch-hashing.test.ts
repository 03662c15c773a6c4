import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRng, deriveSeed } from "../../src/core/rng.ts";
import { hashIndex } from "../../src/core/sketch/common.ts";
import { bucketOf, TABLE_BLOCK_COLUMNS } from "../../src/core/sketch/hashing.ts";
import { HashingSketch, sharedCacheFreeBytes } from "../../src/core/sketch/index.ts";

/** The definition of S, written out independently of the kernels: column j has, in each row block q, the entry
 * ±1/√s at row q·(k/s) + bucketOf(h, k/s) with h = hashIndex(deriveSeed(seed, 2, q), j), negative when h is odd. */
function referenceSketch(
  x: ArrayLike<number>,
  offset: number,
  k: number,
  s: number,
  seed: number,
): Float64Array {
  const out = new Float64Array(k);
  const m = k / s;
  for (let q = 0; q < s; q++) {
    const base = deriveSeed(seed, 2, q);
    for (let j = 0; j < x.length; j++) {
      const h = hashIndex(base, offset + j);
      out[q * m + bucketOf(h, m)] += ((h & 1 ? -1 : 1) / Math.sqrt(s)) * x[j];
    }
  }
  return out;
}

function randomInput(seed: number, n: number, float32: boolean): Float32Array | Float64Array {
  const rng = createRng(seed);
  const x = float32 ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
}

describe("hashing sketch kernels", () => {
  // dim spans three table blocks so slices cross block edges; k = 96 and 100 exercise the multiply-shift bucket.
  const dim = 2 * TABLE_BLOCK_COLUMNS + 3001;
  const cases = [
    { k: 512, s: 1 },
    { k: 512, s: 8 },
    { k: 96, s: 1 },
    { k: 100, s: 5 },
  ];

  it.each(cases)(
    "k=$k s=$s: table, on-the-fly hash and the wasm kernel give bit-identical sketches for any slicing",
    ({ k, s }) => {
      const tabled = new HashingSketch({ k, dim, s, seed: 7, cacheBytes: 2 ** 30, kernel: "js" });
      const hashed = new HashingSketch({ k, dim, s, seed: 7, cacheBytes: 0, kernel: "js" });
      // Room for one table block only: the others are refused by the cache and hashed.
      const partial = new HashingSketch({
        k,
        dim,
        s,
        seed: 7,
        cacheBytes: 4 * s * TABLE_BLOCK_COLUMNS,
        kernel: "js",
      });
      // The SIMD-hashing WebAssembly kernel (slices of any length: not multiples of its 4 lanes).
      const simd = new HashingSketch({ k, dim, s, seed: 7, kernel: "wasm" });
      expect(simd.kernel).toBe("wasm");
      fc.assert(
        fc.property(
          fc.boolean(),
          fc.uniqueArray(fc.integer({ min: 1, max: dim - 1 }), { maxLength: 6 }),
          (float32, cutsRaw) => {
            const x = randomInput(cutsRaw.length + (float32 ? 100 : 0), dim, float32);
            const cuts = [0, ...cutsRaw.sort((a, b) => a - b), dim];
            const outs = [tabled, hashed, partial, simd].map((sketch) => {
              const out = new Float64Array(k);
              for (let i = 0; i + 1 < cuts.length; i++)
                sketch.accumulate(x.subarray(cuts[i], cuts[i + 1]), cuts[i], out);
              return Array.from(out);
            });
            expect(outs[1]).toEqual(outs[0]);
            expect(outs[2]).toEqual(outs[0]);
            expect(outs[3]).toEqual(outs[0]);
          },
        ),
        { numRuns: 6, seed: 11 },
      );
    },
  );

  it.each(cases)("k=$k s=$s: equals the definition of S computed coordinate by coordinate", ({ k, s }) => {
    const sketch = new HashingSketch({ k, dim, s, seed: 3 });
    for (const float32 of [true, false]) {
      // A slice that starts inside the first table block and ends inside the third.
      const offset = TABLE_BLOCK_COLUMNS - 777;
      const x = randomInput(float32 ? 5 : 6, TABLE_BLOCK_COLUMNS + 2000, float32);
      const got = new Float64Array(k);
      sketch.accumulate(x, offset, got);
      const want = referenceSketch(x, offset, k, s, 3);
      let norm = 0;
      for (const v of want) norm = Math.max(norm, Math.abs(v));
      // Same terms, summed in another order: agreement to rounding.
      for (let i = 0; i < k; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-12 * (norm + 1));
    }
  });

  it("charges kept table blocks to the process-wide pool and hashes the blocks that do not fit", () => {
    const k = 64;
    const before = sharedCacheFreeBytes();
    const budget = 4 * TABLE_BLOCK_COLUMNS; // one CountSketch table block
    const sketch = new HashingSketch({
      k,
      dim: 3 * TABLE_BLOCK_COLUMNS,
      seed: 1,
      cacheBytes: budget,
      kernel: "js",
    });
    const x = randomInput(1, 3 * TABLE_BLOCK_COLUMNS, true);
    const first = sketch.apply(x);
    expect(before - sharedCacheFreeBytes()).toBe(budget);
    const second = sketch.apply(x); // the refused blocks are hashed, not generated and offered again
    expect(before - sharedCacheFreeBytes()).toBe(budget);
    expect(Array.from(second)).toEqual(Array.from(first));
    new HashingSketch({ k, dim: 3 * TABLE_BLOCK_COLUMNS, seed: 1, cacheBytes: 0, kernel: "js" }).apply(x);
    expect(before - sharedCacheFreeBytes()).toBe(budget);
  });
});
