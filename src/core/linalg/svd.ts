/** @file Thin SVD of a tall-skinny matrix: Householder QR, then one-sided (Hestenes) Jacobi on the small triangular
 * factor R, then U = Q·U_R.
 *
 * Why not the eigendecomposition of the Gram AᵀA: squaring the matrix squares its condition number, so singular
 * values below about √ε·σ₁ ≈ 1e-8·σ₁ come out as noise. Householder QR is backward stable, and one-sided Jacobi
 * computes the singular values of R with absolute error about n·ε·σ₁ (relative accuracy when R's columns are
 * well-conditioned after scaling), so here the small singular values are accurate to ~n·ε·σ₁ ≈ 1e-14·σ₁ rather
 * than 1e-8·σ₁, and U, V are orthonormal to working precision. Cost: ~4·m·n² for QR and Q, plus ~2.5·n³ per Jacobi
 * sweep (typically 6–10 sweeps), plus 2·m·n² for U. When only singular values are needed and ~1e-7·σ₁ absolute
 * accuracy is enough, gramSingularValues (singularValues.ts) is several times cheaper. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat } from "../matrix.ts";
import { requireFinite } from "./checks.ts";
import { matmul, transpose } from "./products.ts";
import { householderQr } from "./qr.ts";

export interface SvdResult {
  /** m×r left singular vectors (columns), r = min(m, n). */
  readonly u: Mat;
  /** The r singular values, descending. */
  readonly s: Float64Array;
  /** n×r right singular vectors (columns). */
  readonly v: Mat;
}

const MAX_JACOBI_SWEEPS = 60;

/** Thin SVD A = U·diag(s)·Vᵀ. A wide input is handled through its transpose. */
export function svdTallSkinny(a: Mat): SvdResult {
  requireFinite(a, "svdTallSkinny");
  if (a.rows < a.cols) {
    const t = svdTallSkinny(transpose(a));
    return { u: t.v, s: t.s, v: t.u };
  }
  const n = a.cols;
  if (n === 0) return { u: mat(a.rows, 0), s: new Float64Array(0), v: mat(0, 0) };
  // Scale by a power of two near 1/max|a| (exact) so the squared column norms of Jacobi never under- or overflow.
  let maxAbs = 0;
  for (const x of a.data) maxAbs = Math.max(maxAbs, Math.abs(x));
  const scale = maxAbs > 0 ? 2 ** -Math.round(Math.log2(maxAbs)) : 1;
  const scaled =
    scale === 1
      ? a
      : mat(
          a.rows,
          n,
          a.data.map((x) => x * scale),
        );
  const { q, r } = householderQr(scaled);
  const { u: ur, s, v } = jacobiSvdSquare(r);
  return { u: matmul(q, ur), s: s.map((x) => x / scale), v };
}

/** One-sided Jacobi SVD of a square matrix: orthogonalise its columns by plane rotations accumulated into V. */
function jacobiSvdSquare(r: Mat): SvdResult {
  const n = r.cols;
  const ct = transpose(r).data; // row j = column j of the working matrix R·V
  const vt = new Float64Array(n * n); // row j = column j of V
  for (let j = 0; j < n; j++) vt[j * n + j] = 1;
  // Columns count as orthogonal when |⟨c_p, c_q⟩| ≤ tol·‖c_p‖‖c_q‖; n·ε keeps convergence robust to rounding.
  const tol = Math.max(n, 1) * Number.EPSILON;
  const norm2 = new Float64Array(n);
  let sweep = 0;
  for (; sweep < MAX_JACOBI_SWEEPS; sweep++) {
    let rotated = false;
    // Squared column norms are recomputed once per sweep and updated in O(1) per rotation (α' = α − tγ, β' = β + tγ),
    // so each pair costs one dot product instead of three.
    let maxNorm2 = 0;
    for (let j = 0; j < n; j++) {
      norm2[j] = sumSquares(ct, j * n, n);
      maxNorm2 = Math.max(maxNorm2, norm2[j]);
    }
    // A column at rounding level (‖c‖ ≤ n·ε·max‖c‖, i.e. a singular value below the documented n·ε·σ₁ accuracy) is
    // numerically zero: rotating it against a large column only regenerates rounding noise, and on rank-deficient
    // inputs that cycle never meets the relative criterion (seen: rank-2 6×5 products, ~0.2% of random cases).
    const negligible = tol * tol * maxNorm2;
    for (let p = 0; p < n - 1; p++) {
      const xp = p * n;
      for (let q = p + 1; q < n; q++) {
        const xq = q * n;
        const alpha = norm2[p];
        const beta = norm2[q];
        if (alpha <= negligible || beta <= negligible) continue;
        let gamma = 0;
        for (let i = 0; i < n; i++) gamma += ct[xp + i] * ct[xq + i];
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const cp = ct[xp + i];
          const cq = ct[xq + i];
          ct[xp + i] = c * cp - s * cq;
          ct[xq + i] = s * cp + c * cq;
          const vp = vt[xp + i];
          const vq = vt[xq + i];
          vt[xp + i] = c * vp - s * vq;
          vt[xq + i] = s * vp + c * vq;
        }
        // The O(1) update cancels when a norm collapses (a nearly dependent pair): recompute such a norm exactly,
        // otherwise a stale or clamped-to-zero norm would skip pairs that still need rotating.
        const ap = alpha - t * gamma;
        const bq = beta + t * gamma;
        norm2[p] = ap > 0.01 * alpha ? ap : sumSquares(ct, xp, n);
        norm2[q] = bq > 0.01 * beta ? bq : sumSquares(ct, xq, n);
      }
    }
    if (!rotated) break;
  }
  if (sweep === MAX_JACOBI_SWEEPS) {
    throw new GradtraceError(
      "E_NUMERIC",
      `svdTallSkinny: one-sided Jacobi did not converge in ${sweep} sweeps (n = ${n})`,
    );
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s2 = 0;
    for (let i = 0; i < n; i++) s2 += ct[j * n + i] * ct[j * n + i];
    norms[j] = Math.sqrt(s2);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const s = Float64Array.from(order, (j) => norms[j]);
  const ut = new Float64Array(n * n); // row k = k-th left singular vector
  const v = mat(n, n);
  const filled = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const j = order[k];
    for (let i = 0; i < n; i++) v.data[i * n + k] = vt[j * n + i];
    // Columns at rounding level were never rotated against the rest (see `negligible`): their directions are noise,
    // so their left vectors are completed orthonormally like those of exact zeros.
    if (s[k] > tol * s[0]) {
      for (let i = 0; i < n; i++) ut[k * n + i] = ct[j * n + i] / s[k];
      filled[k] = 1;
    }
  }
  completeOrthonormalRows(ut, n, filled);
  return { u: transpose(mat(n, n, ut)), s, v };
}

function sumSquares(x: Float64Array, start: number, len: number): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s += x[i] * x[i];
  return s;
}

/** Exactly-zero singular values leave their left vectors undetermined: fill those rows with unit vectors orthogonal
 * to all others so U stays orthonormal. Each new row starts from the standard basis vector e_c with the largest
 * component outside the span of the rows so far (its squared residual 1 − Σ_o u_o[c]² is at least
 * missing/n, so the choice is well-conditioned), then is orthogonalised twice and normalised. */
function completeOrthonormalRows(rows: Float64Array, n: number, filled: Uint8Array): void {
  const residual = new Float64Array(n).fill(1); // residual[c] = 1 − Σ_{filled o} rows[o][c]²
  for (let o = 0; o < n; o++) {
    if (!filled[o]) continue;
    for (let c = 0; c < n; c++) residual[c] -= rows[o * n + c] ** 2;
  }
  for (let k = 0; k < n; k++) {
    if (filled[k]) continue;
    let best = 0;
    for (let c = 1; c < n; c++) if (residual[c] > residual[best]) best = c;
    const xk = k * n;
    rows.fill(0, xk, xk + n);
    rows[xk + best] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (let o = 0; o < n; o++) {
        if (o === k || !filled[o]) continue;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += rows[o * n + i] * rows[xk + i];
        for (let i = 0; i < n; i++) rows[xk + i] -= dot * rows[o * n + i];
      }
    }
    const nrm = Math.sqrt(sumSquares(rows, xk, n));
    for (let i = 0; i < n; i++) rows[xk + i] /= nrm;
    filled[k] = 1;
    for (let c = 0; c < n; c++) residual[c] -= rows[xk + c] ** 2;
  }
}
