/** @file Low-rank subspace predictor lowrank<k>w<w>: m_t = projection of g_{t−1} onto the top-k left singular
 * subspace of the window G_W = [g_{t−n} … g_{t−1}], n = min(w, t).
 *
 * Derivation (all from the window Gram K_W = G_Wᵀ G_W = V Λ Vᵀ, Λ = Σ²): the left singular vectors are
 * U = G_W V Σ^{−1}, so the projector is U_k U_kᵀ = G_W V_k Σ_k^{−2} V_kᵀ G_Wᵀ and
 *   m_t = U_k U_kᵀ g_{t−1} = G_W c,  c = V_k Σ_k^{−2} V_kᵀ K_{W, t−1}.
 * Since g_{t−1} is the window's last column, K_{W,t−1} = K_W e_n = V Λ Vᵀ e_n and c simplifies to V_k V_kᵀ e_n
 * (no division by small eigenvalues; we use this form). Directions whose eigenvalue is below 1e-12·n·λ_1 are
 * numerically absent from the window and are left out, so the effective rank is min(k, numerical rank). When
 * k ≥ rank of the window the projection is g_{t−1} itself (the predictor equals `last`). */
import { symmetricEigen } from "../linalg/index.ts";
import { mat } from "../matrix.ts";
import type { GramReader, LaggedPredictor, LaggedPredictorState } from "./types.ts";

export const LOWRANK_RELATIVE_TOLERANCE = 1e-12;

/** c with m_t = Σ_l c[l−1] g_{t−l}, l = 1..n (c[0] multiplies g_{t−1}). */
export function lowrankCoefficients(
  t: number,
  k: GramReader,
  rank: number,
  window: number,
): Float64Array | null {
  const n = Math.min(window, t);
  if (n === 0) return null;
  // Window index a ↔ step t − 1 − a (a = 0 is g_{t−1}).
  const kw = mat(n, n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b <= a; b++) {
      const v = k.get(t - 1 - a, t - 1 - b);
      kw.data[a * n + b] = v;
      kw.data[b * n + a] = v;
    }
  }
  const { values, vectors } = symmetricEigen(kw);
  const top = values[0];
  const c = new Float64Array(n);
  if (!(top > 0)) return c;
  const tolerance = LOWRANK_RELATIVE_TOLERANCE * n * top;
  const v = vectors!.data;
  for (let i = 0; i < Math.min(rank, n); i++) {
    if (!(values[i] > tolerance)) break;
    const weight = v[0 * n + i]; // V_k[last step, i]
    for (let a = 0; a < n; a++) c[a] += v[a * n + i] * weight;
  }
  return c;
}

export function lowrankLagged(rank: number, window: number): LaggedPredictor {
  return {
    lag: window,
    create: (): LaggedPredictorState => ({
      coefficients: (t, k) => lowrankCoefficients(t, k, rank, window),
    }),
  };
}
