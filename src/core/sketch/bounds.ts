/** @file Error bounds of the random sketches, and how they propagate to the metrics computed from sketched
 * vectors (κ, energy fractions). Kept apart from the sketches so the report code can state bounds from (kind, k)
 * alone, e.g. for a trace that was sketched by the logger.
 *
 * Squared norms (dense Gaussian JL). For a fixed unit x, k‖Sx‖² ~ χ²_k when S has i.i.d. N(0, 1/k) entries.
 * Laurent & Massart (2000, Ann. Statist. 28(5), Lemma 1): for Z ~ χ²_k and t > 0,
 *   P(Z − k ≥ 2√(kt) + 2t) ≤ e^{−t},   P(k − Z ≥ 2√(kt)) ≤ e^{−t}.
 * Hence |‖Sx‖² − 1| ≤ ε(t) := 2√(t/k) + 2t/k with probability ≥ 1 − 2e^{−t}.
 *
 * Inner products by polarisation: for unit x, y, ⟨Sx, Sy⟩ − ⟨x, y⟩ = (e₊‖x+y‖² − e₋‖x−y‖²)/4 where e± are the
 * relative errors of the two squared norms, so |error| ≤ ε(‖x+y‖² + ‖x−y‖²)/4 = ε; by bilinearity this is ε‖x‖‖y‖
 * for general x, y. One inner product therefore uses two squared-norm events, each two-sided: 4 tails of e^{−t}.
 * A union bound over `pairs` quantities gives t = ln(4·pairs/δ), i.e.
 *   ε = 2√(ln(4·pairs/δ)/k) + 2·ln(4·pairs/δ)/k  ≈ √(4·ln(4·pairs/δ)/k) when ln(·) ≪ k,
 * the familiar JL form √(C·log(pairs/δ)/k) with C = 4 and an explicit lower-order term (no hidden constants).
 *
 * Variance (all four kinds), for a fixed x: Var‖Sx‖² = 2‖x‖⁴/k for Gaussian JL; for CountSketch
 * 2(‖x‖⁴ − ‖x‖₄⁴)/k; for the block sparse JL (s independent CountSketches of k/s rows each, scaled by 1/√s) the
 * same; for the block SRHT ≤ 2‖x‖⁴/k (srht.ts has the derivation). The same tail is therefore stated for the
 * three structured sketches ("variance-matched"; see `SketchGuarantee`), and the tests measure it. Chebyshev with
 * Var ≤ 2‖x‖⁴/k (inner products: Var⟨Sx,Sy⟩ ≤ (⟨x,y⟩² + ‖x‖²‖y‖²)/k ≤ 2‖x‖²‖y‖²/k) gives the always-valid but loose
 * ε = √(2·pairs/(δ·k)).
 */
import { GradtraceError } from "../errors.ts";
import type { ErrorBoundOptions } from "./types.ts";

function checkBoundOptions(fn: string, k: number, { delta, pairs }: ErrorBoundOptions): void {
  if (!(delta > 0 && delta < 1))
    throw new GradtraceError("E_ARG", `${fn}: delta must be in (0, 1), got ${delta}`);
  if (!(pairs >= 1) || !Number.isFinite(pairs)) {
    throw new GradtraceError("E_ARG", `${fn}: pairs must be a finite number ≥ 1, got ${pairs}`);
  }
  if (!(k >= 1)) throw new GradtraceError("E_ARG", `${fn}: sketch size k must be ≥ 1, got ${k}`);
}

/** Laurent–Massart JL bound ε = 2√(t/k) + 2t/k with t = ln(4·pairs/δ) (derivation in the file comment). */
export function jlErrorBound(k: number, options: ErrorBoundOptions): number {
  checkBoundOptions("jlErrorBound", k, options);
  const t = Math.log((4 * options.pairs) / options.delta);
  return 2 * Math.sqrt(t / k) + (2 * t) / k;
}

/** Chebyshev bound from Var ≤ 2‖x‖⁴/k, union over `pairs`: ε = √(2·pairs/(δ·k)). Valid for every vector. */
export function chebyshevErrorBound(k: number, options: ErrorBoundOptions): number {
  checkBoundOptions("chebyshevErrorBound", k, options);
  return Math.sqrt((2 * options.pairs) / (options.delta * k));
}

/**
 * Relative error bound of a ratio of two sums of squared norms (κ = P_T / Σ‖g_t‖²) whose numerator is within
 * relative epsNum and denominator within relative epsDen: κ̃/κ ∈ [(1−εn)/(1+εd), (1+εn)/(1−εd)], so
 * |κ̃ − κ| / κ ≤ (εn + εd)/(1 − εd) (= 2ε/(1−ε) for equal ε). The ε can come from `errorBound({ pairs: number of
 * squared norms involved })` (every norm within ε, so every sum too) or, much tighter, from `sumOfSquaresBound`.
 */
export function ratioRelativeBound(epsNum: number, epsDen = epsNum): number {
  if (!(epsNum >= 0 && epsDen >= 0 && epsDen < 1)) return Number.POSITIVE_INFINITY;
  return (epsNum + epsDen) / (1 - epsDen);
}

export interface SumOfSquaresBoundOptions {
  /** Failure probability of this one (two-sided) statement. */
  readonly delta: number;
  /** (Σσ_i²)² / Σσ_i⁴ of the matrix X = [x_1 … x_T] whose column norms are summed (its participation ratio). */
  readonly participationRatio: number;
  /** Σσ_i² / σ_1² of X (its stable rank). */
  readonly stableRank: number;
}

/**
 * Relative error ε of a sum of squared norms Σ_t ‖S x_t‖² = ‖SX‖_F² against ‖X‖_F², with probability ≥ 1 − δ:
 *   ε = 2√(t/(k·PR)) + 2t/(k·SR),   t = ln(2/δ),
 * PR and SR the participation ratio and stable rank of X. Derivation (Gaussian S): ‖SX‖_F² = Σ_{rows i} s_iᵀXXᵀs_i
 * = Σ_{i≤k} Σ_j (σ_j²/k) z_ij² with i.i.d. standard normal z, a weighted χ² with weights a = σ_j²/k (each k times),
 * ‖a‖₂ = √(Σσ⁴/k), ‖a‖∞ = σ_1²/k; Laurent–Massart's weighted form (same Lemma 1) gives the two tails. The sum over
 * T steps behaves like one squared norm with k·PR degrees of freedom, so it is far tighter than a union bound over
 * its T terms. Hashing sketches and SRHT: Var‖SX‖_F² ≤ 2‖XXᵀ‖_F²/k = 2Σσ⁴/k as for Gaussian S ("variance-matched").
 * PR and SR are those of the exact X; from a sketched trace they are plug-in estimates (say so when reporting).
 */
export function sumOfSquaresBound(
  k: number,
  { delta, participationRatio, stableRank }: SumOfSquaresBoundOptions,
) {
  checkBoundOptions("sumOfSquaresBound", k, { delta, pairs: 1 });
  if (!(participationRatio > 0 && stableRank > 0)) {
    throw new GradtraceError(
      "E_ARG",
      `sumOfSquaresBound: participationRatio and stableRank must be > 0 (they are ≥ 1), got ${participationRatio}, ${stableRank}`,
    );
  }
  const t = Math.log(2 / delta);
  return 2 * Math.sqrt(t / (k * participationRatio)) + (2 * t) / (k * stableRank);
}

/**
 * Absolute error bound on the fraction f_r = Σ_{i≤r} σ_i² / ‖H‖_F² of a matrix H = [h_1 … h_T] when every entry
 * of its Gram is within ε‖h_s‖‖h_t‖ (ε from `errorBound({ pairs: T(T+1)/2 })`). The Gram error E then has
 * ‖E‖_F ≤ ε‖H‖_F², the sum of the top r eigenvalues moves by at most Σ_{i≤r} σ_i(E) ≤ √r‖E‖_F (Ky Fan /
 * Lidskii), and the trace by at most ε‖H‖_F², so |f̃ − f| ≤ (√r + 1)·ε/(1 − ε). Worst-case over all matrices, hence
 * loose for typical low-rank-plus-noise data; `energyFractionLowerBound` is the tight one-sided statement.
 */
export function energyFractionBound(eps: number, r: number): number {
  if (!(eps >= 0 && eps < 1)) return Number.POSITIVE_INFINITY;
  return ((Math.sqrt(r) + 1) * eps) / (1 - eps);
}

/**
 * One-sided bound that needs only r + T squared-norm events: by Ky Fan, Σ_{i≤r} σ̃_i² ≥ ‖S H V_r‖_F² =
 * Σ_{i≤r} σ_i² ‖S u_i‖² ≥ (1 − ε) Σ_{i≤r} σ_i² (u_i: the fixed top left singular vectors of H), and
 * ‖SH‖_F² ≤ (1 + ε)‖H‖_F², so f̃ ≥ f·(1 − ε)/(1 + ε). Returns that lower limit for a given exact fraction f.
 */
export function energyFractionLowerBound(fraction: number, eps: number): number {
  return (fraction * (1 - eps)) / (1 + eps);
}
