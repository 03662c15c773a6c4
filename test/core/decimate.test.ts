/** @file Display decimation (src/core/decimate.ts) against brute force, as fast-check properties: several series
 * decimated on one x keep each series' minimum and maximum of every bucket at shared, ascending indices; bucket means
 * are the mean of each bucket's finite values; the buckets tile the index range. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bucketMeans,
  bucketStart,
  decimateMinMax,
  decimateMinMaxMany,
  decimationBuckets,
} from "../../src/core/decimate.ts";

const value = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) },
);

describe("decimateMinMaxMany", () => {
  it("keeps every series' bucket extremes and both ends on shared ascending indices, within the budget", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 4, max: 60 }),
        fc.array(value, { minLength: 1200, maxLength: 1200 }),
        (k, n, maxPoints, pool) => {
          const ys = Array.from({ length: k }, (_, j) => pool.slice(j * 400, j * 400 + n));
          const { index } = decimateMinMaxMany(ys, maxPoints, n);
          expect(index).toEqual([...new Set(index)].sort((a, b) => a - b));
          if (n <= maxPoints) {
            expect(index).toEqual(Array.from({ length: n }, (_, i) => i));
            return;
          }
          const buckets = decimationBuckets(maxPoints);
          expect(index.length).toBeLessThanOrEqual(k * maxPoints);
          // The ends are kept: a chart of it spans the whole x range.
          expect([index[0], index[index.length - 1]]).toEqual([0, n - 1]);
          for (let b = 0; b < buckets; b++) {
            const from = bucketStart(b, n, buckets);
            const to = bucketStart(b + 1, n, buckets);
            const kept = index.filter((i) => i >= from && i < to);
            expect(kept.length).toBeGreaterThan(0);
            for (const y of ys) {
              const finite = y.slice(from, to).filter(Number.isFinite);
              if (finite.length === 0) continue;
              const values = kept.map((i) => y[i]);
              expect(values).toContain(Math.min(...finite));
              expect(values).toContain(Math.max(...finite));
            }
          }
        },
      ),
    );
  });

  it("decimateMinMax is the one-series case", () => {
    const y = Array.from({ length: 1000 }, (_, i) => (i === 611 ? 9 : Math.sin(i / 7)));
    const d = decimateMinMax(y, 100);
    expect(d.index).toEqual(decimateMinMaxMany([y], 100).index);
    expect(d.value).toEqual(d.index.map((i) => y[i]));
    expect(d.value).toContain(9);
  });
});

describe("bucketMeans", () => {
  it("is the mean of each bucket's finite values per row (NaN when none), and the identity when it fits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(value, { minLength: 360, maxLength: 360 }),
        (rows, n, buckets, pool) => {
          const values = pool.slice(0, rows * n);
          const out = bucketMeans(values, rows, n, buckets);
          if (buckets >= n) {
            expect(Array.from(out)).toEqual(values);
            return;
          }
          expect(out.length).toBe(rows * buckets);
          for (let r = 0; r < rows; r++) {
            let covered = 0;
            for (let b = 0; b < buckets; b++) {
              const from = bucketStart(b, n, buckets);
              const to = bucketStart(b + 1, n, buckets);
              covered += to - from;
              expect(to).toBeGreaterThan(from);
              const f = values.slice(r * n + from, r * n + to).filter(Number.isFinite);
              const got = out[r * buckets + b];
              if (f.length === 0) expect(got).toBeNaN();
              else {
                const want = f.reduce((a, c) => a + c, 0) / f.length;
                expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
              }
            }
            expect(covered).toBe(n);
          }
        },
      ),
    );
  });
});
