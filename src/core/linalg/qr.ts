/** @file Householder QR of a tall matrix (rows ≥ cols) and the orthonormal basis it yields. Householder rather than
 * (modified) Gram–Schmidt because Q stays orthonormal to working precision even when A is rank-deficient or badly
 * conditioned, which the randomized range finder and the SVD rely on (MGS loses orthogonality ∝ cond(A)). The work
 * is done on Aᵀ so each reflector touches contiguous rows. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat } from "../matrix.ts";
import { transpose } from "./products.ts";

export interface QrResult {
  /** rows×cols with orthonormal columns. */
  readonly q: Mat;
  /** cols×cols upper triangular; A = Q·R. */
  readonly r: Mat;
}

export function householderQr(a: Mat): QrResult {
  const m = a.rows;
  const n = a.cols;
  if (m < n) {
    throw new GradtraceError("E_SHAPE", `householderQr: expected rows ≥ cols (a tall matrix), got ${m}×${n}`);
  }
  const at = transpose(a).data; // row j = column j of A
  const reflectors = new Float64Array(n * m); // row j: unit Householder vector, nonzero from index j on
  const active = new Uint8Array(n);
  const r = mat(n, n);
  for (let j = 0; j < n; j++) {
    const xj = j * m;
    let scale = 0;
    for (let i = j; i < m; i++) scale = Math.max(scale, Math.abs(at[xj + i]));
    if (scale === 0) continue; // zero column below the diagonal: the reflector is the identity, R[j][j] = 0
    let norm2 = 0;
    for (let i = j; i < m; i++) {
      const v = at[xj + i] / scale;
      norm2 += v * v;
    }
    const norm = scale * Math.sqrt(norm2);
    const alpha = at[xj + j] > 0 ? -norm : norm; // sign chosen so v = x − αe₁ does not cancel
    const v = reflectors.subarray(j * m, (j + 1) * m);
    for (let i = j; i < m; i++) v[i] = at[xj + i];
    v[j] -= alpha;
    let vn2 = 0;
    for (let i = j; i < m; i++) vn2 += v[i] * v[i];
    const vn = Math.sqrt(vn2);
    if (vn === 0) continue;
    for (let i = j; i < m; i++) v[i] /= vn;
    active[j] = 1;
    at[xj + j] = alpha;
    for (let i = j + 1; i < m; i++) at[xj + i] = 0;
    for (let l = j + 1; l < n; l++) {
      const xl = l * m;
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i] * at[xl + i];
      dot *= 2;
      for (let i = j; i < m; i++) at[xl + i] -= dot * v[i];
    }
  }
  for (let j = 0; j < n; j++) for (let l = j; l < n; l++) r.data[j * n + l] = at[l * m + j];
  // Q = H₀·H₁·…·H_{n−1}·[I; 0]: apply the reflectors in reverse to the first n unit vectors (rows of qt).
  const qt = new Float64Array(n * m);
  for (let l = 0; l < n; l++) qt[l * m + l] = 1;
  for (let j = n - 1; j >= 0; j--) {
    if (!active[j]) continue;
    const v = reflectors.subarray(j * m, (j + 1) * m);
    for (let l = 0; l < n; l++) {
      const ql = l * m;
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i] * qt[ql + i];
      if (dot === 0) continue;
      dot *= 2;
      for (let i = j; i < m; i++) qt[ql + i] -= dot * v[i];
    }
  }
  return { q: transpose(mat(n, m, qt)), r };
}

/** An orthonormal basis (rows×cols, orthonormal columns) whose span contains the column space of a (equal to it
 * when a has full column rank). */
export function qrOrthonormalize(a: Mat): Mat {
  return householderQr(a).q;
}
