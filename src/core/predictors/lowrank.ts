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
import { applyQ, EigenWorkspace, reduceInto, spectrumInto, vectorsInto } from "../linalg/index.ts";
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
  // Window index a ↔ step t − 1 − a. The window Gram, its eigenvalues and top-k eigenvectors live in module scratch
  // (this runs at every step of every track; nothing here is re-entrant).
  const kTop = Math.min(rank, n);
  if (scratch.kw.length < n * n) scratch.kw = new Float64Array(n * n);
  if (scratch.vectors.length < n * kTop) scratch.vectors = new Float64Array(n * kTop);
  const { kw, vectors: v } = scratch;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b <= a; b++) {
      const x = k.get(t - 1 - a, t - 1 - b);
      kw[a * n + b] = x;
      kw[b * n + a] = x;
    }
  }
  // c = V_k V_kᵀ e_0 needs the top k eigenvectors only, and through the tridiagonal form A = Q T Qᵀ (whose Q leaves
  // index 0 alone: Q e_0 = e_0) it is Q·Σ_i z_i z_i[0] with z_i the eigenvectors of T — one back-transformation.
  const ws = scratch.ws;
  reduceInto(ws, kw, n);
  spectrumInto(ws, n);
  const values = ws.values;
  const top = values[0];
  const c = new Float64Array(n);
  if (!(top > 0)) return c;
  const tolerance = LOWRANK_RELATIVE_TOLERANCE * n * top;
  let used = 0;
  while (used < kTop && values[used] > tolerance) used++;
  vectorsInto(ws, n, used, v, { backTransform: false });
  for (let i = 0; i < used; i++) {
    const weight = v[0 * used + i]; // z_i[0] = (Q z_i)[0]
    for (let a = 0; a < n; a++) c[a] += v[a * used + i] * weight;
  }
  applyQ(ws.w, ws.tau, n, c);
  return c;
}

const scratch = {
  ws: new EigenWorkspace(),
  kw: new Float64Array(0),
  vectors: new Float64Array(0),
};

export function lowrankLagged(rank: number, window: number): LaggedPredictor {
  return {
    lag: window,
    create: (): LaggedPredictorState => ({
      coefficients: (t, k) => lowrankCoefficients(t, k, rank, window),
    }),
  };
}
