/** @file What a random sketch's stated error bounds (src/core/sketch/bounds.ts) imply for the two numbers the
 * reproduction compares, given the exact spectrum: κ and r*(ε). Each side is a stated bound at the sketch's
 * confidence, never a fitted tolerance.
 *
 * κ (fixed-coefficient predictors only: zero, one-step, EMA, linear): the residuals g_t − m_t and the g_t are fixed
 * vectors, so with every squared norm within the sketch's relative ε (its bound for the T + 1 gradients' pairwise
 * inner products covers more events than these 2(T + 1) norms per predictor) both sums are within ε and
 * |κ̃ − κ|/κ ≤ 2ε/(1 − ε). AR(p) and the subspace predictor fit their coefficients from the sketched Gram: no bound.
 *
 * r*(ε) of the increments H = [h_1 … h_T] with singular values σ_i and energy fractions f_r = Σ_{i≤r} σ_i²/‖H‖_F²:
 * - upper side (tight): by Ky Fan the sketched top-r energy is ≥ ‖S H V_r‖_F² for the exact top-r right singular
 *   vectors V_r, a sum of squares of a fixed matrix, within ε_r of Σ_{i≤r} σ_i² (sumOfSquaresBound with that
 *   block's participation ratio and stable rank); ‖SH‖_F² is within ε_H of ‖H‖_F². So f̃_r ≥ f_r(1 − ε_r)/(1 + ε_H)
 *   and r̃*(ε) ≤ r_hi = min{ r : f_r(1 − ε_r)/(1 + ε_H) ≥ 1 − ε } — the sketch cannot overstate the rank beyond it;
 * - lower side (worst case): every increment-Gram entry within ε‖h_s‖‖h_t‖ moves every f_r by at most
 *   (√r + 1)ε/(1 − ε) (energyFractionBound), so r̃*(ε) ≥ r_lo = min{ r : f_r + (√r + 1)ε/(1 − ε) ≥ 1 − ε }. This side
 *   is loose (often 0 or 1); the report says so rather than calling it informative. */
import {
  energyFractionBound,
  GradtraceError,
  participationRatio,
  ratioRelativeBound,
  stableRank,
  sumOfSquaresBound,
} from "../../core/index.ts";

/** The stated bound on |κ̃ − κ|/κ from the sketch's inner-product bound ε (Infinity when ε ≥ 1). */
export function sketchKappaBound(errorBound: number): number {
  return ratioRelativeBound(errorBound);
}

export interface SketchRankBracketOptions {
  /** Sketch size k (rows). */
  readonly k: number;
  /** The sketch's stated inner-product bound ε for the trace's steps (lower side). */
  readonly pairwiseBound: number;
  /** Failure probability of each side (default 0.05). */
  readonly delta?: number;
}

/** [r_lo, r_hi] for the sketched r*(ε) of a matrix with squared singular values `sigmaSq` (see the file note). */
export function sketchRankBracket(
  sigmaSq: Float64Array,
  eps: number,
  { k, pairwiseBound, delta = 0.05 }: SketchRankBracketOptions,
): [number, number] {
  if (!(eps > 0 && eps < 1))
    throw new GradtraceError("E_ARG", `sketchRankBracket: ε must be in (0, 1), got ${eps}`);
  const s = Float64Array.from(sigmaSq, (v) => Math.max(0, v))
    .sort()
    .reverse();
  const n = s.length;
  let total = 0;
  for (let i = n - 1; i >= 0; i--) total += s[i];
  if (total === 0) return [0, 0];
  const head = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) head[i + 1] = head[i] + s[i];
  const target = 1 - eps;
  // Two events (the head block and the whole matrix), δ/2 each.
  const bound = (sq: Float64Array) =>
    sumOfSquaresBound(k, {
      delta: delta / 2,
      participationRatio: participationRatio(sq),
      stableRank: stableRank(sq),
    });
  const epsTotal = bound(s);
  let hi = n;
  for (let r = 1; r <= n; r++) {
    if (s[r - 1] === 0) break;
    const fr = head[r] / total;
    if ((fr * (1 - bound(s.subarray(0, r)))) / (1 + epsTotal) >= target) {
      hi = r;
      break;
    }
  }
  let lo = n;
  for (let r = 0; r <= n; r++) {
    if (head[r] / total + energyFractionBound(pairwiseBound, r) >= target) {
      lo = r;
      break;
    }
  }
  return [Math.min(lo, hi), hi];
}
