/** @file r*(ε) inside each κ window, for the layer × time rank heatmap. The analysis result carries κ per window but
 * ranks only over the whole run, so this module takes a tensor's Gram K (from the same exact pass the analysis
 * uses) and, per window [s, s + w), the increments' Gram of that block, D K[s:s+w, s:s+w] Dᵀ, whose eigenvalues are
 * the σᵢ² of the window's increment matrix. O(w³) per window, no re-read of the trace beyond the Gram pass. */
import { incrementGram } from "../core/gram.ts";
import { type Mat, mat } from "../core/matrix.ts";
import { symmetricEigen } from "../core/linalg/index.ts";
import { clampGramEigenvalues, predictableRank } from "../core/spectrum.ts";

/** K[s:s+size, s:s+size] as its own matrix. */
function block(k: Mat, s: number, size: number): Mat {
  const out = mat(size, size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) out.data[i * size + j] = k.data[(s + i) * k.cols + s + j];
  }
  return out;
}

/** r*(ε) of the increments inside each window, keyed by String(ε); null for a window shorter than 2 steps. */
export function windowedRanksFromGram(
  k: Mat,
  { starts, size, eps }: { starts: readonly number[]; size: number; eps: readonly number[] },
): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = {};
  for (const e of eps) out[String(e)] = [];
  for (const s of starts) {
    const w = Math.min(size, k.rows - s);
    if (w < 2) {
      for (const e of eps) out[String(e)].push(null);
      continue;
    }
    const sigmaSq = clampGramEigenvalues(
      symmetricEigen(incrementGram(block(k, s, w)), { vectors: false }).values,
    );
    for (const e of eps) out[String(e)].push(predictableRank(sigmaSq, e));
  }
  return out;
}
