/** @file Step labels of the heatmap's time axis, from the logged step numbers the server sends with each column
 * (`firstStep` / `lastStep` of the heatmap header): positions are not step numbers once steps with NaN/Inf
 * gradients were dropped by the analysis. A long run's columns may be buckets of several steps or windows (the
 * header's `bucketed`, `columnRange`): a label then names the range it averages. Pure code, tested in Node
 * (test/browser/steps.test.ts). */
import { bucketStart } from "../../src/core/decimate.ts";

/** The logged steps of each column: its first and last step, and how many step positions a window spans (1: the
 * columns are steps). */
export interface ColumnSteps {
  readonly first: readonly number[];
  readonly last: readonly number[];
  readonly span: number;
  /** The analysis columns (steps or windows) shown, [from, to), when they are not all of them from 0. */
  readonly range?: readonly [number, number];
  /** Each column averages a bucket of the analysis columns in `range` (contiguous, as the server cut them). */
  readonly bucketed?: boolean;
}

/** "step 12" for a per-step column, "window 3 (steps 8–15)" for a window; for a bucket, "steps 8–15" or
 * "windows 3–5 (steps 8–31)". */
export function columnLabel(c: ColumnSteps, col: number): string {
  const first = c.first[col] ?? col;
  const last = c.last[col] ?? first;
  const from = c.range?.[0] ?? 0;
  if (c.bucketed && c.range) {
    const n = c.first.length;
    const m = c.range[1] - c.range[0];
    const a = from + bucketStart(col, m, n);
    const b = from + bucketStart(col + 1, m, n) - 1;
    if (c.span === 1) return `steps ${first}–${last}`;
    return a === b ? `window ${a} (steps ${first}–${last})` : `windows ${a}–${b} (steps ${first}–${last})`;
  }
  return c.span === 1 ? `step ${first}` : `window ${from + col} (steps ${first}–${last})`;
}

/** First and last logged step of the columns a view shows (fractional column bounds [c0, c1)). */
export function stepRange(c: ColumnSteps, c0: number, c1: number): [number, number] {
  const n = c.first.length;
  if (n === 0) return [0, 0];
  const from = Math.min(n - 1, Math.max(0, Math.floor(c0)));
  const to = Math.min(n - 1, Math.max(from, Math.ceil(c1) - 1));
  return [c.first[from], c.last[to]];
}
