/** @file Principal angles between column spaces (Björck & Golub): orthonormal bases Qa, Qb, then the singular values
 * of QaᵀQb are the cosines. Bases come from the SVD with numerical-rank truncation rather than plain QR, so a
 * rank-deficient input contributes only the directions it really spans. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat } from "../matrix.ts";
import { columns, transposeMatmul } from "./products.ts";
import { svdTallSkinny } from "./svd.ts";

/** Orthonormal basis of the column space of a, dropping directions with σ ≤ max(rows, cols)·σ₁·ε. */
export function orthonormalBasis(a: Mat): Mat {
  const { u, s } = svdTallSkinny(a);
  if (s.length === 0 || s[0] === 0) return mat(a.rows, 0);
  const tol = Math.max(a.rows, a.cols) * s[0] * Number.EPSILON;
  let rank = 0;
  while (rank < s.length && s[rank] > tol) rank++;
  return columns(u, 0, rank);
}

/** Cosines of the principal angles between span(a) and span(b), descending, min(rank a, rank b) of them. */
export function principalAngles(a: Mat, b: Mat): Float64Array {
  if (a.rows !== b.rows) {
    throw new GradtraceError(
      "E_SHAPE",
      `principalAngles: subspaces live in different spaces: ${a.rows}×${a.cols} vs ${b.rows}×${b.cols}`,
    );
  }
  const qa = orthonormalBasis(a);
  const qb = orthonormalBasis(b);
  if (qa.cols === 0 || qb.cols === 0) return new Float64Array(0);
  const { s } = svdTallSkinny(transposeMatmul(qa, qb));
  // Rounding can push a cosine of aligned directions a hair above 1.
  return s.map((c) => Math.min(1, c));
}
