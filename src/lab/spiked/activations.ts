/** @file Activation functions of the spiked two-layer lab, each with its exact first derivative σ' (the gradient and
 * the decomposition's μ_j = mean σ'(w_jᵀx) need it) and second derivative σ'' (the Jacobian penalty's gradient needs
 * it). Users may pass their own `{ sigma, dsigma, d2sigma? }`. */
import { GradtraceError } from "../../core/index.ts";

export interface Activation {
  readonly name: string;
  readonly sigma: (x: number) => number;
  readonly dsigma: (x: number) => number;
  /** Needed only by the Jacobian penalty; ReLU's is 0 almost everywhere (its distributional δ is ignored). */
  readonly d2sigma?: (x: number) => number;
}

export type ActivationName = "relu" | "tanh" | "sigmoid" | "gelu" | "softplus";
export const ACTIVATION_NAMES: readonly ActivationName[] = ["relu", "tanh", "sigmoid", "gelu", "softplus"];

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf to ~1e-15 everywhere: erf(x) = 2/√π · e^{−x²} · Σ_k 2^k x^{2k+1} / (1·3·…·(2k+1)), a series of positive
 * terms (no cancellation, unlike the Taylor series), truncated when a term no longer changes the sum. Hand-written
 * because JavaScript has no Math.erf and GELU's derivative must match its value exactly for the gradient checks. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let k = 1; k < 500; k++) {
    term *= (2 * x2) / (2 * k + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  const v = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  return x < 0 ? -v : v;
}

/** Standard normal density and distribution function. */
export const normalPdf = (x: number): number => INV_SQRT_2PI * Math.exp(-0.5 * x * x);
export const normalCdf = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));

const logistic = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const BUILTIN: Record<ActivationName, Activation> = {
  relu: { name: "relu", sigma: (x) => Math.max(x, 0), dsigma: (x) => (x > 0 ? 1 : 0), d2sigma: () => 0 },
  tanh: {
    name: "tanh",
    sigma: Math.tanh,
    dsigma: (x) => {
      const t = Math.tanh(x);
      return 1 - t * t;
    },
    d2sigma: (x) => {
      const t = Math.tanh(x);
      return -2 * t * (1 - t * t);
    },
  },
  sigmoid: {
    name: "sigmoid",
    sigma: logistic,
    dsigma: (x) => {
      const s = logistic(x);
      return s * (1 - s);
    },
    d2sigma: (x) => {
      const s = logistic(x);
      return s * (1 - s) * (1 - 2 * s);
    },
  },
  // Exact GELU x·Φ(x) (not the tanh approximation): σ' = Φ + xφ, σ'' = φ·(2 − x²).
  gelu: {
    name: "gelu",
    sigma: (x) => x * normalCdf(x),
    dsigma: (x) => normalCdf(x) + x * normalPdf(x),
    d2sigma: (x) => normalPdf(x) * (2 - x * x),
  },
  // log(1 + eˣ) written to avoid overflow for large x; σ' is the logistic function.
  softplus: {
    name: "softplus",
    sigma: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
    dsigma: logistic,
    d2sigma: (x) => {
      const s = logistic(x);
      return s * (1 - s);
    },
  },
};

/** A built-in activation by name, or the user's object unchanged. */
export function resolveActivation(activation: ActivationName | Activation): Activation {
  if (typeof activation !== "string") {
    if (typeof activation.sigma !== "function" || typeof activation.dsigma !== "function") {
      throw new GradtraceError(
        "E_ARG",
        "resolveActivation: a custom activation needs functions sigma and dsigma",
      );
    }
    return activation;
  }
  const found = (BUILTIN as Record<string, Activation | undefined>)[activation];
  if (!found) {
    throw new GradtraceError(
      "E_ARG",
      `resolveActivation: unknown activation "${activation}"; expected one of ${ACTIVATION_NAMES.join(", ")}`,
    );
  }
  return found;
}

/** E[σ'(g)] for g ~ N(0, s²) by composite Simpson quadrature on [−10, 0] and [0, 10] in units of s (the Gaussian tail
 * beyond 10 is below 1e-22). The halves are integrated separately with one-sided values at 0, so a jump of σ' at 0
 * (ReLU) costs no accuracy. The population μ_j when w_jᵀx is Gaussian with variance s². */
export function gaussianMeanDerivative(act: Activation, s = 1, intervals = 2000): number {
  const h = 10 / intervals;
  let sum = 0;
  for (const side of [-1, 1]) {
    for (let i = 0; i <= intervals; i++) {
      // 1e-300 instead of 0 picks the one-sided limit of σ' at the origin.
      const t = side * (i === 0 ? 1e-300 : i * h);
      const w = i === 0 || i === intervals ? 1 : i % 2 === 1 ? 4 : 2;
      sum += w * act.dsigma(s * t) * normalPdf(t);
    }
  }
  return (sum * h) / 3;
}
