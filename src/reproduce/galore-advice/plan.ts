/** @file The plan (budgets) of `gradtrace reproduce galore-advice`: which zoo models, how many seeds and steps, the pilot
 * run the advice is computed from, and the advice's grid. "smoke" runs inside `npm test`; "quick" takes tens of
 * minutes on 2 shared cores; "full" is the longer run the verdict should rest on. */
import { ZOO_MODEL_NAMES } from "../../lab/index.ts";
import type { ReproduceBudget } from "../types.ts";

export interface GaloreAdviceBudget {
  readonly models: readonly string[];
  readonly seeds: number;
  readonly steps: number;
  /** Steps of the full-Adam pilot run whose gradients the advice is computed from (its own seed). */
  readonly pilotSteps: number;
  readonly target: number;
  readonly intervals: readonly number[];
  readonly minInterval: number;
}

/** The GPT-2-architecture model when the zoo has it, else the character-level transformer (the zoo's other
 * language model) as its stand-in. */
export function languageModel(): string {
  return (ZOO_MODEL_NAMES as readonly string[]).includes("gpt2") ? "gpt2" : "charlm";
}

export function galoreAdviceBudget(budget: ReproduceBudget): GaloreAdviceBudget {
  switch (budget) {
    case "smoke":
      return {
        models: ["vit"],
        seeds: 3,
        steps: 6,
        pilotSteps: 12,
        target: 0.8,
        intervals: [2, 4, 12],
        minInterval: 2,
      };
    case "quick":
      return {
        models: [languageModel(), "vit"],
        seeds: 3,
        steps: 300,
        pilotSteps: 100,
        target: 0.8,
        intervals: [5, 10, 20, 50, 100],
        minInterval: 10,
      };
    case "full":
      return {
        models: [languageModel(), "vit"],
        seeds: 5,
        steps: 1000,
        pilotSteps: 200,
        target: 0.8,
        intervals: [10, 20, 50, 100, 200],
        minInterval: 10,
      };
  }
}
