/** @file Error bounds of the numbers analyze computes from sketched vectors (a trace logged as sketches, or
 * `--sketch`): path lengths, κ per predictor, windowed κ, and a lower bound on r*(ε).
 *
 * For a predictor whose coefficients do not depend on the data (zero, last, linear, ema*, momentum*), the residuals
 * r_t = g_t − m_t are fixed vectors and the sketched path length is Σ_t ‖S r_t‖² = ‖S R‖_F² (S linear). The
 * sum-of-squares bound (core/sketch/bounds.ts, `sumOfSquaresBound`: Laurent–Massart's weighted χ² tail) gives
 * |‖SR‖_F² − ‖R‖_F²| ≤ ε_P‖R‖_F² with probability ≥ 1 − δ/2, ε_P = 2√(t/(k·PR_R)) + 2t/(k·SR_R), t = ln(4/δ), PR_R
 * and SR_R the participation ratio and stable rank of R. The same for the denominator Σ‖g_t‖² = ‖SG‖_F² (ε_G, with
 * G's PR and SR), and κ̃/κ is then within ratioRelativeBound(ε_P, ε_G) with probability ≥ 1 − δ.
 *
 * PR and SR of R are only known (as plug-in estimates from the sketched Gram, like every PR/SR here) for the zero
 * predictor (R = G) and the one-step predictor (R = [g_0, g_1 − g_0, …], whose Gram follows from K); other
 * predictors use PR = SR = 1, the value that makes ε largest, so their bound holds for every R. SR is likewise taken
 * as 1 for the one-step predictor (SR ≤ PR always; it only enters the small 2t/(k·SR) term). Predictors whose
 * coefficients are fitted from the (sketched) data — ar<p>, lowrank<k>w<w> — have no such bound: their residuals are
 * not fixed vectors; they are left out and the measured error on a sub-sample is the evidence.
 *
 * Guarantee: "proven" for Gaussian JL; "variance-matched" for CountSketch / sparse JL / SRHT (types.ts), i.e. the
 * Gaussian tail is stated for vectors spread over many coordinates, as everywhere in gradtrace. */
import { type Mat, ratioRelativeBound, sumOfSquaresBound } from "../core/index.ts";
import type { SketchReport, TensorResult } from "./types.ts";

/** Predictors whose coefficients are fixed in advance (their residuals are fixed linear images of the gradients). */
const FIXED_COEFFICIENTS = /^(zero|last|linear|ema[\d.eE-]+|momentum[\d.eE-]*)$/;

/** Participation ratio (Σσ²)²/Σσ⁴ of R = [g_0, g_1 − g_0, …, g_T − g_{T−1}] from K = GᵀG, in O(T²). */
export function oneStepResidualParticipationRatio(k: Mat): number {
  const n = k.rows;
  const K = (s: number, t: number): number => (s < 0 || t < 0 ? 0 : k.data[s * n + t]);
  let trace = 0;
  let frob = 0;
  for (let s = 0; s < n; s++) {
    for (let t = 0; t < n; t++) {
      const v = K(s, t) - K(s, t - 1) - K(s - 1, t) + K(s - 1, t - 1);
      if (s === t) trace += v;
      frob += v * v;
    }
  }
  return frob > 0 ? (trace * trace) / frob : 1;
}

export type SketchBounds = Pick<
  SketchReport,
  "pathLengthBound" | "kappaBound" | "windowKappaBound" | "predictableRankLowerBound"
>;

/** Bounds for one tensor's (or the total's) result computed from the sketched Gram `k` with sketch size `rows`. */
export function sketchBounds(k: Mat, result: TensorResult, rows: number, confidence: number): SketchBounds {
  const delta = 1 - confidence;
  const worst = sumOfSquaresBound(rows, { delta: delta / 2, participationRatio: 1, stableRank: 1 });
  const g = result.gradients;
  const epsG =
    g.participationRatio > 0 && g.stableRank > 0
      ? sumOfSquaresBound(rows, {
          delta: delta / 2,
          participationRatio: Math.max(1, g.participationRatio),
          stableRank: Math.max(1, g.stableRank),
        })
      : worst;
  const pathLengthBound: Record<string, number> = {};
  const kappaBound: Record<string, number> = {};
  for (const id of Object.keys(result.kappa)) {
    if (!FIXED_COEFFICIENTS.test(id)) continue;
    let epsP = worst;
    if (id === "zero") epsP = epsG;
    else if (id === "last") {
      const pr = Math.max(1, oneStepResidualParticipationRatio(k));
      epsP = sumOfSquaresBound(rows, { delta: delta / 2, participationRatio: pr, stableRank: 1 });
    }
    pathLengthBound[id] = epsP;
    // κ(zero) = 1 exactly whatever the sketch (numerator and denominator are the same sum).
    kappaBound[id] = id === "zero" ? 0 : ratioRelativeBound(epsP, epsG);
  }
  // r*(ε) lower bound: by Ky Fan, Σ_{i≤r}σ̃_i² ≥ ‖S H V_r‖_F² ≥ (1 − ε_r)Σ_{i≤r}σ_i² and ‖SH‖_F² ≤ (1 + ε_H)‖H‖_F², so
  // the exact energy fraction f_r ≤ f̃_r(1 + ε_H)/(1 − ε_r); the smallest r where that reaches 1 − ε is ≤ r*(ε).
  const inc = result.increments;
  const predictableRankLowerBound: Record<string, number> = {};
  if (inc.singularValues.length > 0 && inc.participationRatio > 0) {
    const epsH = sumOfSquaresBound(rows, {
      delta: delta / 2,
      participationRatio: Math.max(1, inc.participationRatio),
      stableRank: Math.max(1, inc.stableRank),
    });
    const sq = inc.singularValues.map((s) => s * s);
    // The tail beyond the reported values is recovered from the stable rank: ‖H‖_F² = SR·σ₁².
    const totalSq = inc.stableRank * sq[0];
    for (const e of Object.keys(inc.predictableRank)) {
      const target = 1 - Number(e);
      let acc = 0;
      let lower = inc.predictableRank[e];
      for (let r = 1; r <= sq.length; r++) {
        acc += sq[r - 1];
        if ((acc / totalSq) * ((1 + epsH) / (1 - worst)) >= target) {
          lower = Math.min(lower, r);
          break;
        }
      }
      predictableRankLowerBound[e] = lower;
    }
  }
  return {
    pathLengthBound,
    kappaBound,
    windowKappaBound: ratioRelativeBound(worst, worst),
    predictableRankLowerBound,
  };
}
