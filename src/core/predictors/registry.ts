/** @file Registry of predictors by id. Fixed ids (zero, last, linear, momentum, and any registered by a user) and
 * parametric families (ema<β>, ar<p>, lowrank<k>w<w>, momentum<s>) resolve through one function, so a CLI flag, a
 * JSON key and a dashboard label name the same predictor. */
import { GradtraceError } from "../errors.ts";
import { arLagged } from "./ar.ts";
import { emaPredictor, lastPredictor, linearPredictor, zeroPredictor } from "./basic.ts";
import { laggedGram, laggedLive } from "./lagged.ts";
import { lowrankLagged } from "./lowrank.ts";
import { momentumPredictor } from "./momentum.ts";
import type { PredictorDefinition } from "./types.ts";

/** The set evaluated when the user names none. */
export const DEFAULT_PREDICTORS: readonly string[] = [
  "zero",
  "last",
  "ema0.5",
  "ema0.9",
  "ema0.99",
  "linear",
  "ar2",
  "lowrank4w16",
];

/** A parametric family: `pattern` matches the whole id, `create` builds the definition (and validates the
 * parameters, throwing GradtraceError("E_ARG") when out of range). */
export interface PredictorFamily {
  /** How the user writes it, e.g. "ema<β> (0 < β < 1)". */
  form: string;
  pattern: RegExp;
  create(match: RegExpMatchArray, id: string): PredictorDefinition;
}

const fixed = new Map<string, PredictorDefinition>();
const families: PredictorFamily[] = [];

export function registerPredictor(
  def: PredictorDefinition,
  { replace = false }: { replace?: boolean } = {},
): void {
  if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(def.id)) {
    throw new GradtraceError(
      "E_ARG",
      `registerPredictor: id "${def.id}" must start with a letter and contain only letters, digits, "_", "." or "-"`,
    );
  }
  if (!def.gram && !def.gramWithExtras && !def.live && !def.lagged) {
    throw new GradtraceError("E_ARG", `registerPredictor: "${def.id}" defines neither gram, live nor lagged`);
  }
  if (fixed.has(def.id) && !replace) {
    throw new GradtraceError(
      "E_ARG",
      `registerPredictor: "${def.id}" is already registered (pass { replace: true })`,
    );
  }
  // A lagged definition gets its exact and live forms for free.
  const completed: PredictorDefinition = { ...def };
  if (def.lagged) {
    completed.gram ??= laggedGram(def.lagged);
    completed.live ??= laggedLive(def.lagged);
  }
  fixed.set(def.id, completed);
}

export function registerPredictorFamily(family: PredictorFamily): void {
  families.push(family);
}

/** Every accepted form, fixed ids first. */
export function listPredictorForms(): string[] {
  return [...fixed.keys(), ...families.map((f) => f.form)];
}

export function resolvePredictor(id: string): PredictorDefinition {
  const direct = fixed.get(id);
  if (direct) return direct;
  for (const family of families) {
    const match = id.match(family.pattern);
    if (match) return family.create(match, id);
  }
  throw new GradtraceError(
    "E_ARG",
    `unknown predictor "${id}"; valid forms: ${listPredictorForms().join(", ")}`,
  );
}

function badParameter(id: string, what: string): GradtraceError {
  return new GradtraceError("E_ARG", `predictor "${id}": ${what}`);
}

function registerBuiltIns(): void {
  registerPredictor(zeroPredictor());
  registerPredictor(lastPredictor());
  registerPredictor(linearPredictor());
  registerPredictor(momentumPredictor());
  registerPredictorFamily({
    form: "ema<β> (0 < β < 1, e.g. ema0.9; m_1 = g_0) or ema<β>z (zero-initialised, m_1 = (1−β) g_0)",
    pattern: /^ema(\d*\.?\d+(?:[eE]-?\d+)?)(z?)$/,
    create: (m, id) => {
      const beta = Number(m[1]);
      if (!(beta > 0 && beta < 1)) throw badParameter(id, `β = ${m[1]} must satisfy 0 < β < 1`);
      return emaPredictor(beta, id, { zeroInit: m[2] === "z" });
    },
  });
  registerPredictorFamily({
    form: "ar<p> (1 ≤ p ≤ 64, e.g. ar2)",
    pattern: /^ar(\d+)$/,
    create: (m, id) => {
      const order = Number(m[1]);
      if (!(order >= 1 && order <= 64)) throw badParameter(id, `order p = ${m[1]} must be in 1..64`);
      const lagged = arLagged(order);
      return {
        id,
        description: `AR(${order}): m_t = Σ a_i g_{t−i}, a refitted each step by ridge least squares on past steps`,
        lagged,
        gram: laggedGram(lagged),
        live: laggedLive(lagged),
      };
    },
  });
  registerPredictorFamily({
    form: "lowrank<k>w<w> (1 ≤ k ≤ w ≤ 1024, e.g. lowrank4w16)",
    pattern: /^lowrank(\d+)w(\d+)$/,
    create: (m, id) => {
      const rank = Number(m[1]);
      const window = Number(m[2]);
      if (!(rank >= 1 && window >= rank && window <= 1024)) {
        throw badParameter(id, `need 1 ≤ k ≤ w ≤ 1024, got k = ${m[1]}, w = ${m[2]}`);
      }
      const lagged = lowrankLagged(rank, window);
      return {
        id,
        description: `projection of g_{t−1} onto the top-${rank} left singular subspace of the last ${window} gradients`,
        lagged,
        gram: laggedGram(lagged),
        live: laggedLive(lagged),
      };
    },
  });
  registerPredictorFamily({
    form: "momentum<s> (scale s > 0, e.g. momentum0.1)",
    pattern: /^momentum(\d*\.?\d+(?:[eE]-?\d+)?)$/,
    create: (m, id) => {
      const scale = Number(m[1]);
      if (!(scale > 0 && Number.isFinite(scale))) throw badParameter(id, `scale ${m[1]} must be positive`);
      return momentumPredictor(scale, id);
    },
  });
}

registerBuiltIns();
