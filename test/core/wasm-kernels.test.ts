/** @file The WebAssembly SIMD kernels (wasm/assembly, loaded by src/core/wasm) against their plain-JavaScript
 * references, on random and adversarial inputs: lengths that are not multiples of the vector width or of the panel
 * width, row counts that are not multiples of the register tile, subnormals, NaN, ±Inf, offsets.
 *
 * What must agree, and how closely:
 * - Gram update: float64 sums of exact products in another order, so for every entry
 *   |K_wasm − K_js| ≤ 2·p·2⁻⁵³·Σ_c |b_s,c·b_t,c| (+ p·2⁻¹⁰⁷⁴ for products that underflow); rows holding NaN/±Inf
 *   are flagged (exactly those rows) and every other entry still meets the bound.
 * - Walsh–Hadamard transform, hashing sketches, SRHT: the same additions in the same order, so bit for bit.
 * - float16 / bfloat16 → float32: exact, all 65 536 bit patterns (NaN as NaN). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GramAccumulator, syrkLowerAccumulate } from "../../src/core/gram.ts";
import { createRng } from "../../src/core/rng.ts";
import { HashingSketch } from "../../src/core/sketch/hashing.ts";
import { fwht, SrhtSketch } from "../../src/core/sketch/srht.ts";
import { halfToFloatWasm } from "../../src/core/wasm/convert.ts";
import { f64View, resolveKernels, WasmMemory, wasm } from "../../src/core/wasm/module.ts";
import { bf16ToFloat, f16ToFloat } from "../../src/trace/dtype.ts";

const U64 = 2 ** -53;

type Fill = "normal" | "subnormal32" | "subnormal64" | "mixed-scale";

function makeBlock(
  n: number,
  p: number,
  seed: number,
  fill: Fill,
  f32: boolean,
): Float32Array | Float64Array {
  const rng = createRng(seed);
  const x = f32 ? new Float32Array(n * p) : new Float64Array(n * p);
  for (let i = 0; i < x.length; i++) {
    const z = rng.normal();
    if (fill === "normal") x[i] = z;
    else if (fill === "subnormal32")
      x[i] = z * 2 ** -140; // float32 subnormals
    else if (fill === "subnormal64")
      x[i] = f32 ? z * 2 ** -140 : z * 2 ** -1060; // float64 subnormals
    else x[i] = z * 2 ** Math.round(40 * (rng.uniform() - 0.5)); // scales 2^-20 … 2^20 side by side
  }
  return x;
}

/** Rows × p block as `width`-column slices fed to the accumulator; returns K (n × n). */
function gramOf(
  acc: GramAccumulator,
  x: Float32Array | Float64Array,
  n: number,
  p: number,
  widths: number[],
): Float64Array {
  let c0 = 0;
  for (let b = 0; c0 < p; b++) {
    const w = Math.min(widths[b % widths.length], p - c0);
    const block = x instanceof Float32Array ? new Float32Array(n * w) : new Float64Array(n * w);
    for (let t = 0; t < n; t++) block.set(x.subarray(t * p + c0, t * p + c0 + w), t * w);
    acc.addBlock(block, w);
    c0 += w;
  }
  return acc.gram.data;
}

function expectWithinGramBound(
  got: Float64Array,
  want: Float64Array,
  x: ArrayLike<number>,
  n: number,
  p: number,
  skip: ReadonlySet<number>,
): void {
  for (let s = 0; s < n; s++) {
    if (skip.has(s)) continue;
    for (let t = 0; t < n; t++) {
      if (skip.has(t)) continue;
      let abs = 0;
      for (let c = 0; c < p; c++) abs += Math.abs(x[s * p + c] * x[t * p + c]);
      const bound = 2 * p * U64 * abs + p * 2 ** -1074;
      const diff = Math.abs(got[s * n + t] - want[s * n + t]);
      if (!(diff <= bound))
        throw new Error(`K[${s}][${t}]: wasm ${got[s * n + t]} js ${want[s * n + t]} (bound ${bound})`);
    }
  }
}

describe("wasm Gram kernel vs the js reference", () => {
  it("loads (WebAssembly SIMD is available on Node 20)", () => {
    expect(resolveKernels("wasm")).toBe("wasm");
    expect(new GramAccumulator(3).kernel).toBe(process.env.GRADTRACE_KERNELS === "js" ? "js" : "wasm");
  });

  const shapes: [number, number, number[]][] = [
    [1, 1, [1]],
    [2, 3, [3]],
    [3, 7, [2, 5]],
    [4, 256, [256]],
    [5, 257, [257]],
    [7, 515, [513, 1]],
    [13, 1030, [300, 730]],
    [33, 600, [599]],
  ];
  const fills: Fill[] = ["normal", "subnormal32", "subnormal64", "mixed-scale"];
  it.each(shapes)(
    "n = %i, p = %i, widths %j: every fill, float32 and float64, within the float64 bound",
    (n, p, widths) => {
      for (const fill of fills) {
        for (const f32 of [true, false]) {
          const x = makeBlock(n, p, n * 1000 + p, fill, f32);
          const got = gramOf(new GramAccumulator(n, { kernel: "wasm" }), x, n, p, widths);
          const want = gramOf(new GramAccumulator(n, { kernel: "js" }), x, n, p, widths);
          expectWithinGramBound(got, want, x, n, p, new Set());
        }
      }
    },
  );

  it("flags exactly the rows holding NaN or ±Inf, at any column, and the other entries stay exact", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(Number.NaN, Infinity, -Infinity)), {
          maxLength: 4,
        }),
        fc.boolean(),
        (n, p, poison, f32) => {
          const x = makeBlock(n, p, n + p, "normal", f32);
          const bad = new Set<number>();
          for (const [r, c, v] of poison) {
            x[(r % n) * p + (c % p)] = v;
            bad.add(r % n);
          }
          const acc = new GramAccumulator(n, { kernel: "wasm" });
          const got = gramOf(acc, x, n, p, [300]);
          expect(acc.nonFiniteRows()).toEqual([...bad].sort((a, b) => a - b));
          const clean = Float64Array.from(x, (v) => (Number.isFinite(v) ? v : 0));
          const want = gramOf(new GramAccumulator(n, { kernel: "js" }), clean, n, p, [300]);
          expectWithinGramBound(got, want, clean, n, p, bad);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("stage + addStaged equals addBlock, and both equal syrkLowerAccumulate within the bound", () => {
    const n = 9;
    const p = 777;
    const x = makeBlock(n, p, 5, "normal", true) as Float32Array;
    const staged = new GramAccumulator(n, { kernel: "wasm" });
    const copied = new GramAccumulator(n, { kernel: "wasm" });
    const view = staged.stage(p, "f32")!;
    view.set(x);
    staged.addStaged(p, "f32");
    copied.addBlock(x, p);
    expect(Array.from(staged.gram.data)).toEqual(Array.from(copied.gram.data));
    expect(staged.coordinates).toBe(p);
    const ref = new Float64Array(n * n);
    syrkLowerAccumulate(ref, x, n, p);
    const full = staged.gram.data;
    for (let s = 0; s < n; s++)
      for (let t = 0; t <= s; t++) expect(Math.abs(full[s * n + t] - ref[s * n + t])).toBeLessThan(1e-10);
    expect(new GramAccumulator(n, { kernel: "js" }).stage(4, "f32")).toBeNull();
    staged.dispose();
    expect(() => staged.gram).toThrowError(/dispose/);
  });
});

describe("wasm Walsh–Hadamard transform and sketches vs js: bit for bit", () => {
  it("fwht for n = 1 … 2^13, random and special values", () => {
    const mem = new WasmMemory({});
    const rng = createRng(9);
    for (let b = 0; b <= 13; b++) {
      const n = 2 ** b;
      for (const special of [false, true]) {
        const a = Float64Array.from({ length: n }, (_, i) =>
          special && i % 5 === 0
            ? [Number.NaN, Infinity, -Infinity, 5e-324, -0][i % 4]
            : rng.normal() * 2 ** (i % 7),
        );
        const ptr = mem.alloc(8 * n);
        f64View(ptr, n).set(a);
        wasm().fwht(ptr, n);
        const got = f64View(ptr, n).slice();
        fwht(a);
        expect(Array.from(got)).toEqual(Array.from(a));
      }
    }
    mem.release();
  });

  it("hashing sketch: accumulateFilled (caller writes x into the kernel's buffer) equals accumulate", () => {
    const dim = 3 * 65536 + 77;
    for (const s of [1, 4]) {
      const sketch = new HashingSketch({ k: 256, dim, s, seed: 2, kernel: "wasm" });
      const x = makeBlock(1, dim - 5, s, "normal", true) as Float32Array;
      const a = new Float64Array(256);
      const b = new Float64Array(256);
      sketch.accumulate(x, 5, a);
      expect(
        sketch.accumulateFilled(5, x.length, b, (view, from) =>
          view.set(x.subarray(from, from + view.length)),
        ),
      ).toBe(true);
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(new HashingSketch({ k: 256, dim, kernel: "js" }).accumulateFilled(0, 1, b, () => {})).toBe(
        false,
      );
    }
  });

  it("srht sketches of slices at any offset are identical with either kernel", () => {
    const dim = 3 * 4096 + 555;
    for (const k of [64, 512]) {
      const js = new SrhtSketch({ k, dim, seed: 21, kernel: "js" });
      const simd = new SrhtSketch({ k, dim, seed: 21, kernel: "wasm" });
      expect(simd.kernel).toBe("wasm");
      for (const f32 of [true, false]) {
        const x = makeBlock(1, dim, k, "mixed-scale", f32);
        const cuts = [0, 1, 4000, 4096, 9000, dim];
        const outs = [js, simd].map((sk) => {
          const out = new Float64Array(k);
          for (let i = 0; i + 1 < cuts.length; i++)
            sk.accumulate(x.subarray(cuts[i], cuts[i + 1]), cuts[i], out);
          return Array.from(out);
        });
        expect(outs[1]).toEqual(outs[0]);
      }
    }
  });
});

describe("wasm float16 / bfloat16 → float32", () => {
  it("every bit pattern converts exactly (NaN as NaN), at unaligned lengths", () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    for (const [kind, ref] of [
      ["f16", f16ToFloat],
      ["bf16", bf16ToFloat],
    ] as const) {
      for (const len of [65536, 7, 1]) {
        const bits = all.subarray(65536 - len);
        const out = new Float32Array(len + 3);
        expect(halfToFloatWasm(bits, kind, out, 3)).toBe(resolveKernels() === "wasm");
        if (resolveKernels() !== "wasm") continue;
        const wrong: string[] = [];
        for (let i = 0; i < len; i++) {
          const want = Math.fround(ref(bits[i]));
          const same = Number.isNaN(want) ? Number.isNaN(out[3 + i]) : Object.is(out[3 + i], want);
          if (!same) wrong.push(`${kind} 0x${bits[i].toString(16)}: ${out[3 + i]} vs ${want}`);
        }
        expect(wrong.slice(0, 5)).toEqual([]);
      }
    }
  });
});
