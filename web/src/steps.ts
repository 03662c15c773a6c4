/** @file Step labels of the heatmap's time axis, from the logged step numbers the server sends with each column
 * (`firstStep` / `lastStep` of the heatmap header): positions are not step numbers once steps with NaN/Inf
 * gradients were dropped by the analysis. Pure code, tested in Node (test/browser/steps.test.ts). */

/** The logged steps of each column: its first and last step, and how many step positions a column spans. */
export interface ColumnSteps {
  readonly first: readonly number[];
  readonly last: readonly number[];
  readonly span: number;
}

/** "step 12" for a per-step column, "window 3 (steps 8–15)" for a window. */
export function columnLabel(c: ColumnSteps, col: number): string {
  const first = c.first[col] ?? col;
  return c.span === 1 ? `step ${first}` : `window ${col} (steps ${first}–${c.last[col] ?? first})`;
}

/** First and last logged step of the columns a view shows (fractional column bounds [c0, c1)). */
export function stepRange(c: ColumnSteps, c0: number, c1: number): [number, number] {
  const n = c.first.length;
  if (n === 0) return [0, 0];
  const from = Math.min(n - 1, Math.max(0, Math.floor(c0)));
  const to = Math.min(n - 1, Math.max(from, Math.ceil(c1) - 1));
  return [c.first[from], c.last[to]];
}
