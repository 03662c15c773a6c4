/** @file `gradtrace train <model>`: trains a zoo model (src/lab/zoo) and writes DIR/trace.gtrace (+ DIR/trace.json
 * when sketched) and DIR/run.json. The flags map one-to-one onto ZooRunOptions; the work is runZooTraining. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { GradtraceError } from "../../core/index.ts";
import type { ScheduleKind } from "../../lab/index.ts";
import {
  createZooModel,
  DEFAULT_TRAIN_OPTIONS,
  OPTIMIZER_NAMES,
  type OptimizerName,
  runZooTraining,
  TRACE_FILE,
  ZOO_MODEL_NAMES,
  type ZooRunOptions,
} from "../../lab/index.ts";
import { parseInteger, parseList } from "../parse.ts";
import { progressBar } from "../progress.ts";

/** The flags, typed from ZooRunOptions where they carry its values as they are (the others are parsed and checked
 * here: optimizer, schedule and numbers given as text). */
type TrainFlags = Pick<ZooRunOptions, "steps" | "warmupSteps" | "sketch" | "force"> &
  Required<Pick<ZooRunOptions, "seed">> & {
    optimizer?: string;
    lr?: string;
    /** `--batch-size` (ZooRunOptions.batch; named as in `lab spiked`), and its alias `--batch`. */
    batchSize?: number;
    batch?: number;
    schedule?: string;
    /** `--warmup`: alias of `--warmup-steps`. */
    warmup?: number;
    weightDecay?: string;
    out: string;
    live?: string;
  };

function parsePositive(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!(x >= 0) || !Number.isFinite(x))
    throw new GradtraceError("E_ARG", `${option}: "${value}" must be a non-negative number`);
  return x;
}

export function registerTrainCommand(program: Command): void {
  program
    .command("train")
    .description(`train a zoo model and log its gradients every step (models: ${ZOO_MODEL_NAMES.join(", ")})`)
    .argument("<model>", "zoo model name (see `gradtrace zoo list`)")
    .option("--optimizer <name>", `${OPTIMIZER_NAMES.join(" | ")} (default: the model's)`)
    .option("--steps <n>", "optimizer steps (default: the model's)", parseInteger("--steps", { min: 1 }))
    .option(
      "--seed <n>",
      "seed of the initialisation, the data order and the sketch",
      parseInteger("--seed", { min: 0 }),
      DEFAULT_TRAIN_OPTIONS.seed,
    )
    .option("--lr <x>", "peak learning rate (default: the model's for the optimizer)")
    .option("--batch-size <n>", "batch size (default: the model's)", parseInteger("--batch-size", { min: 1 }))
    .option("--batch <n>", "alias of --batch-size", parseInteger("--batch", { min: 1 }))
    .option("--schedule <kind>", "constant | cosine (default: the model's)")
    .option(
      "--warmup-steps <n>",
      "linear warmup steps (default: the model's)",
      parseInteger("--warmup-steps", { min: 0 }),
    )
    .option("--warmup <n>", "alias of --warmup-steps", parseInteger("--warmup", { min: 0 }))
    .option("--weight-decay <x>", "decoupled weight decay")
    .option(
      "--sketch <spec>",
      "log sketches instead of full gradients, e.g. jl:512, countsketch:1024, srht:256",
    )
    .requiredOption("--out <dir>", "output directory (trace.gtrace, run.json)")
    .option("--force", "overwrite an existing trace")
    .option(
      "--live <predictors>",
      "also run the live accumulator with these predictors (comma list, e.g. last,ema0.9,momentum) and print its κ",
    )
    .action(async (modelName: string, flags: TrainFlags) => {
      const model = createZooModel(modelName);
      // Fail before training, with the CLI's flag name (the writer would say "{ force: true }").
      if (flags.force !== true && existsSync(join(flags.out, TRACE_FILE))) {
        throw new GradtraceError(
          "E_EXISTS",
          `train: ${join(flags.out, TRACE_FILE)} already exists (use --force to overwrite)`,
        );
      }
      if (
        flags.optimizer !== undefined &&
        !(OPTIMIZER_NAMES as readonly string[]).includes(flags.optimizer)
      ) {
        throw new GradtraceError(
          "E_ARG",
          `--optimizer: "${flags.optimizer}" (expected ${OPTIMIZER_NAMES.join(", ")})`,
        );
      }
      if (flags.schedule !== undefined && flags.schedule !== "constant" && flags.schedule !== "cosine") {
        throw new GradtraceError("E_ARG", `--schedule: "${flags.schedule}" (expected constant or cosine)`);
      }
      const steps = flags.steps ?? model.defaults.steps;
      const bar = progressBar(`train ${model.name}`);
      const start = performance.now();
      const summary = await runZooTraining({
        model: modelName,
        outDir: flags.out,
        optimizer: flags.optimizer as OptimizerName | undefined,
        steps,
        seed: flags.seed,
        lr: parsePositive("--lr", flags.lr),
        batch: flags.batchSize ?? flags.batch,
        schedule: flags.schedule as ScheduleKind | undefined,
        warmupSteps: flags.warmupSteps ?? flags.warmup,
        weightDecay: parsePositive("--weight-decay", flags.weightDecay),
        sketch: flags.sketch,
        force: flags.force === true,
        live: flags.live === undefined ? undefined : { predictors: parseList(flags.live) },
        onStep: ({ step, loss }) => {
          const rate = (step + 1) / ((performance.now() - start) / 1000);
          bar.update(step + 1, steps, {
            loss: `loss ${loss.toPrecision(4)}`,
            rate: `${rate.toFixed(1)} steps/s`,
          });
        },
      });
      bar.stop();
      const { result } = summary;
      const last = result.loss.slice(-Math.min(10, result.loss.length));
      const evalText =
        result.evalMetric.length > 0
          ? `, held-out ${model.metricName} ${result.evalMetric.at(-1)![1].toFixed(4)}`
          : "";
      process.stdout.write(
        `${model.name} ${result.config.optimizer} lr ${result.config.lr} seed ${result.config.seed}: ${result.config.steps} steps in ` +
          `${result.seconds.toFixed(1)} s (${result.stepsPerSecond.toFixed(1)} steps/s), loss ${result.loss[0].toPrecision(4)} → ` +
          `${(last.reduce((s, x) => s + x, 0) / last.length).toPrecision(4)} (mean of last ${last.length})${evalText}\n` +
          `trace: ${summary.tracePath}\nrun:   ${summary.runJsonPath}\n`,
      );
      if (summary.live !== undefined) {
        const kappas = Object.entries(summary.live.total.kappa).map(([id, k]) => `${id} ${k.toFixed(3)}`);
        process.stdout.write(`live κ (whole model, ${summary.live.steps} steps): ${kappas.join(", ")}\n`);
      }
    });
}
