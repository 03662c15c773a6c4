/** @file How the passes over a trace treat data that fails its checksum: a reader throws `CorruptDataError` for
 * that (step, tensor); the pass notes the step (it is then excluded from every metric, like a NaN/Inf step, but
 * reported as corruption) and goes on — or, in strict mode, lets the error end the analysis (exit 3). */

import { CorruptDataError } from "../core/index.ts";
import type { AnalysisProblem } from "./types.ts";

/** A step position excluded because some of its data failed a checksum. */
export interface CorruptStep {
  readonly position: number;
  readonly step: number;
  readonly tensor: string;
  readonly file: string;
  readonly message: string;
}

/** The corruption `err` describes at step position `position`; any other error (or any error when `strict`) is
 * rethrown. */
export function corruptStepOf(err: unknown, position: number, strict: boolean): CorruptStep {
  if (strict || !(err instanceof CorruptDataError)) throw err;
  return { position, step: err.step, tensor: err.tensor, file: err.file, message: err.message };
}

/** Problem entries listed one per excluded step; beyond this, one entry sums up the rest. */
const LISTED = 100;

/** `corrupt-record` problems for the excluded steps, in step order. */
export function corruptionProblems(corrupt: readonly CorruptStep[]): AnalysisProblem[] {
  const sorted = [...corrupt].sort((a, b) => a.position - b.position);
  const out: AnalysisProblem[] = sorted.slice(0, LISTED).map((c) => ({
    kind: "corrupt-record",
    step: c.step,
    tensor: c.tensor,
    file: c.file,
    message: `${c.message}; step ${c.step} excluded`,
  }));
  const rest = sorted.slice(LISTED);
  if (rest.length > 0) {
    out.push({
      kind: "corrupt-record",
      step: rest[0].step,
      message: `${rest.length} more step(s) with corrupt data excluded: ${rest
        .slice(0, 10)
        .map((c) => `${c.step} (${c.tensor})`)
        .join(", ")}${rest.length > 10 ? ", …" : ""}`,
    });
  }
  return out;
}
