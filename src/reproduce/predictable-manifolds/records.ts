/** @file The records the run phase emits and the judge and renderer read: one `RunRecord` per training run (every
 * number a verdict needs, so judging never touches a trace), one `RunFailure` per diverged run. Plain JSON data:
 * the report's `predictable-manifolds.json` holds them verbatim. */
import type { OptimizerName } from "../../lab/index.ts";
import type { ModelCategory } from "./budget.ts";

export interface RunRecord {
  readonly model: string;
  readonly category: ModelCategory;
  readonly optimizer: OptimizerName;
  readonly seed: number;
  /** Gradients logged (T + 1: steps t = 0..T). */
  readonly steps: number;
  readonly batch: number;
  /** Every logged g_t is the exact gradient of the training loss (the batch is the whole fixed training set). */
  readonly fullBatch: boolean;
  readonly parameters: number;
  /** Wall time of this run in seconds: training (with trace writing), the analyses, and both with setup. */
  readonly seconds: { readonly train: number; readonly analyze: number; readonly total: number };
  readonly finalLoss: number;
  readonly finalMetric: number;
  /** Whole-model κ per predictor over t = 0..T (the paper's sums), and its 95 % block-bootstrap interval. */
  readonly kappa: Record<string, number>;
  readonly kappaCI?: Record<string, [number, number]>;
  /** ‖g_0‖²/Σ‖g_t‖²: the share of κ that is the unpredictable t = 0 term (m_0 = 0 for every predictor). */
  readonly kappaFloor: number;
  /** Eckart–Young oracle κ of the best rank-k increment predictor in hindsight, k = 0..32 (entry 0 = κ(last)). */
  readonly oracleKappa: number[];
  /** κ over time for the one-step and EMA predictors (windows of `size` steps starting at `starts`). */
  readonly windows: {
    readonly size: number;
    readonly starts: number[];
    readonly kappa: Record<string, number[]>;
  };
  /** r*(ε) of the increments, keyed by ε; effective and stable rank. */
  readonly predictableRank: Record<string, number>;
  readonly effectiveRank: number;
  readonly stableRank: number;
  /** r*(ε) of the increments of the first T' gradients, for T' in prefixSteps. */
  readonly prefixSteps: number[];
  readonly prefixRank: Record<string, number[]>;
  readonly sketched: SketchRecord;
  readonly bounds: BoundsRecord;
}

export interface SketchRecord {
  readonly spec: string;
  readonly kappa: Record<string, number>;
  readonly predictableRank: Record<string, number>;
  /** The sketch's stated relative error ε for every inner product of the T + 1 gradients, at 95 %. */
  readonly errorBound: number;
  /** Stated bound on |κ̃ − κ|/κ for predictors with fixed coefficients (ratio of two sums within ε: 2ε/(1−ε)). */
  readonly kappaBound: number;
  /** Predictors the κ bound applies to (coefficients not fitted from the sketched Gram). */
  readonly boundedPredictors: string[];
  /** Stated bracket [lo, hi] for the sketched r*(ε), keyed by ε (see judge.ts / sketchRankBracket). */
  readonly rankBracket: Record<string, [number, number]>;
}

export interface BoundsRecord {
  /** D·√P_T(m), D = 1 (tuned step), per predictor, and the worst case D·√Σ‖g‖². */
  readonly regret: Record<string, number>;
  readonly regretWorstCase: number;
  /** Theorem (i) over the class of all analyzed predictors: D·√(P*_T + 2E²·ln|M|). */
  readonly regretClass?: {
    readonly best: string;
    readonly bestPathLength: number;
    readonly selectionTerm: number;
    readonly regret: number;
    readonly classSize: number;
  };
  readonly nonconvexPathTerm: Record<string, number>;
  /** The nonconvex bound's exact-gradient assumption holds (full batch); false for minibatch traces. */
  readonly exactGradient: boolean;
}

export interface RunFailure {
  readonly model: string;
  readonly optimizer: OptimizerName;
  readonly seed: number;
  readonly message: string;
  readonly seconds: number;
}

/** What one training run is: the unit the run phase schedules. */
export interface RunPlan {
  readonly model: string;
  readonly optimizer: OptimizerName;
  readonly seed: number;
  readonly steps: number;
}
