/** @file `gradtrace reproduce low-rank-gradients`: the experiments of Sonthalia, Murray & Montúfar ("Low rank
 * gradients and where to find them") as run (run.ts: spiked-lab configurations → records) → judge (judge.ts: a
 * verdict per claim from the records alone) → render (render.ts: markdown, SVG, JSON, CSV). Budgets are in plan.ts:
 * "smoke" (seconds, for the end-to-end test), "quick" (default; minutes, n 300), "full" (the paper's size and grids). */
import { readFileSync } from "node:fs";
import { GradtraceError } from "../../core/index.ts";
import {
  REPRODUCE_BUDGET_NAMES,
  type ReproduceBudget,
  type ReproduceOptions,
  type ReproduceResult,
} from "../types.ts";
import { judgeLowRankGradients, type LowRankVerdict } from "./judge.ts";
import { PLANS } from "./plan.ts";
import type { LowRankRecords } from "./records.ts";
import { renderLowRankGradients } from "./render.ts";
import { EXPERIMENT, runLowRankGradients } from "./run.ts";

export interface LowRankGradientsOptions extends ReproduceOptions {
  /** Judge and render the records of an earlier run (its data/low-rank-gradients.json) instead of running; the
   * budget is the one recorded there. */
  readonly records?: string;
}

export interface LowRankGradientsResult extends ReproduceResult {
  readonly verdicts: readonly LowRankVerdict[];
  /** Everything the verdicts were computed from (also written to data/low-rank-gradients.json). */
  readonly records: LowRankRecords;
}

/** Records written by an earlier run, checked to be this reproduction's. */
export function readRecords(file: string): LowRankRecords {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new GradtraceError(
      "E_ARG",
      `reproduce low-rank-gradients: cannot read records ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const rec = parsed as Partial<LowRankRecords> | null;
  if (rec?.experiment !== "low-rank-gradients" || !rec.groups || !rec.plan) {
    throw new GradtraceError(
      "E_ARG",
      `reproduce low-rank-gradients: ${file} is not a records file of this reproduction (expected "experiment": "low-rank-gradients" with plan and groups)`,
    );
  }
  return rec as LowRankRecords;
}

export async function reproduceLowRankGradients({
  outDir,
  budget = "quick",
  jobs = 2,
  queue,
  onProgress,
  records: recordsFile,
}: LowRankGradientsOptions): Promise<LowRankGradientsResult> {
  if (!REPRODUCE_BUDGET_NAMES.includes(budget)) {
    throw new GradtraceError(
      "E_ARG",
      `reproduceLowRankGradients: budget must be one of ${REPRODUCE_BUDGET_NAMES.join(", ")}, got "${budget}"`,
    );
  }
  const started = performance.now();
  const records = recordsFile
    ? readRecords(recordsFile)
    : await runLowRankGradients(PLANS[budget as ReproduceBudget], { jobs, queue, onProgress });
  onProgress?.({ experiment: EXPERIMENT, phase: "judge", done: 0, total: 1, message: "verdicts" });
  const verdicts = judgeLowRankGradients(records);
  onProgress?.({ experiment: EXPERIMENT, phase: "render", done: 0, total: 1, message: outDir });
  const seconds = (performance.now() - started) / 1000;
  const files = renderLowRankGradients(records, verdicts, outDir, {
    seconds: recordsFile ? records.seconds : seconds,
    rejudged: recordsFile !== undefined,
  });
  return {
    experiment: EXPERIMENT,
    budget: records.budget,
    seconds,
    verdicts,
    reportPath: files[0],
    files,
    records,
  };
}
