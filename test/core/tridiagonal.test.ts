/** @file Tests of the eigenvalues-first path (src/core/linalg/tridiagonal.ts through symmetricEigen with
 * `vectors: false` or a number m): eigenvalues against the tred2/tql2 path (`vectors: true`) and ml-matrix, the top m
 * eigenvectors by residual, orthogonality and subspace against the full decomposition, on adversarial spectra
 * (clusters, exact repeats, rank deficiency, splits, Wilkinson pairs, 1e±150 and 1e±300 scales), the blocked
 * reduction (n ≥ 192) against the unblocked one, and random shapes (fast-check). */
import fc from "fast-check";
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { describe, expect, it } from "vitest";
import { symmetricEigen } from "../../src/core/linalg/index.ts";
import { tqlImplicit, tqlValues } from "../../src/core/linalg/tridiagonal.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";
import {
  fromSvd,
  maxAbs,
  naiveMatmul,
  naiveTranspose,
  randomMat,
  randomOrthonormal,
} from "./linalgTestUtils.ts";

/** Q·diag(λ)·Qᵀ, exactly symmetrised. */
function withSpectrum(lambda: number[], seed: number): Mat {
  const n = lambda.length;
  const q = randomOrthonormal(n, n, seed);
  const a = fromSvd(q, lambda, q);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a.data[j * n + i] = a.data[i * n + j];
  return a;
}

function gramOf(b: Mat): Mat {
  return naiveMatmul(b, naiveTranspose(b));
}

/** max_j ‖A v_j − λ_j v_j‖∞ and max |VᵀV − I| for the m columns of v (n×m). */
function residualAndOrthogonality(
  a: Mat,
  values: Float64Array,
  v: Mat,
): { residual: number; orthogonality: number } {
  const n = a.rows;
  const m = v.cols;
  let residual = 0;
  let orthogonality = 0;
  for (let j = 0; j < m; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += a.data[i * n + c] * v.data[c * m + j];
      residual = Math.max(residual, Math.abs(s - values[j] * v.data[i * m + j]));
    }
    for (let k = 0; k <= j; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += v.data[i * m + j] * v.data[i * m + k];
      orthogonality = Math.max(orthogonality, Math.abs(s - (j === k ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

/** ‖P_a − P_b‖_max for the projectors onto the spans of the first m columns of a (n×≥m) and b (n×m). */
function projectorDistance(a: Mat, b: Mat, m: number): number {
  const n = a.rows;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      let pa = 0;
      let pb = 0;
      for (let j = 0; j < m; j++) {
        pa += a.data[i * a.cols + j] * a.data[k * a.cols + j];
        pb += b.data[i * b.cols + j] * b.data[k * b.cols + j];
      }
      worst = Math.max(worst, Math.abs(pa - pb));
    }
  }
  return worst;
}

/** Checks values against the tred2/tql2 path and the top-m vectors by residual and orthogonality (and, when the m-th
 * eigenvalue is separated from the next, their span against the full decomposition's). */
function checkAgainstFull(a: Mat, m: number, label: string): void {
  const n = a.rows;
  const full = symmetricEigen(a);
  const values = symmetricEigen(a, { vectors: false }).values;
  const top = symmetricEigen(a, { vectors: m });
  const scale = Math.max(maxAbs(full.values), Number.MIN_VALUE);
  const tol = 1e-13 * Math.max(n, 4);
  for (let i = 0; i < n; i++) {
    expect(Math.abs(values[i] - full.values[i]) / scale, `${label}: value ${i}`).toBeLessThan(tol);
    expect(Math.abs(top.values[i] - full.values[i]) / scale, `${label}: top value ${i}`).toBeLessThan(tol);
  }
  const vectors = top.vectors as Mat;
  expect(vectors.rows).toBe(n);
  expect(vectors.cols).toBe(m);
  const { residual, orthogonality } = residualAndOrthogonality(a, top.values, vectors);
  expect(residual / scale, `${label}: residual`).toBeLessThan(tol);
  expect(orthogonality, `${label}: orthogonality`).toBeLessThan(tol);
  if (m > 0 && m < n && full.values[m - 1] - full.values[m] > 1e-6 * scale) {
    expect(projectorDistance(full.vectors as Mat, vectors, m), `${label}: subspace`).toBeLessThan(1e-8);
  }
}

describe("symmetricEigen: eigenvalues first, vectors only where asked", () => {
  it.each([1, 2, 3, 5, 16, 48, 100])("random Gram of size %i: values match tred2/tql2 and ml-matrix", (n) => {
    const a = gramOf(randomMat(n, n + 3, 100 + n));
    checkAgainstFull(a, Math.min(n, 4), `n=${n}`);
    const evd = new EigenvalueDecomposition(
      new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.data.subarray(i * n, (i + 1) * n)))),
      { assumeSymmetric: true },
    );
    const ref = [...evd.realEigenvalues].sort((x, y) => y - x);
    const values = symmetricEigen(a, { vectors: false }).values;
    const scale = maxAbs(ref);
    for (let i = 0; i < n; i++) expect(Math.abs(values[i] - ref[i]) / scale).toBeLessThan(1e-13 * n);
  });

  it("clustered, repeated, zero and negative eigenvalues", () => {
    const cases: [string, number[]][] = [
      ["exact repeats", [5, 5, 5, 2, 2, 1, 0, 0, 0, 0]],
      ["tight cluster at the top", [1 + 1e-12, 1, 1 - 1e-12, 1 - 2e-12, 0.5, 0.25, 0.1, 0]],
      ["cluster straddling m", [3, 2, 1 + 1e-9, 1, 1 - 1e-9, 0.2, 0.1]],
      ["rank one", [7, 0, 0, 0, 0, 0]],
      ["indefinite", [4, 1, -1e-3, -2, -9]],
      ["geometric decay", Array.from({ length: 30 }, (_, i) => 10 ** -i)],
    ];
    for (const [label, lambda] of cases) {
      for (const m of [1, Math.min(3, lambda.length), lambda.length])
        checkAgainstFull(withSpectrum(lambda, 7), m, label);
    }
  });

  it("rank-deficient Grams, a diagonal (fully split) matrix, the zero matrix and Wilkinson's W21+", () => {
    checkAgainstFull(gramOf(randomMat(40, 3, 1)), 6, "rank 3 of 40");
    checkAgainstFull(gramOf(randomMat(64, 17, 2)), 16, "rank 17 of 64");
    const d = mat(6, 6);
    [3, -1, 3, 0, 8, 3].forEach((v, i) => {
      d.data[i * 6 + i] = v;
    });
    checkAgainstFull(d, 4, "diagonal");
    const top = symmetricEigen(d, { vectors: 4 });
    expect(Array.from(top.values)).toEqual([8, 3, 3, 3, 0, -1]);
    checkAgainstFull(mat(5, 5), 3, "zero");
    // Wilkinson W21+: tridiagonal, pairs of eigenvalues equal to ~1e-14 at the top.
    const w = mat(21, 21);
    for (let i = 0; i < 21; i++) {
      w.data[i * 21 + i] = Math.abs(10 - i);
      if (i < 20) {
        w.data[i * 21 + i + 1] = 1;
        w.data[(i + 1) * 21 + i] = 1;
      }
    }
    checkAgainstFull(w, 6, "Wilkinson W21+");
  });

  it.each([1e-150, 1e150, 1e-300, 1e300])(
    "scale %g: eigenvalues scale exactly, vectors stay orthonormal",
    (c) => {
      const a = gramOf(randomMat(24, 30, 4));
      const base = symmetricEigen(a, { vectors: false }).values;
      const scaled = mat(
        24,
        24,
        a.data.map((x) => x * c),
      );
      const values = symmetricEigen(scaled, { vectors: false }).values;
      const top = symmetricEigen(scaled, { vectors: 5 });
      for (let i = 0; i < 24; i++) {
        expect(Math.abs(values[i] / c - base[i]) / base[0]).toBeLessThan(1e-13);
        expect(Math.abs(top.values[i] / c - base[i]) / base[0]).toBeLessThan(1e-13);
      }
      const { residual, orthogonality } = residualAndOrthogonality(scaled, top.values, top.vectors as Mat);
      expect(residual / (base[0] * c)).toBeLessThan(1e-12);
      expect(orthogonality).toBeLessThan(1e-12);
    },
  );

  it("the blocked reduction (n ≥ 192) gives the unblocked path's eigenvalues and vectors", () => {
    const a = gramOf(randomMat(260, 200, 9)); // rank 200 < 260: 60 zero eigenvalues too
    checkAgainstFull(a, 8, "blocked n=260");
    const indefinite = withSpectrum(
      Array.from({ length: 200 }, (_, i) => Math.sin(i) * 10 ** -(i % 7)),
      3,
    );
    checkAgainstFull(indefinite, 5, "blocked indefinite n=200");
  });

  it("property: random sizes, ranks and scales", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 45 }),
        fc.integer({ min: -40, max: 40 }),
        (seed, n, rank, exponent) => {
          const b = randomMat(n, rank, seed);
          const a = gramOf(b);
          for (let i = 0; i < a.data.length; i++) a.data[i] *= 10 ** exponent;
          checkAgainstFull(a, Math.min(n, 1 + (seed % 5)), `seed ${seed}`);
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it("rejects a vector count outside 0..n", () => {
    expect(() => symmetricEigen(mat(3, 3), { vectors: 4 })).toThrow(/vectors must be an integer in 0\.\.3/);
  });
});

describe("tqlValues (rational QL)", () => {
  it("matches the implicit QL on random, glued and split tridiagonals, and stays exact to 1e±300", () => {
    const rng = createRng(5);
    for (const n of [1, 2, 3, 16, 64]) {
      for (const kind of ["random", "glued", "split"]) {
        const d0 = Float64Array.from({ length: n }, () => rng.normal());
        const e0 = Float64Array.from({ length: n }, (_, i) =>
          i === n - 1
            ? 0
            : kind === "glued" && i % 5 === 4
              ? 1e-14
              : kind === "split" && i % 3 === 0
                ? 0
                : rng.normal(),
        );
        const ref = d0.slice();
        tqlImplicit(ref, e0.slice(), n);
        ref.sort();
        for (const c of [1, 1e-300, 1e300]) {
          const d = d0.map((x) => x * c);
          tqlValues(
            d,
            e0.map((x) => x * c),
            n,
          );
          d.sort();
          const scale = Math.max(maxAbs(ref), 1e-300);
          for (let i = 0; i < n; i++) expect(Math.abs(d[i] / c - ref[i]) / scale).toBeLessThan(1e-13 * n);
        }
      }
    }
  });
});
