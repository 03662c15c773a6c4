/** @file The runs of `reproduce galore-advice`, per zoo model: a full-Adam pilot run logs its gradients (and Adam's
 * first moment); `advise()` turns them into per-layer (r, Δ) and the uniform (r, Δ) of equal optimizer memory; then
 * every seed trains three arms from the same initialisation and data order — (a) full Adam, (b) the uniform
 * setting, (c) the advice — with the zoo's GaLore-style projected Adam. Records only: judging and rendering read
 * them (judge.ts, render.ts). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AdviseResult, advise } from "../../analysis/index.ts";
import {
  createGaloreAdam,
  createTraceLogger,
  createZooModel,
  galoreStateSize,
  parameterCount,
  type ProjectedSetting,
  train,
} from "../../lab/index.ts";
import type { GaloreAdviceBudget } from "./plan.ts";

export const ARMS = ["adam", "uniform", "advice"] as const;
export type Arm = (typeof ARMS)[number];

export interface ArmRecord {
  readonly model: string;
  readonly arm: Arm;
  readonly seed: number;
  /** Training loss per step. */
  readonly loss: number[];
  /** Mean training loss over the last tenth of the steps (the same batches in every arm of a seed). */
  readonly finalLoss: number;
  /** Held-out metric at the end (accuracy for the MNIST models), when the model has a held-out batch. */
  readonly evalMetric: number | null;
  /** Optimizer-state numbers. */
  readonly memory: number;
  readonly seconds: number;
}

export interface LayerAdvice {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly rank: number;
  readonly interval: number | null;
  readonly energy: number;
  readonly projected: boolean;
  /** E at the uniform setting. */
  readonly uniformEnergy: number;
}

export interface ModelRecords {
  readonly model: string;
  readonly parameterCount: number;
  readonly lr: number;
  readonly pilotSteps: number;
  readonly layers: LayerAdvice[];
  readonly uniform: ProjectedSetting;
  /** Optimizer-state numbers of each arm (the same for every seed). */
  readonly memory: Record<Arm, number>;
  readonly runs: ArmRecord[];
}

export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

/** Per-parameter settings of the advice and of the uniform setting, from advise()'s result. */
export function armSettings(
  result: AdviseResult,
): Record<"uniform" | "advice", Record<string, ProjectedSetting>> {
  const advice: Record<string, ProjectedSetting> = {};
  const uniform: Record<string, ProjectedSetting> = {};
  const u = result.memory.uniform;
  for (const t of result.tensors) {
    if (t.advice.projected && t.advice.interval !== null)
      advice[t.name] = { rank: t.advice.rank, interval: t.advice.interval };
    if (u) uniform[t.name] = { rank: u.rank, interval: u.interval };
  }
  return { advice, uniform };
}

function finalLoss(loss: readonly number[]): number {
  const k = Math.max(1, Math.ceil(loss.length / 10));
  return loss.slice(-k).reduce((s, x) => s + x, 0) / k;
}

const PILOT_SEED = 1000;

export async function runGaloreAdvice(
  budget: GaloreAdviceBudget,
  onProgress?: (p: RunProgress) => void,
): Promise<ModelRecords[]> {
  const out: ModelRecords[] = [];
  const total = budget.models.length * (1 + budget.seeds * ARMS.length);
  let done = 0;
  for (const name of budget.models) {
    const model = createZooModel(name);
    const lr = model.defaults.lr.adam;
    // Pilot: full Adam on its own seed, gradients and Adam's first moment logged, then advised.
    const dir = mkdtempSync(join(tmpdir(), "gradtrace-galore-pilot-"));
    let advice: AdviseResult;
    try {
      const logger = createTraceLogger({
        outDir: dir,
        params: model.params,
        meta: { model: name, pilot: true },
      });
      try {
        await train({
          model,
          optimizer: "adam",
          steps: budget.pilotSteps,
          seed: PILOT_SEED,
          onStep: logger.onStep,
        });
      } finally {
        logger.close();
      }
      advice = await advise(logger.tracePath, {
        target: budget.target,
        intervals: budget.intervals,
        minInterval: budget.minInterval,
        seed: PILOT_SEED,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    onProgress?.({ done: ++done, total, message: `${name}: pilot and advice` });
    const settings = armSettings(advice);
    const memoryOf = (s: Record<string, ProjectedSetting>) =>
      model.params.reduce((sum, p) => sum + galoreStateSize(p.shape, s[p.name]), 0);
    const memory: Record<Arm, number> = {
      adam: memoryOf({}),
      uniform: memoryOf(settings.uniform),
      advice: memoryOf(settings.advice),
    };
    const runs: ArmRecord[] = [];
    for (let seed = 0; seed < budget.seeds; seed++) {
      for (const arm of ARMS) {
        const optimizerImpl =
          arm === "adam"
            ? undefined
            : createGaloreAdam({ params: model.params, settings: settings[arm], seed });
        const r = await train({
          model,
          optimizer: "adam",
          lr,
          steps: budget.steps,
          seed,
          ...(optimizerImpl ? { optimizerImpl } : {}),
        });
        const last = r.evalMetric[r.evalMetric.length - 1];
        runs.push({
          model: name,
          arm,
          seed,
          loss: r.loss,
          finalLoss: finalLoss(r.loss),
          evalMetric: last === undefined ? null : last[1],
          memory: memory[arm],
          seconds: r.seconds,
        });
        onProgress?.({ done: ++done, total, message: `${name}/${arm}/seed ${seed}` });
      }
    }
    const u = advice.memory.uniform;
    out.push({
      model: name,
      parameterCount: parameterCount(model),
      lr,
      pilotSteps: budget.pilotSteps,
      layers: advice.tensors.map((t, k) => ({
        name: t.name,
        rows: t.rows,
        cols: t.cols,
        rank: t.advice.rank,
        interval: t.advice.interval,
        energy: t.advice.energy,
        projected: t.advice.projected,
        uniformEnergy: u ? u.energy[k] : Number.NaN,
      })),
      uniform: u ? { rank: u.rank, interval: u.interval } : { rank: 1, interval: budget.intervals[0] },
      memory,
      runs,
    });
  }
  return out;
}
