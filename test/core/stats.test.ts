/** @file Small-sample statistics against references: Student-t quantiles against printed tables and the closed forms
 * for 1 and 2 degrees of freedom, the t-interval's coverage by simulation, Spearman's ρ against the textbook formula
 * 1 − 6Σd²/(n(n² − 1)) (no ties) and its invariance under monotone maps, and the bootstrap interval's determinism. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRng } from "../../src/core/rng.ts";
import {
  bootstrapInterval,
  logGamma,
  meanInterval,
  pearson,
  ranks,
  spearman,
  studentTQuantile,
} from "../../src/core/stats.ts";

describe("Student t", () => {
  it("log Γ matches factorials and Γ(1/2) = √π", () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(10.5)).toBeCloseTo(13.940625219403763, 10);
  });

  it("0.975 quantiles match the table; df 1 and 2 match their closed forms", () => {
    const table: [number, number][] = [
      [3, 3.182446305284263],
      [5, 2.570581835636314],
      [10, 2.228138851986274],
      [30, 2.042272456301238],
      [120, 1.979930405052777],
    ];
    for (const [df, q] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(q, 8);
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 7);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 8);
      expect(studentTQuantile(1 - p, 7)).toBeCloseTo(-studentTQuantile(p, 7), 10);
    }
  });

  it("the 95% t-interval of 3 normal draws covers the mean in 95% ± 1.5% of 4000 trials", () => {
    const rng = createRng(4);
    let covered = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const mi = meanInterval([rng.normal() + 2, rng.normal() + 2, rng.normal() + 2]);
      if (mi.lo <= 2 && 2 <= mi.hi) covered++;
    }
    // Binomial sd of the coverage: √(0.95·0.05/4000) ≈ 0.0034.
    expect(Math.abs(covered / trials - 0.95)).toBeLessThan(0.015);
  });

  it("one value has no interval; non-finite values are left out", () => {
    const one = meanInterval([3]);
    expect([one.n, one.mean, one.sd]).toEqual([1, 3, 0]);
    expect(one.lo).toBeNaN();
    expect(meanInterval([1, Number.NaN, 3]).n).toBe(2);
    expect(() => meanInterval([1, 2], 1)).toThrow(/level/);
  });
});

describe("rank correlation", () => {
  it("Spearman equals 1 − 6Σd²/(n(n² − 1)) without ties (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 3, max: 40 }), (seed, n) => {
        const rng = createRng(seed);
        const x = Array.from({ length: n }, () => rng.normal());
        const y = Array.from({ length: n }, () => rng.normal());
        const rx = ranks(x);
        const ry = ranks(y);
        let d2 = 0;
        for (let i = 0; i < n; i++) d2 += (rx[i] - ry[i]) ** 2;
        return Math.abs(spearman(x, y) - (1 - (6 * d2) / (n * (n * n - 1)))) < 1e-12;
      }),
      { numRuns: 100 },
    );
  });

  it("ties get average ranks; monotone maps leave ρ unchanged; a constant side gives NaN", () => {
    expect(Array.from(ranks([3, 1, 3, 2]))).toEqual([3.5, 1, 3.5, 2]);
    const x = [0.3, -1, 2, 5, 0.1];
    const y = [1, 0.5, -2, 4, 3];
    expect(
      spearman(
        x.map(Math.exp),
        y.map((v) => v ** 3),
      ),
    ).toBeCloseTo(spearman(x, y), 14);
    expect(
      spearman(
        x,
        x.map((v) => -v),
      ),
    ).toBeCloseTo(-1, 14);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it("the bootstrap interval is deterministic per seed and contains a strong correlation's estimate", () => {
    const rng = createRng(8);
    const x = Array.from({ length: 30 }, () => rng.normal());
    const y = x.map((v) => v + 0.3 * rng.normal());
    const stat = (idx: Int32Array) =>
      spearman(
        Array.from(idx, (i) => x[i]),
        Array.from(idx, (i) => y[i]),
      );
    const a = bootstrapInterval(30, stat, { resamples: 300, seed: 2 });
    expect(bootstrapInterval(30, stat, { resamples: 300, seed: 2 })).toEqual(a);
    expect(a[0]).toBeLessThan(spearman(x, y));
    expect(a[1]).toBeGreaterThan(spearman(x, y));
    expect(a[0]).toBeGreaterThan(0.6);
  });
});
