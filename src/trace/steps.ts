/** @file Step bookkeeping shared by every layout: parsing `step_<n>` names (any zero padding), numeric ordering
 * (step_10 after step_9), duplicate detection, and the missing-step policy (gaps are problems, not errors). */

import { GradtraceError } from "../core/index.ts";
import type { TraceProblem } from "./types.ts";

/** Parses the step number out of `name` with the given suffix (e.g. ".safetensors", or "" for directories). */
export function parseStepName(name: string, suffix: string): number | null {
  if (!name.startsWith("step_") || !name.endsWith(suffix)) return null;
  const digits = name.slice(5, name.length - suffix.length);
  if (!/^[0-9]+$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

export interface StepEntry {
  readonly step: number;
  readonly name: string;
}

/** Sorts step entries numerically; two names for one step (step_1 and step_0001) are an E_FORMAT error. */
export function sortSteps(entries: StepEntry[], where: string): StepEntry[] {
  const sorted = [...entries].sort((a, b) => a.step - b.step);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].step === sorted[i - 1].step) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: step ${sorted[i].step} appears twice (${sorted[i - 1].name} and ${sorted[i].name})`,
      );
    }
  }
  return sorted;
}

/**
 * Reports gaps in ascending step numbers. The logging stride is taken as the most common difference between
 * consecutive steps (a run that logs every 10 steps has no gaps at 0, 10, 20); any larger difference is a gap.
 */
export function findMissingSteps(steps: readonly number[], file: string): TraceProblem[] {
  if (steps.length < 2) return [];
  const counts = new Map<number, number>();
  for (let i = 1; i < steps.length; i++) {
    const d = steps[i] - steps[i - 1];
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let stride = 0;
  let best = -1;
  for (const [d, c] of counts) {
    if (c > best || (c === best && d < stride)) {
      best = c;
      stride = d;
    }
  }
  const problems: TraceProblem[] = [];
  for (let i = 1; i < steps.length; i++) {
    const d = steps[i] - steps[i - 1];
    if (d > stride) {
      const first = steps[i - 1] + stride;
      const last = steps[i] - stride;
      const missing = Math.max(1, Math.round((steps[i] - steps[i - 1]) / stride) - 1);
      problems.push({
        kind: "missing-step",
        step: first,
        file,
        message:
          first >= last
            ? `step ${first} is missing (logging stride ${stride})`
            : `steps ${first}..${last} are missing (${missing} step(s) at logging stride ${stride})`,
      });
    }
  }
  return problems;
}

/** Strict mode: damage a reader found while opening (a record skipped because it fails its checksum) is an error
 * (E_CHECKSUM) naming it, instead of a reported problem. */
export function refuseCorruption(problems: readonly TraceProblem[], what: string): void {
  const bad = problems.find((p) => p.kind === "corrupt-record");
  if (bad) throw new GradtraceError("E_CHECKSUM", `${what} (strict): ${bad.message}`);
}
