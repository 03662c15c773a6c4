/** @file Rank summaries of a matrix H from its Gram HᵀH (spec "Increments and predictable rank"): the eigenvalues of
 * the T×T Gram are the squared singular values σᵢ² of H, so nothing p×p is ever formed.
 *
 * Negative-eigenvalue policy: a Gram is positive semidefinite, but rounding leaves eigenvalues of order
 * n·λ_max·ε around zero (ml-matrix uses the same max(m, n)·σ₀·ε scale for its rank tolerance). `clampGramEigenvalues`
 * sets every eigenvalue ≤ n·λ_max·ε to exactly 0 — tiny negatives and the equally meaningless tiny positives — so a
 * rank-k construction reports rank k. Larger negative values (e.g. from a float32 Gram, whose rounding is ~1e-7·λ_max)
 * are also set to 0: the summaries below are defined for σᵢ² ≥ 0. All sums run in float64, smallest terms first
 * where cancellation or absorption could matter. */
import { GradtraceError } from "./errors.ts";
import { symmetricEigen } from "./linalg/symmetricEigen.ts";
import type { Mat } from "./matrix.ts";

export interface SpectrumSummary {
  /** Top ≤ 32 singular values σᵢ of H, descending. */
  singularValues: number[];
  /** r*(ε) keyed by String(ε). */
  predictableRank: Record<string, number>;
  effectiveRank: number;
  stableRank: number;
  participationRatio: number;
  /** r*(ε) on a log-spaced grid of ε. */
  rankCurve: { eps: number[]; rank: number[] };
  /** Σ_{i>k} σᵢ² for k = 0..min(n, top). */
  oracleRankPathLength: number[];
}

export interface SpectrumSummaryOptions {
  /** ε values reported in `predictableRank`. */
  eps?: number[];
  /** How many singular values to report (and the largest k of the oracle path length). */
  top?: number;
  /** ε grid of `rankCurve`. */
  curveEps?: number[];
}

/** 20 log-spaced values from 0.5 down to 1e-4. */
export const DEFAULT_CURVE_EPS: readonly number[] = Array.from(
  { length: 20 },
  (_, i) => 0.5 * 10 ** ((i * Math.log10(1e-4 / 0.5)) / 19),
);

/** Eigenvalues of a Gram as σᵢ² ≥ 0, descending, with rounding-level values (≤ n·λ_max·ε) set to 0. */
export function clampGramEigenvalues(values: Float64Array): Float64Array {
  const out = Float64Array.from(values).sort().reverse();
  const lambdaMax = out.length > 0 ? Math.max(0, out[0]) : 0;
  const tol = out.length * lambdaMax * Number.EPSILON;
  return out.map((v) => (v > tol ? v : 0));
}

/** Non-negative, descending copy (inputs from callers may be unsorted or carry tiny negatives). */
function normalized(sigmaSq: Float64Array, fn: string): Float64Array {
  for (let i = 0; i < sigmaSq.length; i++) {
    if (Number.isNaN(sigmaSq[i])) throw new GradtraceError("E_NUMERIC", `${fn}: sigmaSq[${i}] is NaN`);
  }
  return Float64Array.from(sigmaSq, (v) => Math.max(0, v))
    .sort()
    .reverse();
}

/** Σ values, smallest first (they are sorted descending), so small terms are not absorbed. */
function total(desc: Float64Array): number {
  let s = 0;
  for (let i = desc.length - 1; i >= 0; i--) s += desc[i];
  return s;
}

/** r*(ε) = min { k : Σ_{i≤k} σᵢ² ≥ (1−ε)‖H‖_F² }; 0 for an all-zero matrix. */
export function predictableRank(sigmaSq: Float64Array, eps: number): number {
  if (!(eps >= 0 && eps <= 1))
    throw new GradtraceError("E_ARG", `predictableRank: eps must be in [0, 1], got ${eps}`);
  const s = normalized(sigmaSq, "predictableRank");
  // Compare the tail instead of the head: Σ_{i>k} σᵢ² ≤ ε‖H‖_F² is the same condition without 1 − ε rounding, and
  // suffix sums are exact enough that ε = 0 gives the numerical rank.
  const tails = tailSums(s);
  const budget = eps * tails[0];
  if (tails[0] === 0) return 0;
  for (let k = 0; k < s.length; k++) if (tails[k] <= budget) return k;
  return s.length;
}

/** tails[k] = Σ_{i≥k} s[i] (0-based), tails[n] = 0, summed from the small end. */
function tailSums(desc: Float64Array): Float64Array {
  const tails = new Float64Array(desc.length + 1);
  for (let i = desc.length - 1; i >= 0; i--) tails[i] = tails[i + 1] + desc[i];
  return tails;
}

/** Roy & Vetterli effective rank exp(−Σ qᵢ log qᵢ), qᵢ = σᵢ / Σσⱼ (singular values, not their squares); 0 for zero. */
export function effectiveRank(sigmaSq: Float64Array): number {
  const s = normalized(sigmaSq, "effectiveRank").map(Math.sqrt);
  const sum = total(s);
  if (sum === 0) return 0;
  let h = 0;
  for (const v of s) {
    if (v === 0) continue;
    const q = v / sum;
    h -= q * Math.log(q);
  }
  return Math.exp(h);
}

/** ‖H‖_F² / σ₁²; 0 for the zero matrix. */
export function stableRank(sigmaSq: Float64Array): number {
  const s = normalized(sigmaSq, "stableRank");
  if (s.length === 0 || s[0] === 0) return 0;
  return total(s) / s[0];
}

/** (Σσᵢ²)² / Σσᵢ⁴; 0 for the zero matrix. Scaled by σ₁² so σ⁴ cannot overflow. */
export function participationRatio(sigmaSq: Float64Array): number {
  const s = normalized(sigmaSq, "participationRatio");
  if (s.length === 0 || s[0] === 0) return 0;
  const r = s.map((v) => v / s[0]);
  const num = total(r);
  let den = 0;
  for (let i = r.length - 1; i >= 0; i--) den += r[i] * r[i];
  return (num * num) / den;
}

/** Eckart–Young: the best rank-k approximation leaves Σ_{i>k} σᵢ². Entry k for k = 0..maxK (0 beyond the rank). */
export function oracleRankPathLength(sigmaSq: Float64Array, maxK: number): number[] {
  if (!Number.isInteger(maxK) || maxK < 0) {
    throw new GradtraceError(
      "E_ARG",
      `oracleRankPathLength: maxK must be a non-negative integer, got ${maxK}`,
    );
  }
  const tails = tailSums(normalized(sigmaSq, "oracleRankPathLength"));
  return Array.from({ length: maxK + 1 }, (_, k) => (k < tails.length ? tails[k] : 0));
}

/** All rank summaries of H from its Gram matrix HᵀH (eigenvalues only; O(n³) once). */
export function spectrumSummary(
  gram: Mat,
  { eps = [0.1, 0.05, 0.01], top = 32, curveEps = [...DEFAULT_CURVE_EPS] }: SpectrumSummaryOptions = {},
): SpectrumSummary {
  if (!Number.isInteger(top) || top < 0)
    throw new GradtraceError("E_ARG", `spectrumSummary: top must be a non-negative integer, got ${top}`);
  const sigmaSq = clampGramEigenvalues(symmetricEigen(gram, { vectors: false }).values);
  const predictable: Record<string, number> = {};
  for (const e of eps) predictable[String(e)] = predictableRank(sigmaSq, e);
  return {
    singularValues: Array.from(sigmaSq.subarray(0, Math.min(top, sigmaSq.length)), Math.sqrt),
    predictableRank: predictable,
    effectiveRank: effectiveRank(sigmaSq),
    stableRank: stableRank(sigmaSq),
    participationRatio: participationRatio(sigmaSq),
    rankCurve: { eps: [...curveEps], rank: curveEps.map((e) => predictableRank(sigmaSq, e)) },
    oracleRankPathLength: oracleRankPathLength(sigmaSq, Math.min(top, sigmaSq.length)),
  };
}
