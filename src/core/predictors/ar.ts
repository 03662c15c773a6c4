/** @file AR(p) predictor: m_t = Σ_{i=1..p} a_i g_{t−i} with the coefficients refitted at every step by ridge least
 * squares on the past only,
 *   minimise_a Σ_{s=p..t−1} ‖g_s − Σ_i a_i g_{s−i}‖² + λ‖a‖².
 * The normal equations (A + λI) a = b have A_ij = Σ_s ⟨g_{s−i}, g_{s−j}⟩ and b_i = Σ_s ⟨g_s, g_{s−i}⟩: sums of lagged
 * inner products, i.e. of K entries, accumulated one sample per step (O(p²) per step, lag p + 1).
 *
 * Choices (documented for users):
 * - λ = ridge · tr(A) / p with ridge = 1e-6 by default. Scaling by the mean diagonal makes the fit invariant to the
 *   gradient scale (multiplying every g by c multiplies A, b and λ by c², leaving a unchanged), while keeping the
 *   system positive definite when lagged gradients are collinear (e.g. a constant sequence).
 * - Before a first sample exists (t ≤ p: no s with all p lags) the predictor falls back to `last`
 *   (m_t = g_{t−1}, m_0 = 0). One sample suffices afterwards because each sample is a p-dimensional vector equation.
 * - All-zero history (tr A = 0): a = 0, i.e. m_t = 0. */
import type { GramReader, LaggedPredictor, LaggedPredictorState, PredictorHistory } from "./types.ts";

/** Solves (A + λI) x = b for a small symmetric positive-definite A by Cholesky; hand-written because p is tiny
 * (2–8) and this runs at every step, where ml-matrix's object allocation would dominate. Returns null when the
 * matrix is not numerically positive definite. */
export function solveSpd(a: Float64Array, b: Float64Array, p: number): Float64Array | null {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j];
      for (let k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * p + i] = Math.sqrt(s);
      } else {
        l[i * p + j] = s / l[j * p + j];
      }
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * y[k];
    y[i] = s / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return x;
}

export class ArState implements LaggedPredictorState {
  /** Normal matrix A (p×p) and right-hand side b, summed over the samples s = p..nextSample−1. */
  readonly normal: Float64Array;
  readonly rhs: Float64Array;
  private nextSample: number;

  constructor(
    private readonly order: number,
    private readonly ridge: number,
  ) {
    this.normal = new Float64Array(order * order);
    this.rhs = new Float64Array(order);
    this.nextSample = order;
  }

  /** The ridge solution from the samples seen so far (null before any sample). */
  fitted(): Float64Array | null {
    const p = this.order;
    if (this.nextSample === p) return null;
    let trace = 0;
    for (let i = 0; i < p; i++) trace += this.normal[i * p + i];
    if (!(trace > 0)) return new Float64Array(p);
    const lambda = (this.ridge * trace) / p;
    const a = Float64Array.from(this.normal);
    for (let i = 0; i < p; i++) a[i * p + i] += lambda;
    return solveSpd(a, this.rhs, p) ?? new Float64Array(p);
  }

  coefficients(t: number, k: GramReader): Float64Array | null {
    const p = this.order;
    // Add the newest complete sample s = t − 1 (its lags reach back to t − 1 − p).
    while (this.nextSample <= t - 1) {
      const s = this.nextSample++;
      for (let i = 0; i < p; i++) {
        this.rhs[i] += k.get(s, s - 1 - i);
        for (let j = 0; j < p; j++) this.normal[i * p + j] += k.get(s - 1 - i, s - 1 - j);
      }
    }
    const a = this.fitted();
    if (a !== null) return a;
    return t >= 1 ? Float64Array.of(1) : null;
  }

  saveHistory(): PredictorHistory {
    const p = this.order;
    const values = new Float64Array(p * p + p);
    values.set(this.normal);
    values.set(this.rhs, p * p);
    return { values, nextStep: this.nextSample };
  }

  restoreHistory({ values, nextStep }: PredictorHistory, stepOffset: number): void {
    const p = this.order;
    this.normal.set(values.subarray(0, p * p));
    this.rhs.set(values.subarray(p * p, p * p + p));
    this.nextSample = nextStep - stepOffset;
  }
}

export function arLagged(order: number, ridge = 1e-6): LaggedPredictor {
  return { lag: order + 1, create: () => new ArState(order, ridge) };
}
