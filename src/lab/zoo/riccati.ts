/** @file Reference solution of the discrete-time linear-quadratic regulator: iterates the discrete algebraic
 * Riccati equation P = Q + AᵀPA − AᵀPB (R + BᵀPB)⁻¹ BᵀPA to a fixed point in float64 (ml-matrix for the products
 * and the small solve) and returns the optimal static gain K* = (R + BᵀPB)⁻¹ BᵀPA (control u = −K*x). The LQR
 * zoo model and its test compare policy-gradient training against it. */
import { Matrix, solve } from "ml-matrix";
import { GradtraceError } from "../../core/index.ts";

export interface LqrProblem {
  /** n×n dynamics, n×m input matrix, n×n state cost, m×m control cost (row-major nested arrays). */
  readonly a: number[][];
  readonly b: number[][];
  readonly q: number[][];
  readonly r: number[][];
}

export interface RiccatiSolution {
  readonly p: number[][];
  /** m×n optimal gain. */
  readonly k: number[][];
  readonly iterations: number;
}

export function solveDiscreteRiccati(
  { a, b, q, r }: LqrProblem,
  { tolerance = 1e-12, maxIterations = 100_000 }: { tolerance?: number; maxIterations?: number } = {},
): RiccatiSolution {
  const A = new Matrix(a);
  const B = new Matrix(b);
  const Q = new Matrix(q);
  const R = new Matrix(r);
  let P = Q.clone();
  for (let it = 1; it <= maxIterations; it++) {
    const btp = B.transpose().mmul(P);
    const gain = solve(R.clone().add(btp.mmul(B)), btp.mmul(A)); // (R + BᵀPB)⁻¹ BᵀPA
    const next = Q.clone().add(A.transpose().mmul(P).mmul(A)).sub(A.transpose().mmul(P).mmul(B).mmul(gain));
    const change = next.clone().sub(P).norm("frobenius");
    P = next;
    if (change <= tolerance * Math.max(1, P.norm("frobenius"))) {
      const btpFinal = B.transpose().mmul(P);
      const k = solve(R.clone().add(btpFinal.mmul(B)), btpFinal.mmul(A));
      return { p: P.to2DArray(), k: k.to2DArray(), iterations: it };
    }
  }
  throw new GradtraceError(
    "E_NUMERIC",
    `solveDiscreteRiccati: no convergence in ${maxIterations} iterations (is (A, B) stabilisable?)`,
  );
}

/** Infinite-horizon cost tr(P_K Σ0) of the static policy u = −Kx for x0 ~ N(0, I), from the Lyapunov equation
 * P_K = Q + KᵀRK + (A − BK)ᵀ P_K (A − BK) iterated to convergence; Infinity when A − BK is not stable. */
export function policyCost(
  { a, b, q, r }: LqrProblem,
  k: number[][],
  { tolerance = 1e-13, maxIterations = 100_000 } = {},
): number {
  const A = new Matrix(a);
  const K = new Matrix(k);
  const closed = A.clone().sub(new Matrix(b).mmul(K));
  const stageCost = new Matrix(q).add(K.transpose().mmul(new Matrix(r)).mmul(K));
  let P = stageCost.clone();
  for (let it = 0; it < maxIterations; it++) {
    const next = stageCost.clone().add(closed.transpose().mmul(P).mmul(closed));
    const change = next.clone().sub(P).norm("frobenius");
    P = next;
    if (!Number.isFinite(change) || P.norm("frobenius") > 1e12) return Number.POSITIVE_INFINITY;
    if (change <= tolerance * P.norm("frobenius")) return P.trace();
  }
  return Number.POSITIVE_INFINITY;
}
