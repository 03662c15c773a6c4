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
import { gramEigenvalues } from "./linalg/gramEigenvalues.ts";
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
  /** u + Σ_{i>k} σᵢ² for k = 0..min(n, top), u the `unpredictable` option (see there). */
  oracleRankPathLength: number[];
}

export interface SpectrumSummaryOptions {
  /** ε values reported in `predictableRank`. */
  eps?: number[];
  /** How many singular values to report (and the largest k of the oracle path length). */
  top?: number;
  /** ε grid of `rankCurve`. */
  curveEps?: number[];
  /** Added to every oracle path length: the part of P_T no increment predictor can remove. For the increments of
   * g_0..g_T with the paper's sums over t = 0..T that is ‖g_0‖² (m_0 = 0: there is no history at t = 0), which
   * makes oracleRankPathLength[0] = P_T(one-step) exactly; 0 when the sums start after a burn-in. Default 0. */
  unpredictable?: number;
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

/** Eckart–Young (the paper's Theorem iii): the best rank-k predictor of the increments in hindsight,
 * m_t = g_{t−1} + P_k h_t, leaves Σ_{i>k} σᵢ²; `unpredictable` (≥ 0, default 0) is added to every entry — ‖g_0‖²
 * when the path length counts the t = 0 term (see SpectrumSummaryOptions.unpredictable). Entry k for k = 0..maxK
 * (just `unpredictable` beyond the rank). */
export function oracleRankPathLength(sigmaSq: Float64Array, maxK: number, unpredictable = 0): number[] {
  if (!Number.isInteger(maxK) || maxK < 0) {
    throw new GradtraceError(
      "E_ARG",
      `oracleRankPathLength: maxK must be a non-negative integer, got ${maxK}`,
    );
  }
  if (!(unpredictable >= 0 && Number.isFinite(unpredictable))) {
    throw new GradtraceError(
      "E_ARG",
      `oracleRankPathLength: unpredictable must be a finite number ≥ 0, got ${unpredictable}`,
    );
  }
  const tails = tailSums(normalized(sigmaSq, "oracleRankPathLength"));
  return Array.from({ length: maxK + 1 }, (_, k) => unpredictable + (k < tails.length ? tails[k] : 0));
}

/** All rank summaries of H from its Gram matrix HᵀH (eigenvalues only: O(n·r²) for numerical rank r ≪ n, else O(n³)). */
export function spectrumSummary(
  gram: Mat,
  {
    eps = [0.1, 0.05, 0.01],
    top = 32,
    curveEps = [...DEFAULT_CURVE_EPS],
    unpredictable = 0,
  }: SpectrumSummaryOptions = {},
): SpectrumSummary {
  if (!Number.isInteger(top) || top < 0)
    throw new GradtraceError("E_ARG", `spectrumSummary: top must be a non-negative integer, got ${top}`);
  const sigmaSq = clampGramEigenvalues(gramEigenvalues(gram));
  const predictable: Record<string, number> = {};
  for (const e of eps) predictable[String(e)] = predictableRank(sigmaSq, e);
  return {
    singularValues: Array.from(sigmaSq.subarray(0, Math.min(top, sigmaSq.length)), Math.sqrt),
    predictableRank: predictable,
    effectiveRank: effectiveRank(sigmaSq),
    stableRank: stableRank(sigmaSq),
    participationRatio: participationRatio(sigmaSq),
    rankCurve: { eps: [...curveEps], rank: curveEps.map((e) => predictableRank(sigmaSq, e)) },
    oracleRankPathLength: oracleRankPathLength(sigmaSq, Math.min(top, sigmaSq.length), unpredictable),
  };
}

/** What a Frequent Directions sketch over time certifies about a whole-run spectrum (streaming mode). */
export interface SpectrumBound {
  readonly kind: "fd";
  /** Sketch rows ℓ. */
  readonly rows: number;
  /** Δ: ‖HᵀH − BᵀB‖₂ ≤ Δ, deterministic; every σᵢ² lies in [μᵢ, μᵢ + Δ] (μᵢ the sketch's). */
  readonly delta: number;
  /** ‖H‖_F², exact (summed from the rows). */
  readonly frobeniusSq: number;
  /** [lower, upper] bounds on r*(ε) keyed by String(ε); the reported r*(ε) is the upper one (what the sketch
   * certifies: that many directions hold at least 1 − ε of the energy). */
  readonly predictableRank: Record<string, [number, number]>;
  /** [lower, upper] bounds on the stable rank ‖H‖_F²/σ₁². */
  readonly stableRank: [number, number];
}

/** Input of fdSpectrumSummary: the sketch's squared singular values and what the stream measured exactly. */
export interface FdSpectrumInput {
  readonly rows: number;
  readonly sigmaSq: Float64Array;
  readonly delta: number;
  readonly frobeniusSq: number;
  /** Rows streamed and their length: the rank of H is at most min(count, dim). */
  readonly count: number;
  readonly dim: number;
}

/** r*(ε) bounds from a sketch: with μ the sketch's σ², Δ its bound and F = ‖H‖_F² (Ky Fan + Weyl),
 * Σ_{i≤k} μᵢ ≤ Σ_{i≤k} σᵢ² ≤ min(F, Σ_{i≤k} μᵢ + kΔ). The smallest k whose lower sum reaches (1−ε)F is an upper
 * bound on r*(ε); the smallest k whose upper sum does is a lower bound. Past the sketch's ℓ values μᵢ = 0, and
 * r*(ε) ≤ min(count, dim) always. A relative slack of 1e-12 absorbs rounding in the sums. */
export function fdRankBounds(input: FdSpectrumInput, eps: number): [number, number] {
  const { sigmaSq, delta, frobeniusSq: f } = input;
  const maxRank = Math.min(input.count, input.dim);
  if (!(f > 0)) return [0, 0];
  const target = (1 - eps) * f - 1e-12 * f;
  const len = Math.min(sigmaSq.length, maxRank);
  let lo = -1;
  let hi = -1;
  let head = 0;
  for (let k = 0; k <= len && hi < 0; k++) {
    if (k > 0) head += Math.max(0, sigmaSq[k - 1]);
    if (lo < 0 && Math.min(f, head + k * delta) >= target) lo = k;
    if (head >= target) hi = k;
  }
  if (lo < 0) {
    // Past the sketch the lower sum stays at `head` and the upper one grows by Δ per direction.
    lo = delta > 0 ? Math.max(len + 1, Math.ceil((target - head) / delta)) : maxRank;
  }
  if (hi < 0) hi = maxRank;
  return [Math.min(lo, hi, maxRank), Math.min(hi, maxRank)];
}

/** The spectrum summary of a whole-run matrix seen through a Frequent Directions sketch (streaming mode), with the
 * bounds that hold deterministically. r*(ε) and the rank curve are the certified upper bounds; singular values are
 * the sketch's (each σᵢ² within [μᵢ, μᵢ + Δ]); the oracle path length Σ_{i>k} σᵢ² is reported as its upper bound
 * F − Σ_{i≤k} μᵢ (within kΔ of the truth), plus `unpredictable` (the t = 0 term, as in spectrumSummary); stable rank F/μ₁ with its interval; effective rank and participation
 * ratio are those of the sketch's own spectrum (no bound: the unsketched tail is left out). */
export function fdSpectrumSummary(
  input: FdSpectrumInput,
  {
    eps = [0.1, 0.05, 0.01],
    top = 32,
    curveEps = [...DEFAULT_CURVE_EPS],
    unpredictable = 0,
  }: SpectrumSummaryOptions = {},
): SpectrumSummary & { bound: SpectrumBound } {
  const mu = normalized(input.sigmaSq, "fdSpectrumSummary");
  const f = Math.max(input.frobeniusSq, total(mu));
  const bounds: Record<string, [number, number]> = {};
  const predictable: Record<string, number> = {};
  for (const e of eps) {
    bounds[String(e)] = fdRankBounds(input, e);
    predictable[String(e)] = bounds[String(e)][1];
  }
  const mu1 = mu.length > 0 ? mu[0] : 0;
  const stable: [number, number] = mu1 > 0 ? [f / (mu1 + input.delta), f / mu1] : [0, 0];
  const maxK = Math.min(top, mu.length);
  const oracle: number[] = [];
  let head = 0;
  for (let k = 0; k <= maxK; k++) {
    if (k > 0) head += mu[k - 1];
    oracle.push(unpredictable + Math.max(0, f - head));
  }
  return {
    singularValues: Array.from(mu.subarray(0, Math.min(top, mu.length)), Math.sqrt),
    predictableRank: predictable,
    effectiveRank: effectiveRank(mu),
    stableRank: stable[1],
    participationRatio: participationRatio(mu),
    rankCurve: { eps: [...curveEps], rank: curveEps.map((e) => fdRankBounds(input, e)[1]) },
    oracleRankPathLength: oracle,
    bound: {
      kind: "fd",
      rows: input.rows,
      delta: input.delta,
      frobeniusSq: input.frobeniusSq,
      predictableRank: bounds,
      stableRank: stable,
    },
  };
}
