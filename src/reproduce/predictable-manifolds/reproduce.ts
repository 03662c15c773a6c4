/** @file Reproduction of Calvo's "predictable gradient manifolds" findings on the model zoo, in the shared shape of
 * src/reproduce/types.ts: run (run.ts: train every model × optimizer × seed of a budget, analyze each trace exactly
 * and through a random sketch, keep a record per run) → judge (judge.ts: one verdict per claim with its criterion,
 * from the records alone) → render (render.ts: Markdown report, JSON records, SVG figures). */
import { mkdirSync, readFileSync } from "node:fs";
import { GradtraceError } from "../../core/index.ts";
import type { ReproduceBudget, ReproduceOptions, ReproduceResult } from "../types.ts";
import { PREDICTABLE_MANIFOLDS_BUDGETS } from "./budget.ts";
import { type CellSummary, judge } from "./judge.ts";
import type { RunFailure, RunRecord } from "./records.ts";
import { renderReport } from "./render.ts";
import { EXPERIMENT, isFailure, planRuns, runGrid } from "./run.ts";

export interface PredictableManifoldsOptions extends ReproduceOptions {
  /** Scratch folder for the traces (default: a fresh temp folder per run, removed afterwards). */
  readonly workDir?: string;
  /** Keep every run's trace in workDir (several GB for the full budget). */
  readonly keepTraces?: boolean;
  /** A predictable-manifolds.json written by an earlier run: skip the run phase, judge and render its records again
   * (budget, grid, jobs and wall time are the recorded ones). */
  readonly records?: string;
}

interface SavedRecords {
  readonly experiment: string;
  readonly budget: ReproduceBudget;
  readonly seconds: number;
  readonly jobs: number;
  readonly runs: RunRecord[];
  readonly failures: RunFailure[];
}

/** JSON writes non-finite numbers as null; the records use NaN for "not available". */
function readRecords(path: string): SavedRecords {
  let saved: SavedRecords;
  try {
    saved = JSON.parse(readFileSync(path, "utf8"), (_, v) => (v === null ? Number.NaN : v)) as SavedRecords;
  } catch (err) {
    throw new GradtraceError(
      "E_FORMAT",
      `--records ${path}: not a readable JSON file (${(err as Error).message})`,
    );
  }
  if (
    saved.experiment !== EXPERIMENT ||
    !Array.isArray(saved.runs) ||
    !(saved.budget in PREDICTABLE_MANIFOLDS_BUDGETS)
  ) {
    throw new GradtraceError(
      "E_FORMAT",
      `--records ${path}: expected the ${EXPERIMENT}.json of an earlier run (fields experiment, budget, runs)`,
    );
  }
  return saved;
}

export interface PredictableManifoldsResult extends ReproduceResult {
  readonly runs: readonly RunRecord[];
  /** Runs that stopped on a non-finite loss or gradient (diverged at the model's default learning rate). */
  readonly failures: readonly RunFailure[];
  readonly cells: readonly CellSummary[];
}

export async function reproducePredictableManifolds({
  outDir,
  budget = "quick",
  jobs = 2,
  queue,
  onProgress,
  workDir,
  keepTraces = false,
  records,
}: PredictableManifoldsOptions): Promise<PredictableManifoldsResult> {
  const spec = PREDICTABLE_MANIFOLDS_BUDGETS[budget];
  if (spec === undefined) {
    throw new GradtraceError(
      "E_ARG",
      `reproduce ${EXPERIMENT}: unknown budget "${budget}" (expected smoke, quick or full)`,
    );
  }
  if (!(Number.isInteger(jobs) && jobs >= 1)) {
    throw new GradtraceError("E_ARG", `reproduce ${EXPERIMENT}: jobs must be an integer ≥ 1, got ${jobs}`);
  }
  mkdirSync(outDir, { recursive: true });
  const start = performance.now();
  const saved = records === undefined ? null : readRecords(records);
  let runs: RunRecord[];
  let failures: RunFailure[];
  if (saved) {
    ({ runs, failures } = saved);
  } else {
    const outcomes = await runGrid(planRuns(spec), { jobs, queue, onProgress, workDir, keepTraces });
    runs = outcomes.filter((o): o is RunRecord => !isFailure(o));
    failures = outcomes.filter(isFailure);
  }
  onProgress?.({ experiment: EXPERIMENT, phase: "judge", done: 0, total: 1, message: "verdicts" });
  const { cells, verdicts } = judge(runs);
  onProgress?.({ experiment: EXPERIMENT, phase: "render", done: 0, total: 1, message: "report" });
  const seconds = saved ? saved.seconds : (performance.now() - start) / 1000;
  const used = saved ? { budget: saved.budget, jobs: saved.jobs } : { budget, jobs };
  const files = renderReport(outDir, {
    ...used,
    spec: PREDICTABLE_MANIFOLDS_BUDGETS[used.budget],
    seconds,
    runs,
    failures,
    cells,
    verdicts,
  });
  return {
    experiment: EXPERIMENT,
    budget: used.budget,
    seconds,
    verdicts,
    reportPath: files[0],
    files,
    runs,
    failures,
    cells,
  };
}
