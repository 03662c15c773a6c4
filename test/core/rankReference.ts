/** @file Brute-force references for the predictable rank r*(ε), shared by the core and analysis tests: from
 * singular values by the definition, and over a window of explicit increments through ml-matrix's SVD —
 * deliberately a different route from the Gram-based code under test. */
import { Matrix, SingularValueDecomposition } from "ml-matrix";

/** r*(ε) by its definition from singular values: the smallest k whose tail Σ_{i>k} σᵢ² is ≤ ε‖H‖_F². */
export function rankByDefinition(sigma: number[], eps: number): number {
  const sq = sigma.map((s) => s * s).sort((a, b) => b - a);
  const total = sq.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let tail = total;
  for (let k = 0; k < sq.length; k++) {
    if (tail <= eps * total) return k;
    tail -= sq[k];
  }
  return sq.length;
}

/** r*(ε) of the explicit increments g_t − g_{t−1}, s < t < s + size, via ml-matrix's SVD. */
export function bruteWindowRank(g: Float64Array[], s: number, size: number, eps: number): number {
  const cols: number[][] = [];
  for (let t = s + 1; t < s + size; t++) cols.push(Array.from(g[t], (x, c) => x - g[t - 1][c]));
  const svd = new SingularValueDecomposition(new Matrix(cols).transpose(), { autoTranspose: true });
  return rankByDefinition(svd.diagonal, eps);
}
