/** @file Task module of the reproduction's run pool (run.ts `runGrid`), run in the project's worker threads
 * (src/parallel): one training run, exactly as `runOne` runs it in the caller's thread. */
import type { RunFailure, RunPlan, RunRecord } from "./records.ts";
import { type RunOptions, runOne } from "./run.ts";

export function runPlan(plan: RunPlan, options: RunOptions): Promise<RunRecord | RunFailure> {
  return runOne(plan, options);
}
