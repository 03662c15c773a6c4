/** @file Eigenvalues of a Gram matrix K = GᵀG (symmetric positive semidefinite), values only, at a cost that follows
 * its numerical rank r instead of its size n.
 *
 * Why: every spectrum metric (r*(ε), effective / stable rank, the oracle path length) needs the eigenvalues of a
 * T×T Gram and none needs its vectors, and the dense Householder reduction costs 4/3·T³ flops — minutes at T = 4,000
 * in scalar JavaScript. A Gram of T steps of p coordinates has rank ≤ min(T, p), and gradient sequences are
 * low-rank over time: when r ≪ n, a rank-revealing Cholesky factorisation with complete (diagonal) pivoting,
 * K ≈ L·Lᵀ with L n×r, costs n·r² and the non-zero eigenvalues of K are those of the r×r matrix LᵀL
 * (LLᵀ and LᵀL share their non-zero spectrum), one dense r×r eigenproblem.
 *
 * Accuracy: the factorisation stops when the largest remaining diagonal entry of the Schur complement S is at most
 * ε·max_i K_ii (ε = machine epsilon). S is positive semidefinite, so ‖S‖₂ ≤ trace(S) ≤ n·ε·max K_ii ≤ n·ε·λ_max,
 * and by Weyl's inequality every eigenvalue moves by at most that much — the same n·λ_max·ε below which
 * `clampGramEigenvalues` (spectrum.ts) calls an eigenvalue zero, so the dropped part is exactly the part the metrics
 * ignore. Rounding inside the factorisation is of the same absolute order (Higham, "Accuracy and Stability of
 * Numerical Algorithms", §10.3).
 *
 * When the rank turns out large (r > n/3) the factorisation is abandoned — at most n³/9 flops spent, a twelfth of
 * the dense reduction — and the dense symmetricEigen runs instead. */
import { GradtraceError } from "../errors.ts";
import { syrkLowerAccumulate } from "../gram.ts";
import { type Mat, mat } from "../matrix.ts";
import { requireFinite } from "./checks.ts";
import { symmetricEigen } from "./symmetricEigen.ts";

export interface GramEigenvaluesOptions {
  /** Rank beyond which the dense solver is used instead, as a fraction of n (default 1/3). */
  readonly maxRankFraction?: number;
}

/** Eigenvalues of the symmetric positive semidefinite K, descending (n values; those past the numerical rank are 0
 * when the low-rank route ran). */
export function gramEigenvalues(
  k: Mat,
  { maxRankFraction = 1 / 3 }: GramEigenvaluesOptions = {},
): Float64Array {
  const n = k.rows;
  if (k.cols !== n) {
    throw new GradtraceError("E_SHAPE", `gramEigenvalues: expected a square matrix, got ${k.rows}×${k.cols}`);
  }
  const maxRank = Math.floor(n * maxRankFraction);
  // Small matrices: the dense solver is as fast and needs no second code path.
  if (n < 48 || maxRank < 1) return symmetricEigen(k, { vectors: false }).values;
  const factor = pivotedCholesky(k, maxRank);
  if (factor === null) return symmetricEigen(k, { vectors: false }).values;
  const { lt, rank } = factor;
  const out = new Float64Array(n);
  if (rank === 0) return out;
  // LᵀL (r×r): the Gram of the rows of Lᵀ, through the exact pass's register-tiled symmetric rank-k kernel.
  const small = mat(rank, rank);
  const s = small.data;
  syrkLowerAccumulate(s, lt, rank, n);
  for (let a = 0; a < rank; a++) for (let b = 0; b < a; b++) s[b * rank + a] = s[a * rank + b];
  out.set(symmetricEigen(small, { vectors: false }).values);
  return out;
}

/** K ≈ L·Lᵀ by left-looking Cholesky with diagonal pivoting, stopping when the largest remaining pivot is at most
 * ε·max K_ii; null when more than `maxRank` columns would be needed. Returns Lᵀ (rank × n, row-major: row q is
 * column q of L, rows of L in the original order; the pivoting only picks which column comes next). */
function pivotedCholesky(k: Mat, maxRank: number): { lt: Float64Array; rank: number } | null {
  const n = k.rows;
  const x = k.data;
  const diag = new Float64Array(n);
  let maxDiag = 0;
  requireFinite(k, "gramEigenvalues");
  for (let i = 0; i < n; i++) {
    const v = x[i * n + i];
    diag[i] = v;
    if (v > maxDiag) maxDiag = v;
  }
  const stop = maxDiag * Number.EPSILON;
  // Columns are built into a column-major n×maxRank buffer (each new column reads the earlier ones at its pivot row
  // and at every other row), then transposed to row-major for LᵀL.
  const cols = new Float64Array(n * Math.max(1, maxRank));
  const used = new Uint8Array(n);
  let rank = 0;
  for (;;) {
    let pivot = -1;
    let best = stop;
    for (let i = 0; i < n; i++) {
      if (used[i] === 0 && diag[i] > best) {
        best = diag[i];
        pivot = i;
      }
    }
    if (pivot < 0) break;
    if (rank === maxRank) return null;
    used[pivot] = 1;
    const c = rank * n;
    const root = Math.sqrt(best);
    // Column j of the Schur complement at the pivot: K[:, pivot] − Σ_{q<rank} L[:, q]·L[pivot, q].
    // Row `pivot` of K is its column (K is symmetric) and is contiguous.
    cols.set(x.subarray(pivot * n, pivot * n + n), c);
    subtractColumns(cols, c, rank, pivot, n);
    const inv = 1 / root;
    for (let i = 0; i < n; i++) {
      if (used[i] === 1 && i !== pivot) {
        cols[c + i] = 0;
        continue;
      }
      const v = cols[c + i] * inv;
      cols[c + i] = v;
      diag[i] -= v * v;
    }
    cols[c + pivot] = root;
    diag[pivot] = 0;
    rank++;
  }
  return { lt: cols.subarray(0, rank * n), rank };
}

/** cols[c..c+n) −= Σ_{q<rank} cols[q·n..]·cols[q·n + pivot] (the new column's Schur-complement update, a matrix–vector
 * product over the earlier columns), four columns per pass so the output is read and written once per four. */
function subtractColumns(cols: Float64Array, c: number, rank: number, pivot: number, n: number): void {
  let q = 0;
  for (; q + 3 < rank; q += 4) {
    const o0 = q * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    const f0 = cols[o0 + pivot];
    const f1 = cols[o1 + pivot];
    const f2 = cols[o2 + pivot];
    const f3 = cols[o3 + pivot];
    for (let i = 0; i < n; i++) {
      cols[c + i] -= cols[o0 + i] * f0 + cols[o1 + i] * f1 + (cols[o2 + i] * f2 + cols[o3 + i] * f3);
    }
  }
  for (; q < rank; q++) {
    const o = q * n;
    const f = cols[o + pivot];
    if (f === 0) continue;
    for (let i = 0; i < n; i++) cols[c + i] -= cols[o + i] * f;
  }
}
