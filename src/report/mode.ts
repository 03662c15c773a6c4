/** @file One sentence saying which analysis mode produced a result and which bounds apply — the same words in the
 * terminal table's header line and in the HTML report. */
import type { AnalysisResult } from "../analysis/index.ts";
import { fmtNum } from "../core/index.ts";

export function modeDescription(result: AnalysisResult): string {
  const t = result.trace.steps;
  const max = result.options.exactMaxSteps;
  const why =
    result.options.mode === "auto" && max !== undefined
      ? ` (T = ${t} ${t <= max ? "≤" : ">"} ${max}, chosen automatically)`
      : result.options.mode && result.options.mode !== "auto"
        ? ` (T = ${t}, requested)`
        : "";
  if (result.mode !== "streaming") {
    return `exact mode${why}: every number from each tensor's T×T Gram.`;
  }
  const inc = result.total.increments;
  const b = inc.bound;
  const e = String(result.options.eps[0]);
  const interval = b?.predictableRank[e];
  const rel = b && b.frobeniusSq > 0 ? b.delta / b.frobeniusSq : 0;
  const n = result.options.stepRanges;
  const ranges =
    n !== undefined
      ? `${n} step ranges on the job queue, merged (series bit for bit; the ranges' sketches merged, their bounds added)`
      : "one pass over time";
  return (
    `streaming mode${why}: ${ranges}; κ of every predictor and windowed κ, r*(ε) exact; whole-run ` +
    `r*(ε), effective and stable rank from Frequent Directions sketches over time (ℓ = ${b?.rows ?? result.options.fdRows}), ` +
    `r*(ε) reported as the certified upper bound` +
    (interval ? ` (total r*(${e}) ∈ [${interval[0]}, ${interval[1]}]` : "") +
    (b ? `, ‖HᵀH − BᵀB‖₂ ≤ Δ = ${fmtNum(rel)}·‖H‖_F²)` : interval ? ")" : "") +
    "."
  );
}
