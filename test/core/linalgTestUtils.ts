/** @file Brute-force references and random matrices shared by the core linear-algebra tests (test-only code). */
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";

export function randomMat(rows: number, cols: number, seed: number): Mat {
  const rng = createRng(seed);
  return mat(
    rows,
    cols,
    Float64Array.from({ length: rows * cols }, () => rng.normal()),
  );
}

/** Textbook triple loop. */
export function naiveMatmul(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k] * b.data[k * b.cols + j];
      out.data[i * b.cols + j] = s;
    }
  }
  return out;
}

export function naiveTranspose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max |QᵀQ − I|. */
export function orthogonalityError(q: Mat): number {
  const g = naiveMatmul(naiveTranspose(q), q);
  let m = 0;
  for (let i = 0; i < q.cols; i++) {
    for (let j = 0; j < q.cols; j++) m = Math.max(m, Math.abs(g.data[i * q.cols + j] - (i === j ? 1 : 0)));
  }
  return m;
}

/** A with column j scaled by s[j]. */
export function scaleColumns(a: Mat, s: ArrayLike<number>): Mat {
  const out = mat(a.rows, a.cols, Float64Array.from(a.data));
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j] *= s[j];
  return out;
}

/** Random m×k matrix with orthonormal columns (classical Gram–Schmidt twice: independent of the code under test). */
export function randomOrthonormal(m: number, k: number, seed: number): Mat {
  const a = randomMat(m, k, seed);
  const q = mat(m, k);
  for (let j = 0; j < k; j++) {
    const v = Float64Array.from({ length: m }, (_, i) => a.data[i * k + j]);
    for (let pass = 0; pass < 2; pass++) {
      for (let o = 0; o < j; o++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q.data[i * k + o] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * q.data[i * k + o];
      }
    }
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    for (let i = 0; i < m; i++) q.data[i * k + j] = v[i] / n;
  }
  return q;
}

/** U·diag(s)·Vᵀ. */
export function fromSvd(u: Mat, s: ArrayLike<number>, v: Mat): Mat {
  return naiveMatmul(scaleColumns(u, s), naiveTranspose(v));
}

/** The listed columns of a, in order. */
export function pickColumns(a: Mat, js: number[]): Mat {
  const out = mat(a.rows, js.length);
  for (let i = 0; i < a.rows; i++) {
    for (let c = 0; c < js.length; c++) out.data[i * js.length + c] = a.data[i * a.cols + js[c]];
  }
  return out;
}
