/** @file The records of the low-rank-gradients reproduction: what `run` measures and `judge` / `render` read. Each
 * run keeps the few numbers per analyzed step that the verdicts and tables use, rounded to 6 significant digits
 * when recorded, so the records written to data/records.json are exactly what was judged (re-judging the file gives
 * the same verdicts). */
import type { SpikedResult, StepRecord } from "../../lab/index.ts";
import type { ReproduceBudget } from "../types.ts";
import type { LowRankPlan } from "./plan.ts";

/** The experiments, one group of runs each. */
export type GroupName =
  | "fig1"
  | "nScaling"
  | "fig2"
  | "scaling"
  | "regularisers"
  | "generalisation"
  | "training"
  | "mnist";

/** One analyzed step, compacted. */
export interface StepSummary {
  readonly step: number;
  readonly dataLoss: number;
  /** Held-out loss; null without a held-out set. */
  readonly testLoss: number | null;
  /** Top-k singular values of G. */
  readonly sv: readonly number[];
  readonly outliers: number;
  readonly bulkEdge: number;
  readonly bulkSpacing: number;
  /** |cos| of v1, v2 with X_Bᵀr and with q; of u1 with a∘μ. */
  readonly cosResidue: readonly number[];
  readonly cosSpike: readonly number[];
  readonly cosAMu: number;
  readonly cosLeftFactors: number;
  readonly s1Norm: number;
  readonly s2Norm: number;
  readonly errNorm: number;
  readonly s1NormTotal: number;
  readonly s2NormTotal: number;
  readonly errNormTotal: number;
  readonly regNorm: number;
  readonly regFrobeniusNorm: number;
  readonly frobeniusNorm: number;
  readonly dataFrobeniusNorm: number;
  readonly stableRank: number;
  readonly effectiveRank: number | null;
  readonly top2Energy: number;
  readonly energyInSpan: number;
  readonly muMean: number;
}

/** One configuration and seed. `key` holds what varies inside the group (e.g. { series, nu }). */
export interface RunRecord {
  readonly key: Readonly<Record<string, string | number>>;
  readonly seed: number;
  readonly lr: number;
  /** Held-out loss of the zero predictor, (1/n_t)Σ½y² (null without a held-out set). */
  readonly testBaseline: number | null;
  /** Step at which gradient descent diverged (the run stopped there; its records end before it), or null. */
  readonly divergedAt: number | null;
  readonly seconds: number;
  readonly steps: readonly StepSummary[];
}

export interface RunGroup {
  /** The configuration shared by the group's runs (JSON form). */
  readonly base: Readonly<Record<string, unknown>>;
  readonly runs: RunRecord[];
}

/** Strengths chosen for the regulariser levels: per weights type and regulariser ("generalisation" = weight decay
 * in the generalisation base configuration), the λ (or s) predicted to give ‖λ∇R‖_F/‖G_data‖_F = target at
 * initialisation (seed 0). The ratio each run actually had is in its records (regFrobeniusNorm, dataFrobeniusNorm). */
export interface Calibration {
  readonly weights: string;
  readonly regulariser: string;
  readonly level: string;
  readonly target: number;
  readonly strength: number;
}

export interface LowRankRecords {
  readonly experiment: "low-rank-gradients";
  readonly budget: ReproduceBudget;
  readonly plan: LowRankPlan;
  readonly calibration: readonly Calibration[];
  readonly groups: Record<GroupName, RunGroup>;
  /** Wall time of the run phase. */
  readonly seconds: number;
}

/** 6 significant digits (keeps the JSON small; every verdict is read from the rounded values). */
export function round6(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

export function summariseStep(r: StepRecord): StepSummary {
  const two = (xs: readonly number[]) => [round6(xs[0] ?? Number.NaN), round6(xs[1] ?? Number.NaN)];
  return {
    step: r.step,
    dataLoss: round6(r.dataLoss),
    testLoss: r.testLoss === null ? null : round6(r.testLoss),
    sv: r.singularValues.map(round6),
    outliers: r.outliers,
    bulkEdge: round6(r.bulkEdge),
    bulkSpacing: round6(r.bulkSpacing),
    cosResidue: two(r.cosResidue),
    cosSpike: two(r.cosSpike),
    cosAMu: round6(r.cosAMu[0] ?? Number.NaN),
    cosLeftFactors: round6(r.cosLeftFactors),
    s1Norm: round6(r.s1Norm),
    s2Norm: round6(r.s2Norm),
    errNorm: round6(r.errNorm),
    s1NormTotal: round6(r.s1NormTotal),
    s2NormTotal: round6(r.s2NormTotal),
    errNormTotal: round6(r.errNormTotal),
    regNorm: round6(r.regNorm),
    regFrobeniusNorm: round6(r.regFrobeniusNorm),
    frobeniusNorm: round6(r.frobeniusNorm),
    dataFrobeniusNorm: round6(r.dataFrobeniusNorm),
    stableRank: round6(r.stableRank),
    effectiveRank: r.effectiveRank === null ? null : round6(r.effectiveRank),
    top2Energy: round6(r.top2Energy),
    energyInSpan: round6(r.energyInSpan),
    muMean: round6(r.muMean),
  };
}

export function summariseRun(
  key: Readonly<Record<string, string | number>>,
  result: SpikedResult,
): RunRecord {
  return {
    key,
    seed: result.config.seed,
    lr: round6(result.lr),
    testBaseline: result.testBaseline === null ? null : round6(result.testBaseline),
    divergedAt: result.divergedAt,
    seconds: round6(result.seconds),
    steps: result.records.map(summariseStep),
  };
}

/** Runs of a group whose key matches every given field. */
export function select(group: RunGroup, match: Readonly<Record<string, string | number>>): RunRecord[] {
  return group.runs.filter((r) => Object.entries(match).every(([k, v]) => r.key[k] === v));
}

/** Distinct values of one key field, in first-seen order. */
export function keyValues(group: RunGroup, field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const r of group.runs) {
    const v = r.key[field];
    if (v !== undefined && !out.includes(v)) out.push(v);
  }
  return out;
}

export const firstStep = (r: RunRecord): StepSummary => r.steps[0];
export const lastStep = (r: RunRecord): StepSummary => r.steps[r.steps.length - 1];

/** Pairs two lists of runs by seed (for paired differences over seeds). */
export function pairBySeed(a: readonly RunRecord[], b: readonly RunRecord[]): [RunRecord, RunRecord][] {
  const out: [RunRecord, RunRecord][] = [];
  for (const x of a) {
    const y = b.find((r) => r.seed === x.seed);
    if (y) out.push([x, y]);
  }
  return out;
}
