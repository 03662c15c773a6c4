/** @file Dense matrix products and transposition on the core's flat row-major `Mat`. Loop orders are chosen so the
 * innermost loop walks contiguous memory (i-k-j), which is what matters for speed in JavaScript. These serve the
 * small and medium products of the SVD / subspace code; the T×T Gram hot loop has its own kernel in src/core/gram.ts. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat } from "../matrix.ts";

/** A·B. */
export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) {
    throw new GradtraceError(
      "E_SHAPE",
      `matmul: inner dimensions differ: ${a.rows}×${a.cols} · ${b.rows}×${b.cols}`,
    );
  }
  const m = a.rows;
  const kk = a.cols;
  const n = b.cols;
  const out = mat(m, n);
  const c = out.data;
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let k = 0; k < kk; k++) {
      const aik = x[i * kk + k];
      if (aik === 0) continue;
      const yk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * y[yk + j];
    }
  }
  return out;
}

/** Aᵀ·B without forming Aᵀ. */
export function transposeMatmul(a: Mat, b: Mat): Mat {
  if (a.rows !== b.rows) {
    throw new GradtraceError(
      "E_SHAPE",
      `transposeMatmul: row counts differ: (${a.rows}×${a.cols})ᵀ · ${b.rows}×${b.cols}`,
    );
  }
  const m = a.cols;
  const n = b.cols;
  const out = mat(m, n);
  const c = out.data;
  const x = a.data;
  const y = b.data;
  for (let k = 0; k < a.rows; k++) {
    const xk = k * m;
    const yk = k * n;
    for (let i = 0; i < m; i++) {
      const aki = x[xk + i];
      if (aki === 0) continue;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] += aki * y[yk + j];
    }
  }
  return out;
}

/** Aᵀ, blocked so both the reads and the writes stay within cache lines. */
export function transpose(a: Mat): Mat {
  const { rows, cols } = a;
  const out = mat(cols, rows);
  const src = a.data;
  const dst = out.data;
  const tile = 32;
  for (let i0 = 0; i0 < rows; i0 += tile) {
    const i1 = Math.min(rows, i0 + tile);
    for (let j0 = 0; j0 < cols; j0 += tile) {
      const j1 = Math.min(cols, j0 + tile);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) dst[j * rows + i] = src[i * cols + j];
    }
  }
  return out;
}

/** Columns [start, end) of a. */
export function columns(a: Mat, start: number, end: number): Mat {
  const w = end - start;
  const out = mat(a.rows, w);
  for (let i = 0; i < a.rows; i++) out.data.set(a.data.subarray(i * a.cols + start, i * a.cols + end), i * w);
  return out;
}

/** Frobenius norm, scaled so huge or tiny entries neither overflow nor underflow. */
export function frobeniusNorm(a: Mat): number {
  let scale = 0;
  for (const v of a.data) scale = Math.max(scale, Math.abs(v));
  if (scale === 0) return 0;
  let s = 0;
  for (const v of a.data) {
    const r = v / scale;
    s += r * r;
  }
  return scale * Math.sqrt(s);
}
