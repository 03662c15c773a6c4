/** @file The one shape every reproduction shares (budget names, options, progress events, verdicts, result), so
 * the CLI, the queue (docs/distributed.md) and the dashboard treat `reproduce <name>` uniformly. Each
 * reproduction lives in src/reproduce/<name>/ as run (train / simulate, emit records) → judge (verdicts in the
 * paper's own terms, from the records alone) → render (markdown, SVG, JSON). */
import type { QueueOptions } from "../parallel/index.ts";

/** "smoke": seconds, for tests; "quick": minutes on 2 cores; "full": the papers' grid. */
export type ReproduceBudget = "smoke" | "quick" | "full";
export const REPRODUCE_BUDGET_NAMES: readonly ReproduceBudget[] = ["smoke", "quick", "full"];

export interface ReproduceOptions {
  /** Report folder: <outDir>/<name>.md, figures and data beside it. */
  readonly outDir: string;
  /** Default "quick". */
  readonly budget?: ReproduceBudget;
  /** Worker threads / processes for independent runs (default 2). */
  readonly jobs?: number;
  /** Run the independent runs as jobs on this Redis queue (docs/distributed.md), where the reproduction supports it. */
  readonly queue?: QueueOptions;
  readonly onProgress?: (event: ReproduceProgress) => void;
}

export interface ReproduceProgress {
  /** The reproduction's name, e.g. "predictable-manifolds". */
  readonly experiment: string;
  /** What is running: "train", "analyze", "figure-1", "judge", … */
  readonly phase: string;
  /** Units done and in all (runs, configurations); total 0 when unknown. */
  readonly done: number;
  readonly total: number;
  /** One line a person can read: "cnn/adam/seed 1", "ν = 0.25, seed 2". */
  readonly message: string;
}

/** "mixed": the criterion holds in some settings and fails in others (the evidence says which). */
export type Verdict = "confirmed" | "partially confirmed" | "mixed" | "not confirmed";

export interface ClaimVerdict {
  /** The paper's claim, in its own words where possible. */
  readonly claim: string;
  /** The measurable criterion the verdict is judged on, in the paper's quantities. */
  readonly criterion: string;
  readonly verdict: Verdict;
  /** The numbers behind the verdict, with seeds and intervals. */
  readonly evidence: string;
}

export interface ReproduceResult {
  readonly experiment: string;
  readonly budget: ReproduceBudget;
  readonly seconds: number;
  readonly verdicts: readonly ClaimVerdict[];
  /** The markdown report, then every other file written. */
  readonly reportPath: string;
  readonly files: readonly string[];
}
