/** @file Singular values only, from the eigenvalues of the smaller Gram matrix (AᵀA or AAᵀ): one symmetric rank-k
 * product (the register-tiled kernel of src/core/gram.ts) plus an eigenvalues-only decomposition, about
 * m·n² + 4/3·n³ flops for m ≥ n, several times cheaper than svdTallSkinny (QR + Jacobi + U).
 *
 * Accuracy: squaring the matrix costs half the digits for small singular values. With λ = σ² known to ~n·ε·σ₁², a
 * singular value is known to about √(n·ε)·σ₁ ≈ 1e-7·σ₁ near zero (and to ~n·ε relative for σ near σ₁). That is ample
 * for rank summaries (effective / stable rank, r*(ε) for ε ≥ 1e-6 of the energy); use svdTallSkinny when small
 * singular values themselves matter. Eigenvalues at rounding level (≤ max(m, n)·λ_max·ε) are reported as 0. */
import { syrkLowerAccumulate } from "../gram.ts";
import { type Mat, mat } from "../matrix.ts";
import { requireFinite } from "./checks.ts";
import { transpose } from "./products.ts";
import { symmetricEigen } from "./symmetricEigen.ts";

/** The min(m, n) singular values of a, descending, via the smaller Gram (see the file note on accuracy). */
export function gramSingularValues(a: Mat): Float64Array {
  requireFinite(a, "gramSingularValues");
  // Rows of `wide` are the vectors whose Gram is the smaller one: AAᵀ when rows ≤ cols, else AᵀA.
  const wide = a.rows <= a.cols ? a : transpose(a);
  const n = wide.rows;
  if (n === 0) return new Float64Array(0);
  const k = new Float64Array(n * n);
  syrkLowerAccumulate(k, wide.data, n, wide.cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) k[j * n + i] = k[i * n + j];
  const values = symmetricEigen(mat(n, n, k), { vectors: false }).values;
  // The Gram's rounding grows with the inner dimension too, so the zero threshold uses max(m, n), not just n.
  const tol = Math.max(a.rows, a.cols) * Math.max(0, values[0]) * Number.EPSILON;
  return values.map((v) => (v > tol ? Math.sqrt(v) : 0));
}
