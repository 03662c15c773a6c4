/** @file One zoo training run end to end: train a model, stream every step's gradients into a trace in `outDir`
 * (full or sketched), and write `outDir/run.json` with the configuration, the loss / metric / lr curves and the
 * throughput. What `gradtrace train` and the reproduction call. */
import { join } from "node:path";
import { LiveAccumulator, type LiveSnapshot } from "../../core/index.ts";
import { makeDir, refuseExisting, writeJsonAtomic } from "../../io/index.ts";
import { numelOf } from "./params.ts";
import { createZooModel } from "./registry.ts";
import { createTraceLogger } from "./traceLogger.ts";
import {
  DEFAULT_TRAIN_OPTIONS,
  type StepInfo,
  type TrainOptions,
  type TrainResult,
  train,
} from "./trainer.ts";

export interface ZooRunOptions extends Omit<TrainOptions, "model" | "onStep"> {
  readonly model: string;
  readonly outDir: string;
  /** "jl:512" etc.: log sketches instead of full gradients. */
  readonly sketch?: string;
  readonly force?: boolean;
  /** Called after every step (after the trace write), e.g. for a progress bar. */
  readonly onStep?: (info: StepInfo) => void;
  /** Also feed every step to a LiveAccumulator (src/core/live.ts) with these predictors; its final snapshot's κ go
   * into run.json under "live" (exact over the sliding window, direct for vector-mode predictors). */
  readonly live?: { readonly predictors?: readonly string[]; readonly window?: number };
}

/** The part of a live snapshot worth keeping in run.json: κ and path lengths per tensor and for the total. */
export interface LiveSummary {
  readonly steps: number;
  readonly skippedSteps: number[];
  readonly total: {
    kappa: Record<string, number>;
    pathLength: Record<string, number>;
    cosineConsecutive: number;
  };
  readonly tensors: Record<string, { kappa: Record<string, number> }>;
}

function summariseLive(snapshot: LiveSnapshot): LiveSummary {
  return {
    steps: snapshot.steps,
    skippedSteps: snapshot.skippedSteps,
    total: {
      kappa: snapshot.total.kappa,
      pathLength: snapshot.total.pathLength,
      cosineConsecutive: snapshot.total.cosineConsecutive,
    },
    tensors: Object.fromEntries(snapshot.tensors.map((t) => [t.name, { kappa: t.kappa }])),
  };
}

export interface ZooRunSummary {
  readonly tracePath: string;
  readonly runJsonPath: string;
  readonly result: TrainResult;
  readonly live?: LiveSummary;
}

export async function runZooTraining({
  model: modelName,
  outDir,
  sketch,
  force = false,
  onStep,
  live,
  ...trainOptions
}: ZooRunOptions): Promise<ZooRunSummary> {
  const model = createZooModel(modelName);
  makeDir(outDir, "train");
  const runJsonPath = join(outDir, "run.json");
  refuseExisting(runJsonPath, force, "train");
  const seed = trainOptions.seed ?? DEFAULT_TRAIN_OPTIONS.seed;
  const logger = createTraceLogger({
    outDir,
    params: model.params,
    sketch,
    sketchSeed: seed,
    force,
    meta: {
      producer: "gradtrace train",
      model: model.name,
      optimizer: trainOptions.optimizer ?? model.defaults.optimizer,
      seed,
    },
  });
  const accumulator =
    live === undefined
      ? null
      : new LiveAccumulator({
          tensors: model.params.map((p) => ({ name: p.name, numel: numelOf(p.shape) })),
          predictors: live.predictors,
          window: live.window,
        });
  let result: TrainResult;
  try {
    result = await train({
      ...trainOptions,
      model,
      onStep: (info) => {
        logger.onStep(info);
        accumulator?.observe(info.grads, info.momentum ? { momentum: info.momentum } : undefined);
        onStep?.(info);
      },
    });
  } finally {
    logger.close();
  }
  const liveSummary = accumulator === null ? undefined : summariseLive(accumulator.snapshot());
  const { params: _params, ...curves } = result;
  writeJsonAtomic(
    runJsonPath,
    {
      model: model.name,
      description: model.description,
      metricName: model.metricName,
      trace: logger.tracePath,
      ...(logger.sketch ? { sketch: logger.sketch } : {}),
      ...curves,
      ...(liveSummary ? { live: liveSummary } : {}),
    },
    { force, what: "train" },
  );
  return { tracePath: logger.tracePath, runJsonPath, result, live: liveSummary };
}
