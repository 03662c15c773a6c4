/** @file The model zoo's catalogue: name → factory, parameter counts and default settings (what `gradtrace zoo
 * list` prints and what `gradtrace train <model>` resolves). Factories are lazy because some load data. */
import { GradtraceError } from "../../core/index.ts";
import type { ZooModel } from "./model.ts";
import { createCharLmModel } from "./models/charLm.ts";
import { createCnnModel } from "./models/cnn.ts";
import { createGpt2Model } from "./models/gpt2.ts";
import { createDeepLinearModel, createLowRankRegressionModel } from "./models/linear.ts";
import { createLqrModel } from "./models/lqr.ts";
import { createMlpModel } from "./models/mlp.ts";
import { createVitModel } from "./models/vit.ts";
import { numelOf } from "./params.ts";

export const ZOO_MODEL_NAMES = [
  "cnn",
  "vit",
  "mlp",
  "charlm",
  "gpt2",
  "lqr",
  "lowrank",
  "deeplinear",
] as const;
export type ZooModelName = (typeof ZOO_MODEL_NAMES)[number];

const FACTORIES: Record<ZooModelName, () => ZooModel> = {
  cnn: createCnnModel,
  vit: createVitModel,
  mlp: createMlpModel,
  charlm: createCharLmModel,
  gpt2: createGpt2Model,
  lqr: createLqrModel,
  lowrank: createLowRankRegressionModel,
  deeplinear: createDeepLinearModel,
};

export function isZooModelName(name: string): name is ZooModelName {
  return (ZOO_MODEL_NAMES as readonly string[]).includes(name);
}

export function createZooModel(name: string): ZooModel {
  if (!isZooModelName(name)) {
    throw new GradtraceError(
      "E_ARG",
      `unknown zoo model "${name}" (expected one of ${ZOO_MODEL_NAMES.join(", ")})`,
    );
  }
  return FACTORIES[name]();
}

/** Whether training `model` with this batch size logs the exact gradient of its training loss at every step (the
 * batch is the whole fixed training set), rather than a minibatch estimate. */
export function isFullBatch(model: ZooModel, batch: number): boolean {
  return model.fullBatchSize !== undefined && batch >= model.fullBatchSize;
}

export function parameterCount(model: ZooModel): number {
  return model.params.reduce((s, p) => s + numelOf(p.shape), 0);
}
