/** @file The analysis result: what `analyze()` returns, what `gradtrace analyze --json` writes (schemaVersion 1),
 * what the HTML report and the dashboard display. One concept, one name: pathLength, kappa, predictableRank,
 * effectiveRank, stableRank. Documented for users in docs/json-schema.md. */

import type { SpectrumBound } from "../core/index.ts";

/** 2: `trace.problems` are objects with a `kind` (was: strings), so corruption is told apart from NaN/Inf. */
export const SCHEMA_VERSION = 2;

/** One thing found wrong with the trace and worked around (or, under `strict`, refused). `kind`:
 * - `corrupt-record`: data failed its checksum (a gtrace record or payload, a zip member); the step was excluded;
 * - `truncated-record`: the last record was incomplete (a run killed mid-write) and skipped;
 * - `missing-step`: a gap in the logged steps;
 * - `nonfinite`: steps whose gradients hold NaN/Inf (as logged, checksums intact) were excluded;
 * - `other`. */
export interface AnalysisProblem {
  readonly kind: "truncated-record" | "missing-step" | "corrupt-record" | "nonfinite" | "other";
  readonly message: string;
  /** Step (as logged) concerned; for `nonfinite`, the first of the excluded steps. */
  readonly step?: number;
  readonly tensor?: string;
  readonly file?: string;
}

/** κ and r*(ε) over sliding windows of `size` steps starting at `starts` (step positions). */
export interface WindowedKappa {
  readonly size: number;
  readonly starts: number[];
  /** Keyed by predictor id, one value per window. */
  readonly kappa: Record<string, number[]>;
  /** r*(ε) of the increments inside each window, keyed by String(ε) for every analyzed ε, one value per window
   * (NaN for a window of fewer than two steps, which has no increments). */
  readonly predictableRank: Record<string, number[]>;
}

export interface SpectrumSummary {
  /** Top singular values (descending), at most 32. */
  readonly singularValues: number[];
  /** Keyed by ε as a string, e.g. "0.1". */
  readonly predictableRank: Record<string, number>;
  readonly effectiveRank: number;
  readonly stableRank: number;
  readonly participationRatio: number;
  /** r*(ε) curve: ranks at the listed ε values (ascending ε). */
  readonly rankCurve: { eps: number[]; rank: number[] };
  /** Eckart–Young oracle (Theorem iii): path length left by the best rank-k predictor of the increments in
   * hindsight, k = 0..len-1, including the unpredictable t = 0 term ‖g_0‖² when the sums start at t = 0 — so entry 0
   * equals P_T(last) exactly (empty for the gradient spectrum's own oracle, which has no such meaning). */
  readonly oracleRankPathLength: number[];
  /** Streaming mode: the spectrum comes from a Frequent Directions sketch over time; what it guarantees. */
  readonly bound?: SpectrumBound;
}

/** Deterministic guarantees of a Frequent Directions sketch of a whole-run matrix H (rows = steps): defined in the
 * core (spectrum.ts), where the bounds are computed. */
export type { SpectrumBound } from "../core/index.ts";

/** "exact": one T×T Gram per tensor (coordinate-blocked pass; O(T²) memory, O(T²·p) work plus the spectra).
 * "streaming": one pass over time (O(T·window·p) work, memory independent of T); κ is exact, whole-run spectra
 * carry Frequent Directions bounds (SpectrumSummary.bound). */
export type AnalysisMode = "exact" | "streaming";

export interface TensorResult {
  readonly name: string;
  readonly shape: number[];
  readonly numel: number;
  readonly steps: number;
  /** Keyed by predictor id: zero, last, ema0.5, ema0.9, ema0.99, linear, ar2, lowrank4w16, ... */
  readonly kappa: Record<string, number>;
  /** 95% block-bootstrap interval for κ, keyed like kappa (absent when bootstrap is off). */
  readonly kappaCI?: Record<string, [number, number]>;
  readonly pathLength: Record<string, number>;
  /** Σ_t ‖g_t‖². */
  readonly gradNormSq: number;
  /** ‖g_t‖ per step position (for the trend column and charts). */
  readonly gradNorm: number[];
  /** Mean cosine between consecutive gradients, and between g_t and each predictor's m_t (t ≥ 1). */
  readonly cosineConsecutive: number;
  readonly cosinePredicted: Record<string, number>;
  /** Spectrum of the increment matrix H = [g_t − g_{t−1}] (the "predictable rank" object). */
  readonly predictableRank: Record<string, number>;
  readonly effectiveRank: number;
  readonly stableRank: number;
  readonly singularValues: number[];
  readonly increments: SpectrumSummary;
  /** Spectrum of the gradient matrix G = [g_0 … g_T] itself. */
  readonly gradients: SpectrumSummary;
  readonly windows?: WindowedKappa;
  /** κ of the Eckart–Young oracle: increments.oracleRankPathLength[k] / Σ‖g_t‖², k = 0..len-1 (entry 0 = κ(last)).
   * The best any rank-k predictor of the increments could do in hindsight, shown beside the online predictors' κ. */
  readonly oracleKappa?: number[];
  /** ‖g_0‖² / Σ_t ‖g_t‖²: the part of every predictor's κ that is the unpredictable t = 0 term (m_0 = 0 for every
   * predictor), i.e. the smallest κ any predictor can reach; 0 with a burn-in. κ(m) is *dominated by the t = 0 term*
   * when that term is at least half of P_T(m), i.e. κ(m) ≤ 2·kappaFloor (see initialTermDominates). */
  readonly kappaFloor?: number;
  /** For matrix-shaped tensors when requested: spectrum of the per-step gradient matrix and subspace drift. */
  readonly matrix?: MatrixGeometry;
  /** Present when the numbers come from sketched vectors. */
  readonly sketch?: SketchReport;
}

export interface MatrixGeometry {
  readonly rows: number;
  readonly cols: number;
  /** Step positions at which the per-step spectrum was computed. */
  readonly at: number[];
  /** Top singular values of ∇W at each of those steps. */
  readonly singularValues: number[][];
  readonly effectiveRank: number[];
  readonly stableRank: number[];
  /** Stale-projector energy: fraction of ‖g_{t+Δ}‖² captured by the rank-k left projector of step t, averaged over t. */
  readonly staleEnergy: { k: number; delta: number[]; energy: number[] };
  /** Subspace drift between the top-k left subspaces U_t and U_{t+Δ}: 1 − ‖U_tᵀU_{t+Δ}‖_F²/k (the mean squared sine
   * of their principal angles; 0 = same subspace, 1 = orthogonal), averaged over t. */
  readonly drift?: { k: number; delta: number[]; value: number[] };
  /** Where the numbers come from: the full gradients ("exact") or the logged range sketches Y_t = G_t·Ω ("rangeSketch",
   * randomized range finder). */
  readonly source?: "exact" | "rangeSketch";
  /** Range-sketch estimates only: the stated error (half-width) of every number above, same layout. */
  readonly error?: MatrixGeometryError;
}

/** Error of range-sketch geometry: jackknife over the s columns of Ω (leave one out, rescaled), |bias| + 2·sd — an a
 * posteriori estimate of the sketch's error with ≈95% coverage (measured against full-gradient runs in the tests), not
 * a worst-case bound. */
export interface MatrixGeometryError {
  readonly method: "jackknife";
  /** Columns of Ω. */
  readonly s: number;
  readonly singularValues: number[][];
  readonly effectiveRank: number[];
  readonly stableRank: number[];
  readonly staleEnergy: number[];
  readonly drift: number[];
}

export interface SketchReport {
  readonly kind: string;
  readonly k: number;
  readonly seed: number;
  /** Stated relative error bound on squared norms / inner products at the reported confidence. */
  readonly errorBound: number;
  readonly confidence: number;
  /** Measured |sketched − exact| / exact of κ on a sub-sample where the exact value was computable. */
  readonly measuredError?: Record<string, number>;
  /** Relative error bound of the path length P_T per predictor, at `confidence` (predictors with fixed coefficients
   * only; analysis/sketchBounds.ts). The regret bound (∝ √P_T) and the nonconvex path term (∝ P_T) inherit it. */
  readonly pathLengthBound?: Record<string, number>;
  /** Relative error bound of κ per predictor, at `confidence` (fixed-coefficient predictors; 0 for zero). */
  readonly kappaBound?: Record<string, number>;
  /** Relative error bound of any one windowed κ of a fixed-coefficient predictor, at `confidence`. */
  readonly windowKappaBound?: number;
  /** Keyed by ε: r*(ε) of the exact increments is at least this, at `confidence`. */
  readonly predictableRankLowerBound?: Record<string, number>;
}

export interface BoundsReport {
  /** Optimistic OGD regret bound D·√P_T(m) (tuned step) with D = 1 (scale by your domain diameter), per predictor. */
  readonly regret: Record<string, number>;
  /** Worst-case D·sqrt(Σ‖g‖²); ratio regret/worst = sqrt(κ). */
  readonly regretWorstCase: number;
  /** Theorem (i) for the class of all analyzed predictors: D·√(P*_T + 2E²·ln|M|) with D = 1 (see BOUND_STATEMENTS). */
  readonly regretClass?: {
    readonly predictors: string[];
    /** The predictor with the smallest P_T in hindsight and that P*_T. */
    readonly best: string;
    readonly bestPathLength: number;
    /** E²: the largest per-step error ‖g_t − m_t‖² of any predictor of the class (inside the sums). */
    readonly maxErrorSq: number;
    /** 2E²·ln|M|, the cost of selecting within the class. */
    readonly selectionTerm: number;
    readonly regret: number;
  };
  /** The path-length term P_T/T of the nonconvex bound (1/T)Σ‖∇f‖² ≤ 2(f(x0)−f_inf)/(ηT) + P_T/T. */
  readonly nonconvexPathTerm: Record<string, number>;
  /** Whether the caller stated that every g_t is the exact gradient ∇f(x_t) (absent: unknown). */
  readonly exactGradient?: boolean;
  /** The bounds as printed, one statement each (regret, class regret, nonconvex). */
  readonly statements?: string[];
  readonly assumptions: string[];
}

export interface AnalysisResult {
  readonly schemaVersion: number;
  /** Which path ran (chosen by AnalyzeOptions.mode; "auto" picks exact up to exactMaxSteps steps). */
  readonly mode: AnalysisMode;
  readonly trace: {
    path: string;
    format: string;
    steps: number;
    tensors: number;
    /** What was found wrong and worked around: corrupt data (excluded), truncated tail, gaps, NaN/Inf steps. */
    problems: AnalysisProblem[];
    /** Steps left out of every metric: with NaN/Inf gradients, and with data failing its checksum. */
    excludedSteps: { nonfinite: number; corrupt: number };
  };
  readonly options: {
    predictors: string[];
    eps: number[];
    window: number;
    bootstrap: boolean;
    sketch?: string;
    /** The requested mode ("auto" unless set) and the auto threshold. */
    mode?: "auto" | AnalysisMode;
    exactMaxSteps?: number;
    /** Frequent Directions rows ℓ of the whole-run spectra (streaming mode only). */
    fdRows?: number;
    /** Step ranges the streaming mode was cut into on the job queue (absent: one pass), their Frequent Directions
     * sketches merged (the bound adds up; docs/distributed.md). */
    stepRanges?: number;
    /** Steps left out at the start of every sum (0 or absent: the paper's sums over t = 0..T). */
    burnIn?: number;
  };
  readonly tensors: TensorResult[];
  /** The whole model as one concatenated vector per step. */
  readonly total: TensorResult;
  readonly bounds: BoundsReport;
  /** Plain-language reading, one paragraph. */
  readonly summary: string;
}
