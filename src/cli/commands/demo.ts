/** @file `gradtrace demo`: the built-in example end to end (src/reproduce/demo): train a small CNN on real MNIST
 * digits, log its gradients, analyze them, print the table and write the reports. */
import type { Command } from "commander";
import { GradtraceError } from "../../core/index.ts";
import type { OptimizerName } from "../../lab/index.ts";
import { ZOO_MODEL_NAMES } from "../../lab/index.ts";
import { renderTable } from "../../report/index.ts";
import { DEMO_DEFAULTS, runDemo } from "../../reproduce/index.ts";
import { parseInteger } from "../parse.ts";
import { progressBar } from "../progress.ts";

interface DemoFlags {
  model: string;
  steps: number;
  optimizer: OptimizerName;
  seed: number;
  out: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "Train a small CNN on real MNIST digits in TypeScript, log its gradients every step, and report how " +
        "predictable and low-rank they are (no download needed).",
    )
    .option("--model <name>", `zoo model (${ZOO_MODEL_NAMES.join(", ")})`, DEMO_DEFAULTS.model)
    .option("--steps <n>", "training steps", parseInteger("--steps", { min: 4 }), DEMO_DEFAULTS.steps)
    .option(
      "--optimizer <name>",
      "sgd, momentum or adam",
      (v: string) => {
        if (!["sgd", "momentum", "adam"].includes(v))
          throw new GradtraceError("E_ARG", `--optimizer: "${v}" is not one of sgd, momentum, adam`);
        return v as OptimizerName;
      },
      DEMO_DEFAULTS.optimizer,
    )
    .option("--seed <n>", "seed", parseInteger("--seed"), DEMO_DEFAULTS.seed)
    .option(
      "--out <dir>",
      "output folder (a fresh one: -2, -3, … is appended if it exists)",
      DEMO_DEFAULTS.outDir,
    )
    .action(async (flags: DemoFlags) => {
      const bar = progressBar("train");
      let result: Awaited<ReturnType<typeof runDemo>>;
      try {
        result = await runDemo({
          model: flags.model,
          steps: flags.steps,
          optimizer: flags.optimizer,
          seed: flags.seed,
          outDir: flags.out,
          onProgress: (p) => {
            if (p.phase === "start")
              process.stdout.write(
                `gradtrace demo: training ${p.model} (${p.parameters.toLocaleString("en")} parameters) for ${flags.steps} steps with ${flags.optimizer}, seed ${flags.seed}\n`,
              );
            else if (p.phase === "train") bar.update(p.step, p.steps, { loss: `loss ${p.loss.toFixed(3)}` });
            else bar.stop();
          },
        });
      } finally {
        bar.stop();
      }
      const first = result.loss[0];
      const last = result.loss[result.loss.length - 1];
      process.stdout.write(
        `trained in ${result.seconds.toFixed(1)} s (${result.stepsPerSecond.toFixed(1)} steps/s); loss ${first.toFixed(3)} → ${last.toFixed(3)}; trace: ${result.tracePath}\n\n`,
      );
      process.stdout.write(`${renderTable(result.analysis)}\n\n${result.analysis.summary}\n\n`);
      process.stdout.write(
        `wrote ${result.reportPath} and ${result.analysisPath}\nnext: npx gradtrace analyze ${result.outDir} --predictors last,ema0.9,ar2  |  npx gradtrace serve ${result.outDir}\n`,
      );
    });
}
