import { describe, expect, it } from "vitest";
import { blockBootstrapRatioCI, defaultBlockLength } from "../../src/core/bootstrap.ts";
import { createRng } from "../../src/core/rng.ts";

function iidSeries(n: number, seed: number): { num: Float64Array; den: Float64Array } {
  // num = a², den = a² + b² with a, b ~ N(0, 1): E num / E den = 1/2.
  const rng = createRng(seed);
  const num = new Float64Array(n);
  const den = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    const b = rng.normal();
    num[i] = a * a;
    den[i] = a * a + b * b;
  }
  return { num, den };
}

function ar1Series(n: number, rho: number, seed: number): { num: Float64Array; den: Float64Array } {
  const rng = createRng(seed);
  const num = new Float64Array(n);
  let x = rng.normal();
  for (let i = 0; i < n; i++) {
    x = rho * x + Math.sqrt(1 - rho * rho) * rng.normal();
    num[i] = 2 + x;
  }
  return { num, den: new Float64Array(n).fill(1) };
}

describe("blockBootstrapRatioCI", () => {
  it("default block length is ceil(n^(1/3))", () => {
    expect(defaultBlockLength(1)).toBe(1);
    expect(defaultBlockLength(8)).toBe(2);
    expect(defaultBlockLength(9)).toBe(3);
    expect(defaultBlockLength(1000)).toBe(10);
  });

  it("a constant ratio gives a zero-width interval at that ratio", () => {
    expect(blockBootstrapRatioCI(Float64Array.of(1, 2, 3, 4), Float64Array.of(2, 4, 6, 8))).toEqual([
      0.5, 0.5,
    ]);
  });

  it("is reproducible from its seed", () => {
    const { num, den } = iidSeries(100, 3);
    const a = blockBootstrapRatioCI(num, den, { seed: 5, resamples: 200 });
    expect(blockBootstrapRatioCI(num, den, { seed: 5, resamples: 200 })).toEqual(a);
    expect(blockBootstrapRatioCI(num, den, { seed: 6, resamples: 200 })).not.toEqual(a);
  });

  it("covers the true ratio for i.i.d. data in ≥ 90% of seeded repetitions", () => {
    let covered = 0;
    const reps = 200;
    for (let r = 0; r < reps; r++) {
      const { num, den } = iidSeries(200, 1000 + r);
      const [lo, hi] = blockBootstrapRatioCI(num, den, { seed: r, resamples: 400 });
      if (lo <= 0.5 && 0.5 <= hi) covered++;
    }
    expect(covered / reps).toBeGreaterThanOrEqual(0.9);
  });

  it("is wider than the i.i.d. bootstrap on autocorrelated data, and not on i.i.d. data", () => {
    const width = ([lo, hi]: [number, number]) => hi - lo;
    let blockAr = 0;
    let iidAr = 0;
    let blockIid = 0;
    let iidIid = 0;
    for (let r = 0; r < 20; r++) {
      const ar = ar1Series(500, 0.9, 50 + r);
      blockAr += width(blockBootstrapRatioCI(ar.num, ar.den, { seed: r, resamples: 400 }));
      iidAr += width(blockBootstrapRatioCI(ar.num, ar.den, { seed: r, resamples: 400, blockLength: 1 }));
      const iid = iidSeries(500, 80 + r);
      blockIid += width(blockBootstrapRatioCI(iid.num, iid.den, { seed: r, resamples: 400 }));
      iidIid += width(blockBootstrapRatioCI(iid.num, iid.den, { seed: r, resamples: 400, blockLength: 1 }));
    }
    expect(blockAr / iidAr).toBeGreaterThan(1.8);
    expect(blockIid / iidIid).toBeGreaterThan(0.85);
    expect(blockIid / iidIid).toBeLessThan(1.15);
  });

  it("handles degenerate input without crashing", () => {
    expect(blockBootstrapRatioCI(new Float64Array(0), new Float64Array(0))).toEqual([Number.NaN, Number.NaN]);
    expect(blockBootstrapRatioCI(new Float64Array(5), new Float64Array(5))).toEqual([Number.NaN, Number.NaN]);
    expect(() => blockBootstrapRatioCI(new Float64Array(2), new Float64Array(3))).toThrow(/den has 3/);
    expect(() => blockBootstrapRatioCI(new Float64Array(2), new Float64Array(2), { level: 1 })).toThrow(
      /level/,
    );
  });
});
