/** @file Bound calculators fed with measured path lengths. Each returns its value together with the assumptions it
 * rests on and whether they hold: "yes" only when the caller vouches for every assumption, "no" when the caller says
 * one fails, and "unverified" otherwise — a gradient trace alone cannot show convexity, smoothness or a bounded
 * domain, so the tool never claims a bound holds on its own.
 *
 * - Optimistic online mirror / gradient descent (convex losses, domain of diameter D): regret_T ≲ D·sqrt(P_T(m));
 *   with the tuned step size, R·sqrt(2 P_T) (R the domain radius/diameter constant of the analysis). The zero
 *   predictor gives the worst case D·sqrt(Σ‖g_t‖²); the ratio of the two is sqrt(κ).
 * - Nonconvex L-smooth descent along a predicted direction with step η ≤ 1/L:
 *   (1/T) Σ ‖∇f(x_t)‖² ≤ 2(f(x_0) − f_inf)/(η T) + P_T / T. */
import { GradtraceError } from "./errors.ts";

export type BoundStatus = "yes" | "no" | "unverified";

export interface Assumption {
  /** Plain-language statement. */
  statement: string;
  /** true/false when the caller (or a check here) decided it; undefined when nobody can tell. */
  verified?: boolean;
}

export interface RegretBoundOptions {
  /** Domain diameter D (default 1: the result then scales linearly with your D). */
  diameter?: number;
  /** R of the tuned-step form R·sqrt(2 P_T); defaults to the diameter. */
  radius?: number;
  /** Σ‖g_t‖², to report the worst-case bound and the ratio sqrt(κ). */
  gradNormSq?: number;
  /** Caller's statements about the run (leave undefined when unknown). */
  convex?: boolean;
  boundedDomain?: boolean;
  /** The learner is optimistic OMD/OGD using these m_t as hints (with a step tuned to P_T for the tuned form). */
  optimisticLearner?: boolean;
}

export interface RegretBound {
  /** D·sqrt(P_T). */
  regret: number;
  /** R·sqrt(2 P_T) with the tuned step. */
  regretTunedStep: number;
  /** D·sqrt(Σ‖g‖²) (NaN when gradNormSq was not given). */
  worstCase: number;
  /** regret / worstCase = sqrt(κ) (NaN when not available). */
  ratio: number;
  assumptions: Assumption[];
  holds: BoundStatus;
}

function status(assumptions: readonly Assumption[]): BoundStatus {
  if (assumptions.some((a) => a.verified === false)) return "no";
  return assumptions.every((a) => a.verified === true) ? "yes" : "unverified";
}

function nonNegative(fn: string, name: string, value: number): void {
  if (!(value >= 0 && Number.isFinite(value))) {
    throw new GradtraceError("E_ARG", `${fn}: ${name} must be a finite number ≥ 0, got ${value}`);
  }
}

export function regretBound(
  pathLength: number,
  {
    diameter = 1,
    radius = diameter,
    gradNormSq,
    convex,
    boundedDomain,
    optimisticLearner,
  }: RegretBoundOptions = {},
): RegretBound {
  nonNegative("regretBound", "pathLength", pathLength);
  nonNegative("regretBound", "diameter", diameter);
  nonNegative("regretBound", "radius", radius);
  if (gradNormSq !== undefined) nonNegative("regretBound", "gradNormSq", gradNormSq);
  const regret = diameter * Math.sqrt(pathLength);
  const worstCase = gradNormSq === undefined ? Number.NaN : diameter * Math.sqrt(gradNormSq);
  const assumptions: Assumption[] = [
    { statement: "the per-step losses are convex (online convex optimisation)", verified: convex },
    { statement: `the iterates stay in a domain of diameter D = ${diameter}`, verified: boundedDomain },
    {
      statement:
        "the learner runs optimistic OMD/OGD with these hints m_t and a step size tuned to P_T (for R·sqrt(2 P_T))",
      verified: optimisticLearner,
    },
  ];
  return {
    regret,
    regretTunedStep: radius * Math.sqrt(2 * pathLength),
    worstCase,
    ratio: worstCase > 0 ? regret / worstCase : Number.NaN,
    assumptions,
    holds: status(assumptions),
  };
}

export interface NonconvexBoundOptions {
  pathLength: number;
  /** T, the number of steps the average runs over. */
  steps: number;
  /** η. */
  stepSize: number;
  /** f(x_0) − f_inf (undefined: only the path-length term is computed, value = NaN). */
  initialGap?: number;
  /** L, when known: the step-size condition η ≤ 1/L is then checked here. */
  smoothness?: number;
  /** Caller's statement that f is L-smooth and bounded below. */
  smooth?: boolean;
  /** Caller's statement that the iterates followed x_{t+1} = x_t − η m_t with this predictor's m_t. */
  predictedUpdate?: boolean;
}

export interface NonconvexBound {
  /** 2(f(x_0) − f_inf)/(ηT) + P_T/T. */
  value: number;
  optimisationTerm: number;
  pathTerm: number;
  assumptions: Assumption[];
  holds: BoundStatus;
}

export function nonconvexBound({
  pathLength,
  steps,
  stepSize,
  initialGap,
  smoothness,
  smooth,
  predictedUpdate,
}: NonconvexBoundOptions): NonconvexBound {
  nonNegative("nonconvexBound", "pathLength", pathLength);
  if (!(Number.isInteger(steps) && steps >= 1)) {
    throw new GradtraceError("E_ARG", `nonconvexBound: steps must be an integer ≥ 1, got ${steps}`);
  }
  if (!(stepSize > 0 && Number.isFinite(stepSize))) {
    throw new GradtraceError("E_ARG", `nonconvexBound: stepSize must be > 0, got ${stepSize}`);
  }
  if (initialGap !== undefined) nonNegative("nonconvexBound", "initialGap", initialGap);
  if (smoothness !== undefined && !(smoothness > 0)) {
    throw new GradtraceError("E_ARG", `nonconvexBound: smoothness L must be > 0, got ${smoothness}`);
  }
  const optimisationTerm = initialGap === undefined ? Number.NaN : (2 * initialGap) / (stepSize * steps);
  const pathTerm = pathLength / steps;
  const assumptions: Assumption[] = [
    { statement: "f is L-smooth and bounded below by f_inf", verified: smooth },
    {
      statement: `step size η = ${stepSize} ≤ 1/L`,
      verified: smoothness === undefined ? undefined : stepSize <= 1 / smoothness,
    },
    { statement: "f(x_0) − f_inf is known", verified: initialGap !== undefined },
    {
      statement: "the update is x_{t+1} = x_t − η m_t with m_t the predictor's direction",
      verified: predictedUpdate,
    },
  ];
  return {
    value: optimisationTerm + pathTerm,
    optimisationTerm,
    pathTerm,
    assumptions,
    holds: status(assumptions),
  };
}
