/** @file The plain-language reading of an analysis: one paragraph a practitioner can act on. */
import { fmtNum } from "../core/index.ts";
import type { TensorResult } from "./types.ts";

/** The t = 0 term "dominates" κ(m) when it is at least this share of P_T(m). */
export const INITIAL_TERM_DOMINANCE = 0.5;

/** Share of P_T(m) that is the unpredictable t = 0 term ‖g_0‖² (m_0 = 0 for every predictor): kappaFloor / κ(m).
 * 0 with a burn-in (the term is not in the sums); NaN when κ(m) is not a positive number. */
export function initialTermShare(r: TensorResult, id: string): number {
  const k = r.kappa[id];
  const floor = r.kappaFloor ?? Number.NaN;
  if (floor === 0) return 0;
  return k > 0 && Number.isFinite(floor) ? floor / k : Number.NaN;
}

/** True when the t = 0 term is at least INITIAL_TERM_DOMINANCE of P_T(m): then κ(m) says more about ‖g_0‖² than
 * about how well m predicts (κ(m) ≤ 2·kappaFloor). */
export function initialTermDominates(r: TensorResult, id: string): boolean {
  return initialTermShare(r, id) >= INITIAL_TERM_DOMINANCE;
}

/** The predictor with the smallest κ (ties: first listed). */
export function bestPredictor(r: TensorResult): string | null {
  let best: string | null = null;
  for (const [id, k] of Object.entries(r.kappa)) {
    if (id === "zero" || !Number.isFinite(k)) continue;
    if (best === null || k < r.kappa[best]) best = id;
  }
  return best;
}

function kappaText(r: TensorResult, id: string): string {
  const ci = r.kappaCI?.[id];
  const half = ci ? (ci[1] - ci[0]) / 2 : null;
  return `κ = ${fmtNum(r.kappa[id])}${half !== null && Number.isFinite(half) ? ` ± ${fmtNum(half, 2)}` : ""}`;
}

function reading(k: number): string {
  if (k < 0.3) return "the gradients are highly predictable";
  if (k < 0.8) return "the gradients are partly predictable";
  if (k <= 1.05)
    return "the gradients are tracked at the right scale, but barely better than by predicting zero";
  return "even the best predictor does worse than predicting zero (oscillation or noise)";
}

export function summarize(
  total: TensorResult,
  tensors: readonly TensorResult[],
  eps: readonly number[],
  burnIn = 0,
): string {
  const parts: string[] = [];
  const best = bestPredictor(total);
  const e = String(eps[0] ?? 0.1);
  const span =
    burnIn > 0
      ? `Over steps ${burnIn}..${total.steps - 1} (the first ${burnIn} left out by the burn-in)`
      : `Over ${total.steps} steps`;
  if (best) {
    parts.push(
      `${span} the best predictor of the whole-model gradient is ${best}, ${kappaText(total, best)} (κ = 1: predicting zero): ${reading(total.kappa[best])}.`,
    );
  }
  const dominated = Object.keys(total.kappa).filter((id) => id !== "zero" && initialTermDominates(total, id));
  if (dominated.length > 0) {
    parts.push(
      `The t = 0 term ‖g_0‖² (no history, so m_0 = 0 for every predictor) is ${fmtNum(total.kappaFloor ?? Number.NaN)} of Σ‖g_t‖² and at least half of P_T for ${dominated.join(", ")}: their κ is dominated by it (no predictor can go below κ = ${fmtNum(total.kappaFloor ?? Number.NaN)}); --burn-in 1 leaves it out.`,
    );
  }
  if ("last" in total.kappa && total.kappa.last > 1) {
    parts.push(
      `The one-step predictor has κ = ${fmtNum(total.kappa.last)} > 1: consecutive gradients disagree (minibatch noise or oscillation).`,
    );
  }
  const r = total.predictableRank[e];
  const bound = total.increments.bound?.predictableRank[e];
  const increments = Math.max(0, total.steps - Math.max(1, burnIn));
  const pct = Math.round((1 - Number(e)) * 100);
  if (r !== undefined && bound && bound[0] !== bound[1]) {
    parts.push(
      `The ${increments} increments g_t − g_{t−1} hold ${pct} % of their energy in at most ${r} directions (r*(${e}) ∈ [${bound[0]}, ${bound[1]}], certified by a Frequent Directions sketch over time with ${total.increments.bound!.rows} rows; sketch effective rank ${fmtNum(total.effectiveRank)}, stable rank ≤ ${fmtNum(total.stableRank)}).`,
    );
  } else if (r !== undefined) {
    parts.push(
      `The ${increments} increments g_t − g_{t−1} hold ${pct} % of their energy in ${r} direction${r === 1 ? "" : "s"} (r*(${e}); effective rank ${fmtNum(total.effectiveRank)}, stable rank ${fmtNum(total.stableRank)}).`,
    );
  }
  const ranked = tensors
    .filter((t) => bestPredictor(t) !== null)
    .map((t) => ({ t, id: bestPredictor(t)! }))
    .sort((a, b) => a.t.kappa[a.id] - b.t.kappa[b.id]);
  if (ranked.length > 1) {
    const lo = ranked[0];
    const hi = ranked[ranked.length - 1];
    parts.push(
      `Most predictable tensor: ${lo.t.name} (${lo.id}, ${kappaText(lo.t, lo.id)}); least: ${hi.t.name} (${hi.id}, ${kappaText(hi.t, hi.id)}).`,
    );
  }
  const sk = total.sketch;
  if (sk) {
    const measured = sk.measuredError
      ? ` Measured κ error against exact on the first steps: ${Object.entries(sk.measuredError)
          .filter(([id]) => id !== "zero")
          .map(([id, e]) => `${id} ${fmtNum(e)}`)
          .join(", ")}.`
      : "";
    const how = sk.confidence >= 1 ? "deterministically" : `with probability ${sk.confidence}`;
    const bounded = Object.entries(sk.kappaBound ?? {}).filter(
      ([id]) => id !== "zero" && (id === best || id === "last"),
    );
    const kappaBounds =
      bounded.length > 0
        ? ` κ is within ${bounded.map(([id, e]) => `±${fmtNum(100 * e, 2)}% (${id})`).join(", ")} of its exact value ${how}.`
        : "";
    parts.push(
      `These numbers come from a ${sk.kind} sketch (k = ${sk.k}): inner products are within ${fmtNum(sk.errorBound)} (relative) ${how}.${kappaBounds}${measured}`,
    );
  }
  return parts.join(" ");
}
