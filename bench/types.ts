/** @file The row every benchmark returns. A ratio is always against a reference measured in the same run, so the
 * figures mean the same on any machine. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** value / reference (or reference / value for times), measured in the same run. */
  readonly ratio?: number;
  /** What the ratio is against. */
  readonly reference?: string;
  /** Target, e.g. "≥ 0.7". */
  readonly target?: string;
  readonly note?: string;
}
