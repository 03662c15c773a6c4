import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { symmetricEigen } from "../../src/core/linalg/index.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";
import { FrequentDirections } from "../../src/core/sketch/index.ts";

/** n×dim rows: rank-r signal with decaying strengths plus isotropic noise of size `noise`. */
function lowRankPlusNoise(seed: number, n: number, dim: number, r: number, noise: number): Float64Array[] {
  const rng = createRng(seed);
  const basis = Array.from({ length: r }, () => Float64Array.from({ length: dim }, () => rng.normal()));
  return Array.from({ length: n }, () => {
    const row = Float64Array.from({ length: dim }, () => noise * rng.normal());
    for (let i = 0; i < r; i++) {
      const c = (3 / (i + 1)) * rng.normal();
      for (let j = 0; j < dim; j++) row[j] += c * basis[i][j];
    }
    return row;
  });
}

/** dim×dim matrix XᵀX of rows, brute force. */
function covariance(rows: ArrayLike<number>[], dim: number): Mat {
  const c = mat(dim, dim);
  for (const row of rows)
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) c.data[a * dim + b] += row[a] * row[b];
  return c;
}

function sketchRows(b: Mat): Float64Array[] {
  return Array.from({ length: b.rows }, (_, i) => b.data.subarray(i * b.cols, (i + 1) * b.cols));
}

/** Eigenvalues (descending) of AᵀA − BᵀB, plus the exact σ_i² of A. */
function analyze(rows: Float64Array[], fd: FrequentDirections) {
  const dim = fd.dim;
  const ata = covariance(rows, dim);
  const btb = covariance(sketchRows(fd.sketch), dim);
  const diff = mat(
    dim,
    dim,
    ata.data.map((v, i) => v - btb.data[i]),
  );
  const diffValues = symmetricEigen(diff, { vectors: false }).values;
  const sigma2 = symmetricEigen(ata, { vectors: false }).values;
  const tail = (k: number) => sigma2.slice(k).reduce((a, v) => a + Math.max(v, 0), 0);
  return { diffValues, sigma2, tail, scale: sigma2[0] };
}

describe("FrequentDirections", () => {
  it("meets ‖AᵀA − BᵀB‖₂ ≤ Δ ≤ ‖A − A_k‖_F²/(ℓ − k) for every k < ℓ, with BᵀB ≼ AᵀA", () => {
    const dim = 40;
    const ell = 10;
    const rows = lowRankPlusNoise(1, 300, dim, 4, 0.3);
    const fd = new FrequentDirections({ ell, dim });
    for (const row of rows) fd.update(row);
    expect(fd.rows).toBe(300);
    const { diffValues, tail, scale } = analyze(rows, fd);
    const spectral = Math.max(Math.abs(diffValues[0]), Math.abs(diffValues[dim - 1]));
    expect(diffValues[dim - 1]).toBeGreaterThan(-1e-9 * scale); // BᵀB ≼ AᵀA
    expect(spectral).toBeLessThanOrEqual(fd.shrinkage * (1 + 1e-9) + 1e-9 * scale);
    for (let k = 0; k < ell; k++)
      expect(fd.shrinkage).toBeLessThanOrEqual(fd.covarianceErrorBound(k, tail(k)) * (1 + 1e-9));
    // The sketch is useful: the error is well below the energy outside the top direction.
    expect(spectral).toBeLessThan(0.5 * tail(1));
  });

  it("holds the guarantee on random shapes (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 2, max: 8 }),
        fc.integer({ min: 3, max: 20 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, ell, dim, n, r, bufferFactor) => {
          const rows = lowRankPlusNoise(seed, n, dim, r, 0.2);
          const fd = new FrequentDirections({ ell, dim, buffer: bufferFactor * ell });
          for (const row of rows) fd.update(row);
          const { diffValues, tail, scale } = analyze(rows, fd);
          const tol = 1e-9 * Math.max(scale, 1e-300);
          const spectral = Math.max(Math.abs(diffValues[0]), Math.abs(diffValues[dim - 1]));
          expect(diffValues[dim - 1]).toBeGreaterThan(-tol);
          expect(spectral).toBeLessThanOrEqual(fd.shrinkage + tol);
          for (let k = 0; k < ell; k++)
            expect(fd.shrinkage).toBeLessThanOrEqual(fd.covarianceErrorBound(k, tail(k)) + tol);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it("with a larger buffer and with dot products supplied by the caller: same guarantee, same sketch", () => {
    const dim = 24;
    const ell = 5;
    const rows = lowRankPlusNoise(9, 140, dim, 3, 0.4);
    const own = new FrequentDirections({ ell, dim, buffer: 2 * ell });
    const supplied = new FrequentDirections({ ell, dim, buffer: 2 * ell });
    const asked: number[] = [];
    rows.forEach((row, t) => {
      own.update(row);
      supplied.update(row, (d) => {
        asked.push(d);
        let s = 0;
        for (let j = 0; j < dim; j++) s += row[j] * rows[t - d][j];
        return s;
      });
    });
    // The sketch asks only for rows still buffered: never further back than capacity − 1 = 14 rows.
    expect(Math.max(...asked)).toBeLessThanOrEqual(3 * ell - 1);
    expect(Math.min(...asked)).toBe(1);
    const a = own.sigmaSq;
    const b = supplied.sigmaSq;
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(1e-10 * a[0]);
    expect(Math.abs(own.shrinkage - supplied.shrinkage)).toBeLessThanOrEqual(1e-10 * a[0]);
    for (const fd of [own, supplied]) {
      const { diffValues, tail, scale } = analyze(rows, fd);
      expect(diffValues[dim - 1]).toBeGreaterThan(-1e-9 * scale);
      expect(Math.max(Math.abs(diffValues[0]), Math.abs(diffValues[dim - 1]))).toBeLessThanOrEqual(
        fd.shrinkage * (1 + 1e-9) + 1e-9 * scale,
      );
      for (let k = 0; k < ell; k++)
        expect(fd.shrinkage).toBeLessThanOrEqual(fd.covarianceErrorBound(k, tail(k)) * (1 + 1e-9));
      // μ_i ≤ σ_i² ≤ μ_i + Δ.
      const exact = analyze(rows, fd).sigma2;
      fd.sigmaSq.forEach((mu, i) => {
        expect(mu).toBeLessThanOrEqual(exact[i] * (1 + 1e-9));
        expect(exact[i]).toBeLessThanOrEqual(mu + fd.shrinkage * (1 + 1e-9) + 1e-9 * scale);
      });
    }
  });

  it("is exact when ℓ ≥ rank(A)", () => {
    const dim = 30;
    const rows = lowRankPlusNoise(3, 200, dim, 5, 0);
    const fd = new FrequentDirections({ ell: 6, dim });
    for (const row of rows) fd.update(row);
    const { diffValues, scale } = analyze(rows, fd);
    expect(Math.max(Math.abs(diffValues[0]), Math.abs(diffValues[dim - 1]))).toBeLessThan(1e-9 * scale);
    expect(fd.shrinkage).toBeLessThan(1e-9 * scale);
  });

  it("returns the rows unchanged while fewer than ℓ rows have arrived, and reading does not change later results", () => {
    const dim = 12;
    const rows = lowRankPlusNoise(5, 50, dim, 3, 0.5);
    const a = new FrequentDirections({ ell: 4, dim });
    const b = new FrequentDirections({ ell: 4, dim });
    for (let i = 0; i < 3; i++) a.update(rows[i]);
    const early = a.sketch;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < dim; j++) expect(early.data[i * dim + j]).toBe(rows[i][j]);
    for (let j = 0; j < dim; j++) expect(early.data[3 * dim + j]).toBe(0);
    for (let i = 3; i < 50; i++) {
      a.update(rows[i]);
      if (i % 7 === 0) void a.sketch; // reads in between
    }
    for (const row of rows) b.update(row);
    expect(Array.from(a.sketch.data)).toEqual(Array.from(b.sketch.data));
    expect(a.shrinkage).toBe(b.shrinkage);
  });

  it("rejects bad arguments", () => {
    expect(() => new FrequentDirections({ ell: 0, dim: 3 })).toThrowError(/ell/);
    const fd = new FrequentDirections({ ell: 3, dim: 3 });
    expect(() => fd.update(new Float64Array(2))).toThrowError(/expected dim = 3/);
    expect(() => fd.covarianceErrorBound(3, 1)).toThrowError(/k must be/);
    expect(fd.covarianceErrorBound(1, 4)).toBe(2);
  });
});
