/** @file Symmetric eigendecomposition (PROVISIONAL: wraps ml-matrix; the core-linalg work replaces the internals
 * with a faster kernel while keeping this signature). */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { type Mat, mat } from "../matrix.ts";

export interface SymmetricEigenResult {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** n×n, column i is the unit eigenvector of values[i]; null when not requested. */
  readonly vectors: Mat | null;
}

export function symmetricEigen(a: Mat, { vectors = true }: { vectors?: boolean } = {}): SymmetricEigenResult {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError(`symmetricEigen: expected a square matrix, got ${a.rows}×${a.cols}`);
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a.data[i * n + j]);
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const vals = evd.realEigenvalues;
  const order = vals.map((_, i) => i).sort((x, y) => vals[y] - vals[x]);
  const values = Float64Array.from(order, (i) => vals[i]);
  if (!vectors) return { values, vectors: null };
  const v = evd.eigenvectorMatrix;
  const out = mat(n, n);
  for (let c = 0; c < n; c++) for (let r = 0; r < n; r++) out.data[r * n + c] = v.get(r, order[c]);
  return { values, vectors: out };
}
