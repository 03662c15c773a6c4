/** @file Tests of src/core/linalg: eigen, QR, SVD, randomized SVD and principal angles against brute-force references,
 * ml-matrix and closed-form constructions. */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from "ml-matrix";
import { describe, expect, test } from "vitest";
import {
  gramSingularValues,
  householderQr,
  type LinearOperator,
  matmul,
  principalAngles,
  randomizedSvd,
  svdTallSkinny,
  symmetricEigen,
  transpose,
  transposeMatmul,
} from "../../src/core/linalg/index.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";
import {
  fromSvd,
  maxAbs,
  maxAbsDiff,
  naiveMatmul,
  naiveTranspose,
  orthogonalityError,
  pickColumns,
  randomMat,
  randomOrthonormal,
} from "./linalgTestUtils.ts";

function gramOf(b: Mat): Mat {
  return naiveMatmul(b, naiveTranspose(b));
}

function eigenResidual(a: Mat, values: Float64Array, v: Mat): number {
  const av = naiveMatmul(a, v);
  let m = 0;
  for (let i = 0; i < a.rows; i++) {
    for (let c = 0; c < a.cols; c++)
      m = Math.max(m, Math.abs(av.data[i * a.cols + c] - values[c] * v.data[i * a.cols + c]));
  }
  return m;
}

describe("products", () => {
  test.each([
    [1, 1, 1],
    [3, 5, 2],
    [17, 9, 33],
  ])("matmul, transposeMatmul, transpose match the triple loop (%i×%i·%i×…)", (m, k, n) => {
    const a = randomMat(m, k, 1);
    const b = randomMat(k, n, 2);
    expect(maxAbsDiff(matmul(a, b).data, naiveMatmul(a, b).data)).toBeLessThan(1e-13);
    const c = randomMat(m, n, 3);
    expect(maxAbsDiff(transposeMatmul(a, c).data, naiveMatmul(naiveTranspose(a), c).data)).toBeLessThan(
      1e-13,
    );
    expect(Array.from(transpose(a).data)).toEqual(Array.from(naiveTranspose(a).data));
  });
});

describe("symmetricEigen", () => {
  test.each([1, 2, 3, 7, 33, 100])(
    "random Gram of size %i: residual, orthogonality, agreement with ml-matrix",
    (n) => {
      const a = gramOf(randomMat(n, n + 3, n));
      const { values, vectors } = symmetricEigen(a);
      if (!vectors) throw new Error("vectors requested");
      const scale = maxAbs(values);
      expect(eigenResidual(a, values, vectors) / scale).toBeLessThan(1e-12 * n);
      expect(orthogonalityError(vectors)).toBeLessThan(1e-12 * n);
      for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      const evd = new EigenvalueDecomposition(
        new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.data.subarray(i * n, (i + 1) * n)))),
        {
          assumeSymmetric: true,
        },
      );
      const ref = [...evd.realEigenvalues].sort((x, y) => y - x);
      expect(maxAbsDiff(values, ref) / scale).toBeLessThan(1e-13 * n);
      // The eigenvalues-only path runs the same arithmetic minus the vector updates.
      expect(maxAbsDiff(symmetricEigen(a, { vectors: false }).values, values) / scale).toBeLessThan(
        1e-13 * n,
      );
      expect(symmetricEigen(a, { vectors: false }).vectors).toBeNull();
    },
  );

  test("repeated and zero eigenvalues of Q·diag(3,3,3,1,0,0)·Qᵀ", () => {
    const q = randomOrthonormal(6, 6, 11);
    const lambda = [3, 3, 3, 1, 0, 0];
    const a = fromSvd(q, lambda, q);
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) a.data[j * 6 + i] = a.data[i * 6 + j];
    const { values, vectors } = symmetricEigen(a);
    if (!vectors) throw new Error("vectors requested");
    expect(maxAbsDiff(values, lambda)).toBeLessThan(1e-13);
    expect(eigenResidual(a, values, vectors)).toBeLessThan(1e-13);
    expect(orthogonalityError(vectors)).toBeLessThan(1e-13);
  });

  test.each([1e-150, 1e150])("extreme scale %g: eigenvalues scale, vectors stay orthonormal", (c) => {
    const a = gramOf(randomMat(12, 15, 4));
    const base = symmetricEigen(a).values;
    const { values, vectors } = symmetricEigen(
      mat(
        12,
        12,
        a.data.map((x) => x * c),
      ),
    );
    for (let i = 0; i < 12; i++) expect(Math.abs(values[i] / c - base[i]) / base[0]).toBeLessThan(1e-13);
    expect(orthogonalityError(vectors as Mat)).toBeLessThan(1e-12);
  });

  test("zero and diagonal matrices", () => {
    const z = symmetricEigen(mat(4, 4));
    expect(Array.from(z.values)).toEqual([0, 0, 0, 0]);
    expect(orthogonalityError(z.vectors as Mat)).toBe(0);
    const d = mat(3, 3, Float64Array.from([2, 0, 0, 0, -1, 0, 0, 0, 5]));
    expect(Array.from(symmetricEigen(d).values)).toEqual([5, 2, -1]);
  });

  test("rejects non-square, asymmetric and non-finite input", () => {
    expect(() => symmetricEigen(mat(2, 3))).toThrow(/square/);
    expect(() => symmetricEigen(mat(2, 2, Float64Array.from([1, 2, 0, 1])))).toThrow(/not symmetric/);
    expect(() => symmetricEigen(mat(1, 1, Float64Array.from([Number.NaN])))).toThrow(/finite/);
  });
});

describe("householderQr", () => {
  test.each([
    [5, 5],
    [40, 7],
    [9, 1],
  ])("%i×%i: Q orthonormal, R upper triangular, QR = A", (m, n) => {
    const a = randomMat(m, n, m * n);
    const { q, r } = householderQr(a);
    expect(orthogonalityError(q)).toBeLessThan(1e-14 * m);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(r.data[i * n + j]).toBe(0);
    expect(maxAbsDiff(naiveMatmul(q, r).data, a.data)).toBeLessThan(1e-13 * maxAbs(a.data));
  });

  test("rank-deficient input keeps Q orthonormal", () => {
    const base = randomMat(20, 2, 5);
    const a = naiveMatmul(base, randomMat(2, 6, 6)); // rank 2, six columns
    const { q, r } = householderQr(a);
    expect(orthogonalityError(q)).toBeLessThan(1e-13);
    expect(maxAbsDiff(naiveMatmul(q, r).data, a.data)).toBeLessThan(1e-12 * maxAbs(a.data));
  });
});

describe("svdTallSkinny", () => {
  test.each([
    [1, 1],
    [10, 10],
    [50, 7],
    [7, 50],
    [200, 30],
    [30, 1],
  ])("%i×%i: reconstruction, orthogonality, descending, agreement with ml-matrix", (m, n) => {
    const a = randomMat(m, n, m + 100 * n);
    const { u, s, v } = svdTallSkinny(a);
    const r = Math.min(m, n);
    expect([u.rows, u.cols, s.length, v.rows, v.cols]).toEqual([m, r, r, n, r]);
    expect(maxAbsDiff(fromSvd(u, s, v).data, a.data) / s[0]).toBeLessThan(1e-13 * Math.max(m, n));
    expect(orthogonalityError(u)).toBeLessThan(1e-13 * Math.max(m, n));
    expect(orthogonalityError(v)).toBeLessThan(1e-13 * Math.max(m, n));
    for (let i = 1; i < r; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
    const ref = new SingularValueDecomposition(
      new Matrix(Array.from({ length: m }, (_, i) => Array.from(a.data.subarray(i * n, (i + 1) * n)))),
      { autoTranspose: true },
    ).diagonal;
    expect(maxAbsDiff(s, ref) / s[0]).toBeLessThan(1e-13 * Math.max(m, n));
  });

  test("rank-deficient and zero matrices: exact zero directions, U and V still orthonormal", () => {
    const a = naiveMatmul(randomMat(40, 3, 1), randomMat(3, 8, 2));
    const { u, s, v } = svdTallSkinny(a);
    for (let i = 3; i < 8; i++) expect(s[i]).toBeLessThan(1e-13 * s[0]);
    expect(orthogonalityError(u)).toBeLessThan(1e-12);
    expect(orthogonalityError(v)).toBeLessThan(1e-12);
    expect(maxAbsDiff(fromSvd(u, s, v).data, a.data)).toBeLessThan(1e-12 * s[0]);
    const z = svdTallSkinny(mat(6, 3));
    expect(Array.from(z.s)).toEqual([0, 0, 0]);
    expect(orthogonalityError(z.u)).toBeLessThan(1e-15);
  });

  test.each([1e-200, 1e200])("extreme scale %g: singular values scale exactly, no under/overflow", (c) => {
    const a = randomMat(20, 6, 12);
    const base = svdTallSkinny(a).s;
    const scaled = svdTallSkinny(
      mat(
        20,
        6,
        a.data.map((x) => x * c),
      ),
    );
    for (let i = 0; i < 6; i++) expect(Math.abs(scaled.s[i] / c - base[i]) / base[0]).toBeLessThan(1e-13);
    expect(orthogonalityError(scaled.u)).toBeLessThan(1e-13);
  });

  test("regression: many exact-zero singular values in a dense basis still give an orthonormal U", () => {
    // Saved input: trial 15 of a fuzz run (createRng(5)) that once returned a non-unit completed U column, when the
    // completion of U for exactly-zero singular values rejected every standard basis candidate.
    const rng = createRng(5);
    let a = mat(0, 0);
    for (let trial = 0; trial <= 15; trial++) {
      const m = 1 + rng.int(60);
      const n = 1 + rng.int(40);
      const r = rng.int(Math.min(m, n) + 1);
      const left = Float64Array.from({ length: m * r }, () => rng.normal() * 10 ** (rng.int(30) - 15));
      const right = Float64Array.from({ length: r * n }, () => rng.normal());
      a = naiveMatmul(mat(m, r, left), mat(r, n, right));
      if (rng.uniform() < 0.2) for (let i = 0; i < m; i++) a.data[i * n] = 0;
    }
    expect([a.rows, a.cols]).toEqual([52, 35]);
    const { u, s, v } = svdTallSkinny(a);
    expect(s[34]).toBe(0);
    expect(orthogonalityError(u)).toBeLessThan(1e-13);
    expect(maxAbsDiff(fromSvd(u, s, v).data, a.data) / s[0]).toBeLessThan(1e-13);
  });

  test("small singular values keep absolute accuracy ~ε·σ₁ (Gram eigen would give √ε·σ₁)", () => {
    const sigma = [1, 1e-6, 1e-10, 1e-12];
    const a = fromSvd(randomOrthonormal(60, 4, 3), sigma, randomOrthonormal(4, 4, 4));
    const { s } = svdTallSkinny(a);
    for (let i = 0; i < 4; i++) expect(Math.abs(s[i] - sigma[i])).toBeLessThan(1e-14);
  });
});

describe("svdTallSkinny on rank-deficient products (regression: Jacobi cycled on rounding-level columns)", () => {
  // Seeds found by a sweep: rank-2 6×5 matrices u1v1ᵀ + u2v2ᵀ on which the Jacobi sweeps never converged.
  test.each([792, 1244, 1258, 90182])(
    "seed %i converges, reconstructs A, and U, V stay orthonormal",
    (seed) => {
      const rng = createRng(seed);
      const vec = (len: number) => Float64Array.from({ length: len }, () => rng.normal());
      const u1 = vec(6);
      const u2 = vec(6);
      const v1 = vec(5);
      const v2 = vec(5);
      const a = mat(6, 5);
      for (let i = 0; i < 6; i++)
        for (let k = 0; k < 5; k++) a.data[i * 5 + k] = u1[i] * v1[k] + u2[i] * v2[k];
      const r = svdTallSkinny(a);
      expect(maxAbsDiff(fromSvd(r.u, r.s, r.v).data, a.data)).toBeLessThan(1e-12 * r.s[0]);
      expect(orthogonalityError(r.u)).toBeLessThan(1e-12);
      expect(orthogonalityError(r.v)).toBeLessThan(1e-12);
      expect(r.s[2]).toBeLessThan(1e-13 * r.s[0]);
    },
  );
});

describe("gramSingularValues", () => {
  test.each([
    [1, 1],
    [40, 9],
    [9, 40],
    [64, 64],
  ])("%i×%i: within √(n·ε)·σ₁ of the Jacobi SVD (absolute), ~n·ε relative at the top", (m, n) => {
    const a = randomMat(m, n, 3 * m + n);
    const ref = svdTallSkinny(a).s;
    const s = gramSingularValues(a);
    expect(s.length).toBe(Math.min(m, n));
    const bound = Math.sqrt(Math.max(m, n) * Number.EPSILON) * ref[0];
    for (let i = 0; i < s.length; i++) expect(Math.abs(s[i] - ref[i])).toBeLessThan(bound);
    expect(Math.abs(s[0] - ref[0]) / ref[0]).toBeLessThan(1e-13 * Math.max(m, n));
  });

  test("rank-deficient input: the zero singular values come out as exactly 0", () => {
    const a = naiveMatmul(randomMat(30, 2, 1), randomMat(2, 7, 2));
    const s = gramSingularValues(a);
    expect(s[1]).toBeGreaterThan(0);
    for (let i = 2; i < 7; i++) expect(s[i]).toBe(0);
  });
});

describe("randomizedSvd", () => {
  const m = 300;
  const n = 80;
  const sigma = Array.from({ length: n }, (_, i) => 0.6 ** i);
  const a = fromSvd(randomOrthonormal(m, n, 7), sigma, randomOrthonormal(n, n, 8));

  test("top-k of a decaying spectrum matches the exact SVD", () => {
    const k = 6;
    const { u, s, v } = randomizedSvd(a, k, { seed: 3 });
    expect([u.rows, u.cols, s.length, v.rows, v.cols]).toEqual([m, k, k, n, k]);
    for (let i = 0; i < k; i++) expect(Math.abs(s[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-9);
    const exact = svdTallSkinny(a);
    const cosU = principalAngles(u, naiveMatmul(exact.u, identityColumns(n, k)));
    const cosV = principalAngles(v, naiveMatmul(exact.v, identityColumns(n, k)));
    for (const c of [...cosU, ...cosV]) expect(c).toBeGreaterThan(1 - 1e-9);
    expect(orthogonalityError(u)).toBeLessThan(1e-13);
    expect(orthogonalityError(v)).toBeLessThan(1e-13);
  });

  test("a LinearOperator gives the same result as the dense matrix; k is capped at min(rows, cols)", () => {
    const op: LinearOperator = {
      rows: m,
      cols: n,
      apply: (x) => naiveMatmul(a, x),
      applyT: (x) => naiveMatmul(naiveTranspose(a), x),
    };
    const viaOp = randomizedSvd(op, 4, { seed: 9, powerIters: 1 });
    const viaMat = randomizedSvd(a, 4, { seed: 9, powerIters: 1 });
    expect(maxAbsDiff(viaOp.s, viaMat.s)).toBeLessThan(1e-12);
    const small = randomMat(5, 3, 1);
    const capped = randomizedSvd(small, 10);
    expect(maxAbsDiff(capped.s, svdTallSkinny(small).s)).toBeLessThan(1e-12);
  });
});

/** n×k: the first k columns of the identity. */
function identityColumns(n: number, k: number): Mat {
  const e = mat(n, k);
  for (let i = 0; i < k; i++) e.data[i * k + i] = 1;
  return e;
}

describe("principalAngles", () => {
  test("identical subspaces (different bases) give cosines 1", () => {
    const a = randomMat(12, 3, 1);
    const b = naiveMatmul(a, randomMat(3, 3, 2));
    for (const c of principalAngles(a, b)) expect(c).toBeCloseTo(1, 12);
  });

  test("orthogonal subspaces give cosines 0", () => {
    const q = randomOrthonormal(10, 5, 3);
    const cols = (js: number[]): Mat => pickColumns(q, js);
    const cos = principalAngles(cols([0, 1]), cols([2, 3, 4]));
    expect(cos.length).toBe(2);
    for (const c of cos) expect(c).toBeLessThan(1e-14);
  });

  test.each([0.1, 0.7, 1.3])("known angle θ = %f: span{e1, e2} vs span{e1, cosθ e2 + sinθ e3}", (theta) => {
    const a = mat(4, 2, Float64Array.from([1, 0, 0, 1, 0, 0, 0, 0]));
    const b = mat(4, 2, Float64Array.from([1, 0, 0, Math.cos(theta), 0, Math.sin(theta), 0, 0]));
    const cos = principalAngles(a, b);
    expect(cos[0]).toBeCloseTo(1, 13);
    expect(cos[1]).toBeCloseTo(Math.cos(theta), 13);
  });

  test("a rank-deficient input contributes only its rank", () => {
    const a = naiveMatmul(randomMat(9, 2, 4), randomMat(2, 4, 5)); // 4 columns, rank 2
    expect(principalAngles(a, randomMat(9, 3, 6)).length).toBe(2);
  });
});
