/** @file Tests of src/core/gram.ts: both Gram kernels against brute-force dot products (the jax kernel within its
 * documented float32 bound) and incrementGram against explicit increments. */
import { describe, expect, test } from "vitest";
import { GramAccumulator, incrementGram } from "../../src/core/gram.ts";
import { mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";

/** n vectors of length p, plus a split of the p coordinates into blocks of the given widths (cycled). */
function makeVectors(n: number, p: number, seed: number): Float64Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: p }, () => rng.normal()));
}

function bruteGram(g: ArrayLike<number>[], p: number): Float64Array {
  const n = g.length;
  const k = new Float64Array(n * n);
  for (let s = 0; s < n; s++) {
    for (let t = 0; t < n; t++) {
      let d = 0;
      for (let c = 0; c < p; c++) d += g[s][c] * g[t][c];
      k[s * n + t] = d;
    }
  }
  return k;
}

/** Streams the vectors into the accumulator in coordinate blocks of the given widths, as `Ctor` typed arrays. */
function feed(
  acc: GramAccumulator,
  g: ArrayLike<number>[],
  p: number,
  widths: number[],
  Ctor: Float32ArrayConstructor | Float64ArrayConstructor,
): number[] {
  const n = g.length;
  const used: number[] = [];
  let c0 = 0;
  for (let b = 0; c0 < p; b++) {
    const w = Math.min(widths[b % widths.length], p - c0);
    const block = new Ctor(n * w);
    for (let t = 0; t < n; t++) for (let c = 0; c < w; c++) block[t * w + c] = g[t][c0 + c];
    acc.addBlock(block, w);
    used.push(w);
    c0 += w;
  }
  return used;
}

describe("GramAccumulator (js kernel)", () => {
  const cases: [number, number, number[]][] = [
    [1, 5, [5]],
    [3, 7, [1, 3]],
    [4, 256, [256]],
    [5, 600, [257, 255]],
    [17, 513, [1, 511]],
    [33, 300, [300]],
  ];
  test.each(cases)(
    "n = %i, p = %i, widths %j: float64 and float32 blocks match brute-force dot products",
    (n, p, widths) => {
      const g = makeVectors(n, p, n * 1000 + p);
      const ref = bruteGram(g, p);
      const acc64 = new GramAccumulator(n);
      feed(acc64, g, p, widths, Float64Array);
      const k = acc64.gram;
      expect([k.rows, k.cols, acc64.coordinates]).toEqual([n, n, p]);
      for (let i = 0; i < n * n; i++) expect(Math.abs(k.data[i] - ref[i])).toBeLessThan(1e-13 * p);
      // Float32 input: the reference uses the same float32-rounded values, so only float64 rounding separates them.
      const g32 = g.map((v) => Float32Array.from(v));
      const ref32 = bruteGram(g32, p);
      const acc32 = new GramAccumulator(n);
      feed(acc32, g32, p, widths, Float32Array);
      const k32 = acc32.gram;
      for (let i = 0; i < n * n; i++) expect(Math.abs(k32.data[i] - ref32[i])).toBeLessThan(1e-13 * p);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) expect(k32.data[i * n + j]).toBe(k32.data[j * n + i]);
    },
  );

  test("rejects a block whose length is not n × width", () => {
    const acc = new GramAccumulator(3);
    expect(() => acc.addBlock(new Float64Array(7), 2)).toThrow(/expected n × width = 3 × 2/);
    expect(() => new GramAccumulator(0)).toThrow(/positive integer/);
  });
});

describe("GramAccumulator (jax kernel)", () => {
  test.each([
    [5, 40, [40], Float32Array],
    [70, 900, [300, 257], Float32Array],
    [70, 900, [450], Float64Array],
  ] as const)(
    "n = %i, p = %i, widths %j: within (width + 2)·u₃₂·Σ_blocks ‖b_s‖‖b_t‖ of the exact Gram",
    async (n, p, widths, Ctor) => {
      const g = makeVectors(n, p, 7 + n);
      const acc = await GramAccumulator.create({ n, kernel: "jax" });
      expect(acc.kernel).toBe("jax");
      const used = feed(acc, g, p, [...widths], Ctor);
      const k = acc.gram;
      const ref = bruteGram(g, p);
      let worstRatio = 0;
      for (let s = 0; s < n; s++) {
        for (let t = 0; t < n; t++) {
          let bound = 0;
          let c0 = 0;
          for (const w of used) {
            let ns = 0;
            let nt = 0;
            for (let c = c0; c < c0 + w; c++) {
              ns += g[s][c] ** 2;
              nt += g[t][c] ** 2;
            }
            bound += GramAccumulator.jaxErrorBound(w, Math.sqrt(ns * nt));
            c0 += w;
          }
          worstRatio = Math.max(worstRatio, Math.abs(k.data[s * n + t] - ref[s * n + t]) / bound);
        }
      }
      expect(worstRatio).toBeLessThanOrEqual(1);
      // ...and it really is a float32 computation, not silently exact (guards against a vacuous bound check).
      expect(worstRatio).toBeGreaterThan(0);
    },
  );
});

describe("incrementGram", () => {
  test.each([1, 2, 6, 20])("D K Dᵀ equals the Gram of explicit increments (n = %i)", (n) => {
    const p = 15;
    const g = makeVectors(n, p, n);
    const acc = new GramAccumulator(n);
    feed(acc, g, p, [p], Float64Array);
    const h = g.slice(1).map((gt, i) => gt.map((v, c) => v - g[i][c]));
    const ref = bruteGram(h, p);
    const d = incrementGram(acc.gram);
    expect([d.rows, d.cols]).toEqual([n - 1, n - 1]);
    for (let i = 0; i < ref.length; i++) expect(Math.abs(d.data[i] - ref[i])).toBeLessThan(1e-12);
  });

  test("rejects a non-square matrix", () => {
    expect(() => incrementGram(mat(2, 3))).toThrow(/square/);
  });
});
