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
 * Relative error bound of a ratio of two sums of squared norms (κ = P_T / Σ‖g_t‖²) when every squared norm in both
 * sums is within relative ε: each sum is then within relative ε, so κ̃/κ ∈ [(1−ε)/(1+ε), (1+ε)/(1−ε)] and
 * |κ̃ − κ| / κ ≤ 2ε/(1−ε). Use ε from `errorBound({ pairs: number of squared norms involved })`.
 */
export function ratioRelativeBound(eps: number): number {
  if (!(eps >= 0 && eps < 1)) return Number.POSITIVE_INFINITY;
  return (2 * eps) / (1 - eps);
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
