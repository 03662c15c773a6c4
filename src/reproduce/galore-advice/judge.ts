/** @file Verdicts of `reproduce galore-advice`, from the records alone. The claim under test is the advisor's own:
 * at equal optimizer memory, per-layer (r, Δ) chosen from a pilot run's captured gradient energy train to a lower
 * loss than one uniform (r, Δ). Seeds share initialisation and batches across arms, so the comparison is paired:
 * the per-seed difference of final losses, with a Student-t interval over seeds. */
import { fmtNum, type MeanInterval, meanInterval } from "../../core/index.ts";
import type { ClaimVerdict, Verdict } from "../types.ts";
import type { Arm, ModelRecords } from "./run.ts";

export interface ArmSummary {
  readonly arm: Arm;
  readonly finalLoss: MeanInterval;
  readonly memory: number;
  readonly evalMetric: MeanInterval | null;
}

export function armSummary(m: ModelRecords, arm: Arm): ArmSummary {
  const runs = m.runs.filter((r) => r.arm === arm);
  const metrics = runs.flatMap((r) => (r.evalMetric === null ? [] : [r.evalMetric]));
  return {
    arm,
    finalLoss: meanInterval(runs.map((r) => r.finalLoss)),
    memory: m.memory[arm],
    evalMetric: metrics.length === runs.length && runs.length > 0 ? meanInterval(metrics) : null,
  };
}

/** Per-seed final loss of `a` minus that of `b`, with its interval. */
export function pairedDifference(m: ModelRecords, a: Arm, b: Arm): MeanInterval & { readonly seeds: number } {
  const seeds = [...new Set(m.runs.map((r) => r.seed))].sort((x, y) => x - y);
  const diffs = seeds.flatMap((s) => {
    const ra = m.runs.find((r) => r.seed === s && r.arm === a);
    const rb = m.runs.find((r) => r.seed === s && r.arm === b);
    return ra && rb ? [ra.finalLoss - rb.finalLoss] : [];
  });
  return { ...meanInterval(diffs), seeds: diffs.length };
}

function ci(x: MeanInterval): string {
  return `${fmtNum(x.mean, 4)} [${fmtNum(x.lo, 4)}, ${fmtNum(x.hi, 4)}]`;
}

function adviceVsUniform(m: ModelRecords): ClaimVerdict {
  const d = pairedDifference(m, "advice", "uniform");
  const projected = m.layers.filter((l) => l.projected).length;
  let verdict: Verdict;
  let reading: string;
  if (projected === 0) {
    verdict = "not confirmed";
    reading =
      "the advice projected no layer (nothing on the grid reached the target at less memory), so there is no low-rank setting to compare";
  } else if (d.hi < 0) {
    verdict = "confirmed";
    reading = "the advice trains to a lower loss than the uniform setting on every reading of the interval";
  } else if (d.lo > 0) {
    verdict = "not confirmed";
    reading = "the uniform setting trains to a lower loss than the advice";
  } else {
    verdict = "not confirmed";
    reading = "no difference the seeds can resolve";
  }
  return {
    claim: `${m.model}: at equal optimizer memory, the per-layer advice beats one uniform (r, Δ)`,
    criterion:
      "paired difference of final training loss (advice − uniform; mean of the last 10% of steps, same batches), 95% Student-t interval over seeds entirely below 0",
    verdict,
    evidence:
      `advice − uniform = ${ci(d)} over ${d.seeds} seeds (${reading}); memory: advice ${fmtNum(m.memory.advice)}, ` +
      `uniform r = ${m.uniform.rank}, Δ = ${m.uniform.interval}: ${fmtNum(m.memory.uniform)} numbers; ` +
      `${projected} of ${m.layers.length} matrix layers projected by the advice.`,
  };
}

function adviceVsAdam(m: ModelRecords): ClaimVerdict {
  const d = pairedDifference(m, "advice", "adam");
  const adam = armSummary(m, "adam").finalLoss.mean;
  const tolerance = 0.05 * Math.abs(adam);
  const verdict: Verdict =
    d.hi <= tolerance ? "confirmed" : d.lo > tolerance ? "not confirmed" : "partially confirmed";
  return {
    claim: `${m.model}: the advice keeps full Adam's loss at a fraction of its optimizer memory`,
    criterion:
      "paired difference advice − full Adam in final loss, 95% interval below 5% of full Adam's final loss",
    verdict,
    evidence:
      `advice − Adam = ${ci(d)} (5% of Adam's loss: ${fmtNum(tolerance, 3)}); memory ${fmtNum(m.memory.advice)} vs ` +
      `${fmtNum(m.memory.adam)} numbers (${fmtNum((100 * m.memory.advice) / m.memory.adam, 3)}%).`,
  };
}

export function judgeGaloreAdvice(models: readonly ModelRecords[]): ClaimVerdict[] {
  return models.flatMap((m) => [adviceVsUniform(m), adviceVsAdam(m)]);
}
