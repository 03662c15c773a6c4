/** @file Bound calculators fed with measured path lengths (the paper's Theorem (i) and its nonconvex counterpart).
 * Each returns its value together with the assumptions it rests on and whether they hold: "yes" only when the
 * caller vouches for every assumption, "no" when the caller says one fails, and "unverified" otherwise — a gradient
 * trace alone cannot show convexity, smoothness or a bounded domain, so the tool never claims a bound holds on its
 * own.
 *
 * One parametrisation, by the diameter D of the domain K (‖u − v‖ ≤ D for u, v ∈ K). Derivation (optimistic online
 * gradient descent with hints m_t: x_t = Π_K(y_t − η m_t), y_{t+1} = Π_K(y_t − η g_t)): the two projection
 * inequalities and ⟨g_t − m_t, x_t − y_{t+1}⟩ ≤ (η/2)‖g_t − m_t‖² + ‖x_t − y_{t+1}‖²/(2η) give, per round,
 * ⟨g_t, x_t − u⟩ ≤ (‖y_t − u‖² − ‖y_{t+1} − u‖²)/(2η) + (η/2)‖g_t − m_t‖², hence
 *   regret_T ≤ D²/(2η) + (η/2)·P_T(m),  and with the tuned step η* = D/√P_T(m):  regret_T ≤ D·√P_T(m).
 * The form R·√(2 P_T) found in mirror-descent papers is the same bound with R² = sup_u ½‖u − y_1‖² ≤ D²/2, i.e.
 * R = D/√2; it is not printed separately. The zero predictor gives the worst case D·√Σ‖g_t‖²; the ratio is √κ.
 *
 * Class form (Theorem (i) for a finite predictor class M): the hint is the exponentially weighted mixture
 * m_t = Σ_i w_{t,i} m_t^i, w_{t,i} ∝ exp(−α Σ_{s<t} ‖g_s − m_s^i‖²), α = 1/(2E²), E² ≥ max_{t,i} ‖g_t − m_t^i‖².
 * The loss m ↦ ‖g_t − m‖² is α-exp-concave on the convex hull of the m_t^i (its Hessian 2I dominates
 * α·∇f∇fᵀ = 4α(m − g)(m − g)ᵀ there), so the mixture's path length is at most min_i P_T(m^i) + ln|M|/α
 * (Cesa-Bianchi & Lugosi 2006, Prop. 3.1), and
 *   regret_T ≤ D·√(P*_T(M) + 2E²·ln|M|),   P*_T(M) = min_{m∈M} P_T(m)   (step tuned to the bracket).
 * The class-selection term 2E²·ln|M| is what picking the best predictor online costs; with one predictor it is 0
 * and the class form is the single-predictor form.
 *
 * Nonconvex L-smooth descent along a predicted direction, x_{t+1} = x_t − η m_t with η ≤ 1/L and g_t = ∇f(x_t):
 *   (1/T) Σ ‖∇f(x_t)‖² ≤ 2(f(x_0) − f_inf)/(η T) + P_T / T
 * (from f(x_{t+1}) ≤ f(x_t) − (η/2)‖g_t‖² − (η/2)(1 − Lη)‖m_t‖² + (η/2)‖g_t − m_t‖²). It needs the exact gradient
 * of f at x_t: a minibatch gradient is not ∇f(x_t), and a trace of minibatch gradients does not satisfy it. */
import { GradtraceError } from "./errors.ts";

export type BoundStatus = "yes" | "no" | "unverified";

export interface Assumption {
  /** Plain-language statement. */
  statement: string;
  /** true/false when the caller (or a check here) decided it; undefined when nobody can tell. */
  verified?: boolean;
}

/** The printed forms, one statement each (the report, HTML, dashboard and reproduction quote these). */
export const BOUND_STATEMENTS = {
  regret:
    "Optimistic online gradient descent with hints m_t on a convex domain of diameter D: regret_T ≤ D²/(2η) + (η/2)·P_T(m), " +
    "so regret_T ≤ D·√P_T(m) with the tuned step η = D/√P_T(m) (the same bound as R·√(2P_T) with R = D/√2); " +
    "worst case (zero predictor) D·√Σ‖g_t‖², ratio √κ.",
  regretClass:
    "For a finite predictor class M, hinting with the exponentially weighted mixture of M (rate 1/(2E²), " +
    "E² ≥ max_t,m ‖g_t − m_t‖²): regret_T ≤ D·√(P*_T(M) + 2E²·ln|M|), P*_T(M) = the best path length in M in hindsight; " +
    "2E²·ln|M| is the cost of selecting within the class.",
  nonconvex:
    "L-smooth f, update x_{t+1} = x_t − η m_t with η ≤ 1/L and g_t = ∇f(x_t) the exact gradient: " +
    "(1/T)Σ‖∇f(x_t)‖² ≤ 2(f(x_0) − f_inf)/(ηT) + P_T/T. Minibatch gradients are not ∇f(x_t): a minibatch trace violates it.",
} as const;

export interface RegretBoundOptions {
  /** Domain diameter D (default 1: the result then scales linearly with your D). */
  diameter?: number;
  /** A step size η actually used: `regretAtStep` = D²/(2η) + (η/2)·P_T is then reported too. */
  stepSize?: number;
  /** Σ‖g_t‖², to report the worst-case bound and the ratio sqrt(κ). */
  gradNormSq?: number;
  /** Caller's statements about the run (leave undefined when unknown). */
  convex?: boolean;
  boundedDomain?: boolean;
  /** The learner is optimistic OGD using these m_t as hints (with the step tuned to P_T for `regret`). */
  optimisticLearner?: boolean;
}

export interface RegretBound {
  /** D·√P_T: the bound with the tuned step. */
  regret: number;
  /** The tuned step η* = D/√P_T (Infinity when P_T = 0). */
  tunedStepSize: number;
  /** D²/(2η) + (η/2)·P_T for the caller's η (NaN when no stepSize was given); ≥ `regret` for every η. */
  regretAtStep: number;
  /** D·√Σ‖g‖² (NaN when gradNormSq was not given). */
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

function convexAssumptions(
  diameter: number,
  convex: boolean | undefined,
  boundedDomain: boolean | undefined,
): Assumption[] {
  return [
    { statement: "the per-step losses are convex (online convex optimisation)", verified: convex },
    { statement: `the iterates stay in a domain of diameter D = ${diameter}`, verified: boundedDomain },
  ];
}

export function regretBound(
  pathLength: number,
  { diameter = 1, stepSize, gradNormSq, convex, boundedDomain, optimisticLearner }: RegretBoundOptions = {},
): RegretBound {
  nonNegative("regretBound", "pathLength", pathLength);
  nonNegative("regretBound", "diameter", diameter);
  if (gradNormSq !== undefined) nonNegative("regretBound", "gradNormSq", gradNormSq);
  if (stepSize !== undefined && !(stepSize > 0 && Number.isFinite(stepSize))) {
    throw new GradtraceError("E_ARG", `regretBound: stepSize must be a finite number > 0, got ${stepSize}`);
  }
  const regret = diameter * Math.sqrt(pathLength);
  const worstCase = gradNormSq === undefined ? Number.NaN : diameter * Math.sqrt(gradNormSq);
  const assumptions: Assumption[] = [
    ...convexAssumptions(diameter, convex, boundedDomain),
    {
      statement:
        "the learner runs optimistic OGD with these hints m_t and the step η = D/√P_T (P_T known in advance; " +
        "an adaptive step loses a constant factor)",
      verified: optimisticLearner,
    },
  ];
  return {
    regret,
    tunedStepSize: pathLength > 0 ? diameter / Math.sqrt(pathLength) : Number.POSITIVE_INFINITY,
    regretAtStep:
      stepSize === undefined
        ? Number.NaN
        : (diameter * diameter) / (2 * stepSize) + (stepSize / 2) * pathLength,
    worstCase,
    ratio: worstCase > 0 ? regret / worstCase : Number.NaN,
    assumptions,
    holds: status(assumptions),
  };
}

export interface ClassRegretBoundOptions {
  /** P_T(m) of every predictor m of the class M (at least one). */
  pathLengths: Readonly<Record<string, number>>;
  /** E² ≥ max_t max_{m∈M} ‖g_t − m_t‖²; the measured maximum is the smallest admissible value. */
  maxErrorSq: number;
  diameter?: number;
  gradNormSq?: number;
  convex?: boolean;
  boundedDomain?: boolean;
  /** The learner hints with the mixture of M described in the file note (rate 1/(2E²), E known in advance). */
  mixtureLearner?: boolean;
}

export interface ClassRegretBound {
  /** |M|. */
  classSize: number;
  /** The predictor with the smallest path length in hindsight, and that path length P*_T(M). */
  best: string;
  bestPathLength: number;
  /** 2E²·ln|M|: the cost of selecting within the class. */
  selectionTerm: number;
  /** P*_T(M) + 2E²·ln|M|: an upper bound on the mixture hint's path length. */
  mixturePathLength: number;
  /** D·√(P*_T(M) + 2E²·ln|M|). */
  regret: number;
  worstCase: number;
  assumptions: Assumption[];
  holds: BoundStatus;
}

export function classRegretBound({
  pathLengths,
  maxErrorSq,
  diameter = 1,
  gradNormSq,
  convex,
  boundedDomain,
  mixtureLearner,
}: ClassRegretBoundOptions): ClassRegretBound {
  const entries = Object.entries(pathLengths);
  if (entries.length === 0) {
    throw new GradtraceError("E_ARG", "classRegretBound: the predictor class is empty");
  }
  for (const [id, p] of entries) nonNegative("classRegretBound", `pathLengths["${id}"]`, p);
  nonNegative("classRegretBound", "maxErrorSq", maxErrorSq);
  nonNegative("classRegretBound", "diameter", diameter);
  if (gradNormSq !== undefined) nonNegative("classRegretBound", "gradNormSq", gradNormSq);
  let [best, bestPathLength] = entries[0];
  for (const [id, p] of entries) {
    if (p < bestPathLength) [best, bestPathLength] = [id, p];
  }
  const selectionTerm = 2 * maxErrorSq * Math.log(entries.length);
  const mixturePathLength = bestPathLength + selectionTerm;
  const assumptions: Assumption[] = [
    ...convexAssumptions(diameter, convex, boundedDomain),
    {
      statement:
        `the learner runs optimistic OGD hinted by the exponentially weighted mixture of the ${entries.length} ` +
        "predictors (rate 1/(2E²), E known in advance) with the step tuned to the bracket; the class was fixed before the run",
      verified: mixtureLearner,
    },
  ];
  return {
    classSize: entries.length,
    best,
    bestPathLength,
    selectionTerm,
    mixturePathLength,
    regret: diameter * Math.sqrt(mixturePathLength),
    worstCase: gradNormSq === undefined ? Number.NaN : diameter * Math.sqrt(gradNormSq),
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
  /** Caller's statement that every g_t is the exact gradient ∇f(x_t) (full batch); false for minibatch traces. */
  exactGradient?: boolean;
}

export interface NonconvexBound {
  /** 2(f(x_0) − f_inf)/(ηT) + P_T/T. */
  value: number;
  optimisationTerm: number;
  pathTerm: number;
  assumptions: Assumption[];
  holds: BoundStatus;
}

/** The assumption every nonconvex-bound report lists, so callers and reports word it the same way. */
export const EXACT_GRADIENT_ASSUMPTION =
  "g_t is the exact gradient ∇f(x_t) of the objective (full batch); minibatch gradients violate this";

export function nonconvexBound({
  pathLength,
  steps,
  stepSize,
  initialGap,
  smoothness,
  smooth,
  predictedUpdate,
  exactGradient,
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
    { statement: EXACT_GRADIENT_ASSUMPTION, verified: exactGradient },
  ];
  return {
    value: optimisationTerm + pathTerm,
    optimisationTerm,
    pathTerm,
    assumptions,
    holds: status(assumptions),
  };
}
