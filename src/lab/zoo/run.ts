/** @file One zoo training run end to end: train a model, stream every step's gradients into a trace in `outDir`
 * (full or sketched), and write `outDir/run.json` with the configuration, the loss / metric / lr curves and the
 * throughput. What `gradtrace train` and the reproduction call. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createZooModel } from "./registry.ts";
import { createTraceLogger } from "./traceLogger.ts";
import { type StepInfo, type TrainOptions, type TrainResult, train } from "./trainer.ts";

export interface ZooRunOptions extends Omit<TrainOptions, "model" | "onStep"> {
  readonly model: string;
  readonly outDir: string;
  /** "jl:512" etc.: log sketches instead of full gradients. */
  readonly sketch?: string;
  readonly force?: boolean;
  /** Called after every step (after the trace write), e.g. for a progress bar. */
  readonly onStep?: (info: StepInfo) => void;
}

export interface ZooRunSummary {
  readonly tracePath: string;
  readonly runJsonPath: string;
  readonly result: TrainResult;
}

export async function runZooTraining({
  model: modelName,
  outDir,
  sketch,
  force = false,
  onStep,
  ...trainOptions
}: ZooRunOptions): Promise<ZooRunSummary> {
  const model = createZooModel(modelName);
  mkdirSync(outDir, { recursive: true });
  const seed = trainOptions.seed ?? 0;
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
  let result: TrainResult;
  try {
    result = await train({
      ...trainOptions,
      model,
      onStep: (info) => {
        logger.onStep(info);
        onStep?.(info);
      },
    });
  } finally {
    logger.close();
  }
  const runJsonPath = join(outDir, "run.json");
  const { params: _params, ...curves } = result;
  writeFileSync(
    runJsonPath,
    `${JSON.stringify(
      {
        model: model.name,
        description: model.description,
        metricName: model.metricName,
        trace: logger.tracePath,
        ...(logger.sketch ? { sketch: logger.sketch } : {}),
        ...curves,
      },
      null,
      1,
    )}\n`,
  );
  return { tracePath: logger.tracePath, runJsonPath, result };
}
