import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { symmetricEigen } from "../../src/core/linalg/index.ts";
import { mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";
import {
  chebyshevErrorBound,
  createSketch,
  fwht,
  jlErrorBound,
  parseSketchSpec,
  ratioRelativeBound,
  SHARED_CACHE_BYTES,
  SKETCH_KINDS,
  SketchedTrace,
  type SketchKind,
  SrhtSketch,
  sharedCacheFreeBytes,
  sketchGram,
  sparsityFor,
  sumOfSquaresBound,
} from "../../src/core/sketch/index.ts";

function randomVector(seed: number, n: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => rng.normal());
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Explicit k×dim matrix of a sketch, column j = S·e_j (the brute-force reference). */
/** Mean and mean square of ‖Sx‖²/‖x‖² over the sketches sketchOf(0 … seeds − 1). */
function normRatioMoments(
  x: Float64Array,
  seeds: number,
  sketchOf: (seed: number) => { apply(x: Float64Array): Float64Array },
): { mean: number; meanSq: number } {
  const norm2 = dot(x, x);
  let mean = 0;
  let meanSq = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const y = sketchOf(seed).apply(x);
    const r = dot(y, y) / norm2;
    mean += r / seeds;
    meanSq += (r * r) / seeds;
  }
  return { mean, meanSq };
}

function explicitMatrix(kind: SketchKind, k: number, dim: number, seed: number): Float64Array[] {
  const sketch = createSketch({ kind, k, dim, seed });
  const cols: Float64Array[] = [];
  const e = new Float64Array(1);
  e[0] = 1;
  for (let j = 0; j < dim; j++) {
    const out = new Float64Array(k);
    sketch.accumulate(e, j, out);
    cols.push(out);
  }
  return cols;
}

/** Sylvester Hadamard matrix built by the recursion H_{2n} = [[H, H], [H, −H]] (independent of fwht's loops). */
function sylvester(n: number): number[][] {
  let h = [[1]];
  while (h.length < n) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((v) => -v)])];
  return h;
}

describe("parseSketchSpec", () => {
  it.each([
    ["jl:512", "jl", 512],
    ["countsketch:1024", "countsketch", 1024],
    ["srht:256", "srht", 256],
    ["sparsejl:512", "sparsejl", 512],
    [" SRHT : 64 ", "srht", 64],
  ])("parses %s", (spec, kind, k) => {
    expect(parseSketchSpec(spec)).toEqual({ kind, k });
  });
  it.each(["jl", "jl:", "jl:0", "jl:-5", "jl:2.5", "gauss:512", "512", "jl:512:3", ""])(
    "rejects %j with E_ARG",
    (spec) => {
      expect(() => parseSketchSpec(spec)).toThrowError(GradtraceError);
      try {
        parseSketchSpec(spec);
      } catch (e) {
        expect((e as GradtraceError).code).toBe("E_ARG");
      }
    },
  );
});

describe("createSketch arguments", () => {
  it("rejects bad k, dim, kind and slices outside dim", () => {
    expect(() => createSketch({ kind: "jl", k: 0, dim: 10 })).toThrowError(/k must be/);
    expect(() => createSketch({ kind: "srht", k: 8, dim: 0 })).toThrowError(/dim must be/);
    expect(() => createSketch({ kind: "nope" as SketchKind, k: 8, dim: 10 })).toThrowError(/unknown kind/);
    expect(() => createSketch({ kind: "sparsejl", k: 10, dim: 10, s: 3 })).toThrowError(/must divide/);
    const s = createSketch({ kind: "countsketch", k: 8, dim: 10 });
    expect(() => s.accumulate(new Float64Array(4), 8, new Float64Array(8))).toThrowError(/outside/);
    expect(() => s.accumulate(new Float64Array(4), 0, new Float64Array(7))).toThrowError(/expected k = 8/);
    expect(() => s.apply(new Float64Array(9))).toThrowError(/expected dim = 10/);
  });
  it("picks sparse JL's s as the largest divisor of k not above 8", () => {
    expect(sparsityFor(512)).toBe(8);
    expect(sparsityFor(100)).toBe(5);
    expect(sparsityFor(7)).toBe(7);
    expect(sparsityFor(11)).toBe(1);
  });
});

describe.each(SKETCH_KINDS)("%s sketch", (kind) => {
  const k = 64;
  it("is linear over slicing: the sum of slice sketches at their offsets equals S·x for any cut points", () => {
    // dim spans several JL column blocks (1024) and several SRHT blocks (4096) so cuts cross block edges.
    const dim = 9000;
    const sketch = createSketch({ kind, k, dim, seed: 5 });
    const x = randomVector(11, dim);
    const whole = sketch.apply(x);
    const scale = Math.sqrt(dot(whole, whole));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: dim - 1 }), { maxLength: 12 }), (cutsRaw) => {
        const cuts = [0, ...cutsRaw.sort((a, b) => a - b), dim];
        const out = new Float64Array(k);
        // Slices in a shuffled order: arrival order must not matter either.
        const order = cuts.slice(0, -1).map((_, i) => i);
        order.reverse();
        for (const i of order)
          sketch.accumulate(Float32Array.from(x.subarray(cuts[i], cuts[i + 1])), cuts[i], out);
        const exact = sketch.apply(Float32Array.from(x));
        for (let i = 0; i < k; i++) expect(Math.abs(out[i] - exact[i])).toBeLessThan(1e-9 * scale);
      }),
      { numRuns: 25, seed: 3 },
    );
  });

  it("is reproducible from its seed, differs across seeds, and does not depend on its cache", () => {
    const dim = 3000;
    const x = randomVector(2, dim);
    const a = createSketch({ kind, k, dim, seed: 9 }).apply(x);
    const b = createSketch({ kind, k, dim, seed: 9, cacheBytes: 0 }).apply(x);
    const big = createSketch({ kind, k, dim, seed: 9, cacheBytes: 2 ** 30 }).apply(x);
    const c = createSketch({ kind, k, dim, seed: 10 }).apply(x);
    for (let i = 0; i < k; i++) expect(b[i]).toBeCloseTo(a[i], 10);
    for (let i = 0; i < k; i++) expect(big[i]).toBeCloseTo(a[i], 10);
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it("preserves squared norms in expectation: the mean of ‖Sx‖²/‖x‖² over 200 seeds is 1", () => {
    const dim = 600;
    const spread = randomVector(4, dim);
    // A spiky vector (three large coordinates) too: unbiasedness holds for every x, not only spread ones.
    const spiky = new Float64Array(dim);
    spiky[3] = 5;
    spiky[300] = -3;
    spiky[599] = 4;
    for (const x of [spread, spiky]) {
      const { mean, meanSq } = normRatioMoments(x, 200, (seed) => createSketch({ kind, k, dim, seed }));
      // Var ≤ 2/k, so the mean of 200 draws has standard deviation ≤ √(2/64/200) = 0.0125; 4σ tolerance.
      expect(Math.abs(mean - 1)).toBeLessThan(0.05);
      // And the variance matches the proven ≤ 2/k (sampling error of a variance estimate from 200 draws ~ 30%).
      expect(meanSq - mean * mean).toBeLessThan((2 / k) * 1.4);
    }
  });

  it("keeps all squared norms and inner products of 60 vectors within errorBound at δ = 0.01", () => {
    const dim = 4000;
    const kk = 256;
    const n = 60;
    // A mixture: independent Gaussians and correlated vectors sharing a common component (large inner products).
    const common = randomVector(77, dim);
    const xs = Array.from({ length: n }, (_, i) => {
      const v = randomVector(100 + i, dim);
      if (i % 2 === 0) for (let j = 0; j < dim; j++) v[j] += 2 * common[j];
      return v;
    });
    const pairs = (n * (n + 1)) / 2;
    let worst = 0;
    for (let seed = 0; seed < 3; seed++) {
      const sketch = createSketch({ kind, k: kk, dim, seed });
      const ys = xs.map((x) => sketch.apply(x));
      const eps = sketch.errorBound({ delta: 0.01, pairs });
      for (let a = 0; a < n; a++) {
        for (let b = a; b < n; b++) {
          const exact = dot(xs[a], xs[b]);
          const err = Math.abs(dot(ys[a], ys[b]) - exact) / Math.sqrt(dot(xs[a], xs[a]) * dot(xs[b], xs[b]));
          worst = Math.max(worst, err / eps);
        }
      }
      expect(eps).toBeLessThan(sketch.chebyshevBound({ delta: 0.01, pairs }));
    }
    expect(worst).toBeLessThanOrEqual(1);
    // The bound is not vacuous: the worst measured error uses a sizeable part of it.
    expect(worst).toBeGreaterThan(0.2);
  });
});

describe("block cache", () => {
  it("draws cached blocks of S from the process-wide pool and never below zero", () => {
    const before = sharedCacheFreeBytes();
    expect(before).toBeLessThanOrEqual(SHARED_CACHE_BYTES);
    const sketch = createSketch({ kind: "jl", k: 64, dim: 2048, seed: 1 });
    sketch.apply(randomVector(1, 2048));
    expect(before - sharedCacheFreeBytes()).toBe(2 * 1024 * 64 * 4); // two float32 blocks of 1024 columns
    sketch.apply(randomVector(2, 2048)); // hits: nothing more is taken
    expect(before - sharedCacheFreeBytes()).toBe(2 * 1024 * 64 * 4);
    const uncached = createSketch({ kind: "jl", k: 64, dim: 2048, seed: 1, cacheBytes: 0 });
    uncached.apply(randomVector(1, 2048));
    expect(before - sharedCacheFreeBytes()).toBe(2 * 1024 * 64 * 4);
    expect(sharedCacheFreeBytes()).toBeGreaterThanOrEqual(0);
  });
});

describe("hashing sketches with row blocks that are not powers of two", () => {
  it.each([
    ["countsketch", 96],
    ["sparsejl", 96],
    ["countsketch", 100],
  ] as const)("%s k=%i: the on-the-fly hash and the cached table give the same S", (kind, k) => {
    const dim = 5000;
    const x = randomVector(21, dim);
    const hashed = createSketch({ kind, k, dim, seed: 2, cacheBytes: 0 }).apply(x);
    const tabled = createSketch({ kind, k, dim, seed: 2, cacheBytes: 2 ** 30 }).apply(x);
    for (let i = 0; i < k; i++) expect(hashed[i]).toBeCloseTo(tabled[i], 10);
    // Every row is used (the multiply-shift bucket covers [0, m)).
    const cols = explicitMatrix(kind, k, dim, 2);
    const used = new Set(cols.flatMap((c) => Array.from(c.keys()).filter((i) => c[i] !== 0)));
    expect(used.size).toBe(k);
  });
});

describe("explicit structure of S (brute force, column by column)", () => {
  it("jl: entries have mean 0 and variance 1/k", () => {
    const k = 32;
    const cols = explicitMatrix("jl", k, 2000, 1);
    let s = 0;
    let s2 = 0;
    for (const c of cols) {
      for (const v of c) {
        s += v;
        s2 += v * v;
      }
    }
    const n = k * 2000;
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n * k));
    expect(Math.abs((s2 / n) * k - 1)).toBeLessThan(0.02);
  });
  it.each([
    ["countsketch", 1],
    ["sparsejl", 8],
  ] as const)(
    "%s: every column has s nonzeros ±1/√s, one per row block, spread evenly over rows",
    (kind, s) => {
      const k = 64;
      const dim = 6400;
      const cols = explicitMatrix(kind, k, dim, 3);
      const rowCounts = new Float64Array(k);
      let positives = 0;
      for (const c of cols) {
        const nz = Array.from(c.keys()).filter((i) => c[i] !== 0);
        expect(nz.length).toBe(s);
        const blocks = nz.map((i) => Math.floor(i / (k / s)));
        expect(new Set(blocks).size).toBe(s);
        for (const i of nz) {
          expect(Math.abs(c[i])).toBeCloseTo(1 / Math.sqrt(s), 14);
          rowCounts[i]++;
          if (c[i] > 0) positives++;
        }
      }
      // Each row gets Binomial(dim, s/k)-many nonzeros: mean dim·s/k, checked within 5 standard deviations.
      const mean = (dim * s) / k;
      for (const r of rowCounts) expect(Math.abs(r - mean)).toBeLessThan(5 * Math.sqrt(mean));
      expect(Math.abs(positives / (dim * s) - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / (dim * s)));
    },
  );
  it("srht: entries are ±1/√k and the rows of each block are orthogonal with squared norm n/k", () => {
    const k = 16;
    const n = 64;
    const dim = 3 * n - 10; // three blocks, the last one partial
    const sketch = new SrhtSketch({ k, dim, seed: 4, blockSize: n });
    const cols = Array.from({ length: dim }, (_, j) => {
      const out = new Float64Array(k);
      sketch.accumulate(Float64Array.of(1), j, out);
      return out;
    });
    for (const c of cols) for (const v of c) expect(Math.abs(v)).toBeCloseTo(1 / Math.sqrt(k), 14);
    for (let b = 0; b < 2; b++) {
      for (let r = 0; r < k; r++) {
        for (let q = 0; q < k; q++) {
          let s = 0;
          for (let j = b * n; j < (b + 1) * n; j++) s += cols[j][r] * cols[j][q];
          expect(s).toBeCloseTo(r === q ? n / k : 0, 12);
        }
      }
    }
  });
  it("srht: mass on the first coordinate of several blocks is embedded (regression: H's all-ones column 0)", () => {
    // Without per-block output signs every block start maps to the same direction and ‖Sx‖²/‖x‖² of this vector
    // takes only the values (Σ_β ±1)²/8 ∈ {0, 0.5, 2, 4.5, 8}.
    const k = 64;
    const n = 64;
    const dim = 8 * n;
    const x = new Float64Array(dim);
    for (let b = 0; b < 8; b++) x[b * n] = 1;
    const { mean, meanSq } = normRatioMoments(
      x,
      200,
      (seed) => new SrhtSketch({ k, dim, seed, blockSize: n }),
    );
    expect(Math.abs(mean - 1)).toBeLessThan(0.05);
    expect(meanSq - mean * mean).toBeLessThan((2 / k) * 1.4);
  });
  it("srht: the direct path for tiny slices and the transform path give the same S", () => {
    const k = 32;
    const sketch = new SrhtSketch({ k, dim: 4096, seed: 8 });
    const x = randomVector(5, 4096);
    const viaFwht = sketch.apply(x); // whole block: transform path
    const viaDirect = new Float64Array(k);
    for (let j = 0; j < 4096; j += 2) sketch.accumulate(x.subarray(j, j + 2), j, viaDirect); // 2-element slices
    for (let i = 0; i < k; i++) expect(viaDirect[i]).toBeCloseTo(viaFwht[i], 9);
  });
});

describe("error bounds", () => {
  it("match the Laurent–Massart closed form and shrink with k, grow with pairs and with confidence", () => {
    const t = Math.log((4 * 100) / 0.01);
    expect(jlErrorBound(512, { delta: 0.01, pairs: 100 })).toBeCloseTo(
      2 * Math.sqrt(t / 512) + (2 * t) / 512,
      14,
    );
    expect(chebyshevErrorBound(512, { delta: 0.01, pairs: 100 })).toBeCloseTo(Math.sqrt(200 / 5.12), 12);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 10 ** 6 }),
        fc.double({ min: 1e-6, max: 0.5, noNaN: true }),
        (k, pairs, delta) => {
          const e = jlErrorBound(k, { delta, pairs });
          expect(jlErrorBound(2 * k, { delta, pairs })).toBeLessThan(e);
          expect(jlErrorBound(k, { delta, pairs: 2 * pairs })).toBeGreaterThan(e);
          expect(jlErrorBound(k, { delta: delta / 2, pairs })).toBeGreaterThan(e);
          for (const kind of SKETCH_KINDS) {
            expect(createSketch({ kind, k: 8, dim: 16 }).errorBound({ delta, pairs })).toBe(
              jlErrorBound(8, { delta, pairs }),
            );
          }
        },
      ),
      { numRuns: 50, seed: 1 },
    );
  });
  it.each(SKETCH_KINDS)(
    "%s: a sum of squared norms concentrates like k·PR degrees of freedom (sumOfSquaresBound)",
    (kind) => {
      // X = [x_1 … x_20] in R^600 with a decaying spectrum: a shared component plus columns of different scales.
      const dim = 600;
      const t = 20;
      const common = randomVector(3, dim);
      const xs = Array.from({ length: t }, (_, i) => {
        const v = randomVector(200 + i, dim);
        for (let j = 0; j < dim; j++) v[j] = v[j] / (1 + i / 4) + 0.3 * common[j];
        return v;
      });
      const gram = mat(t, t);
      for (let a = 0; a < t; a++) for (let b = 0; b < t; b++) gram.data[a * t + b] = dot(xs[a], xs[b]);
      let trace = 0;
      for (let a = 0; a < t; a++) trace += gram.data[a * t + a];
      const frob2 = gram.data.reduce((s, v) => s + v * v, 0);
      const participationRatio = (trace * trace) / frob2;
      const stableRank = trace / symmetricEigen(gram, { vectors: false }).values[0];
      const k = 64;
      const seeds = 100;
      const errs: number[] = [];
      for (let seed = 0; seed < seeds; seed++) {
        const sketch = createSketch({ kind, k, dim, seed: 1000 + seed });
        errs.push(
          xs.reduce((s, x) => {
            const y = sketch.apply(x);
            return s + dot(y, y);
          }, 0) /
            trace -
            1,
        );
      }
      // Standard deviation ≈ √(2/(k·PR)) (Gaussian; ≤ for the others), not the √(2/k) of a single norm.
      const sd = Math.sqrt(errs.reduce((s, e) => s + e * e, 0) / seeds);
      expect(sd).toBeLessThan(1.3 * Math.sqrt(2 / (k * participationRatio)));
      expect(sd).toBeGreaterThan(0.6 * Math.sqrt(2 / (k * participationRatio)));
      expect(participationRatio).toBeGreaterThan(2); // the test would not tell the two scalings apart otherwise
      const eps = sumOfSquaresBound(k, { delta: 0.01, participationRatio, stableRank });
      expect(errs.filter((e) => Math.abs(e) > eps).length).toBeLessThanOrEqual(3);
    },
  );
  it("propagate to ratios: (1+ε)/(1−ε) − 1 = 2ε/(1−ε), infinite once ε ≥ 1", () => {
    expect(ratioRelativeBound(0.1)).toBeCloseTo(1.1 / 0.9 - 1, 14);
    expect(ratioRelativeBound(1)).toBe(Number.POSITIVE_INFINITY);
  });
  it("reject a delta outside (0, 1) or fewer than one pair", () => {
    expect(() => jlErrorBound(64, { delta: 0, pairs: 1 })).toThrowError(/delta/);
    expect(() => jlErrorBound(64, { delta: 0.1, pairs: 0 })).toThrowError(/pairs/);
  });
});

describe("fwht", () => {
  it.each([1, 2, 4, 8, 16, 32, 64])(
    "equals the explicit Sylvester Hadamard matrix times x for n = %i",
    (n) => {
      const h = sylvester(n);
      const x = randomVector(n, n);
      const y = Float64Array.from(x);
      fwht(y);
      for (let i = 0; i < n; i++) expect(y[i]).toBeCloseTo(dot(h[i], x), 10);
    },
  );
  it("rejects lengths that are not powers of two", () => {
    expect(() => fwht(new Float64Array(12))).toThrowError(/power of two/);
  });
});

describe("SketchedTrace", () => {
  it("holds the sketches of streamed steps and returns their Gram (brute-force inner products)", () => {
    const dim = 2500;
    const sketch = createSketch({ kind: "srht", k: 32, dim, seed: 1 });
    const trace = new SketchedTrace({ sketch });
    const gs = Array.from({ length: 5 }, (_, t) => randomVector(40 + t, dim));
    for (const [t, g] of gs.entries()) {
      if (t % 2 === 0) trace.add(g);
      else {
        // Slice by slice, as tensors arrive.
        const out = trace.openStep();
        sketch.accumulate(g.subarray(0, 700), 0, out);
        sketch.accumulate(g.subarray(700), 700, out);
      }
    }
    const ys = gs.map((g) => sketch.apply(g));
    const gram = trace.gram();
    expect(trace.length).toBe(5);
    for (let a = 0; a < 5; a++)
      for (let b = 0; b < 5; b++) expect(gram.data[a * 5 + b]).toBeCloseTo(dot(ys[a], ys[b]), 9);
    const copy = new SketchedTrace({ k: 32 });
    for (const y of ys) copy.addSketched(y);
    expect(Array.from(copy.gram().data)).toEqual(Array.from(sketchGram(ys).data));
    expect(() => copy.add(gs[0])).toThrowError(/no sketch/);
    expect(() => copy.addSketched(new Float64Array(3))).toThrowError(/expected k = 32/);
    expect(() => copy.get(7)).toThrowError(/not in/);
  });
});
