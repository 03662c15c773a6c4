/** @file `gradtrace demo`: the built-in example end to end — train a small zoo model on real MNIST digits with the
 * TypeScript trainer, log every step's gradients to a trace, analyse it, print the table and write the reports.
 * Needs nothing beyond `npm ci`. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { analyzeWithSeries } from "../../analysis/analyze.ts";
import { renderHtmlReport } from "../../report/html.ts";
import { writeOutput } from "../../report/output.ts";
import { renderTable } from "../../report/table.ts";
import { openTrace } from "../../trace/index.ts";
import { ZOO_MODEL_NAMES, createZooModel, parameterCount } from "../../lab/zoo/registry.ts";
import { createTraceLogger } from "../../lab/zoo/traceLogger.ts";
import { train } from "../../lab/zoo/trainer.ts";
import { GradtraceError } from "../../core/errors.ts";
import type { OptimizerName } from "../../lab/zoo/optimizers.ts";
import { parseInteger } from "../parse.ts";
import { progressBar } from "../progress.ts";

interface DemoFlags {
  model: string;
  steps: number;
  optimizer: OptimizerName;
  seed: number;
  out: string;
}

/** `base`, or `base-2`, `base-3`, … : the first name not taken, so a demo never writes into an existing folder. */
export function freshDirectory(base: string): string {
  if (!fs.existsSync(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "Train a small CNN on real MNIST digits in TypeScript, log its gradients every step, and report how " +
        "predictable and low-rank they are (no download needed).",
    )
    .option("--model <name>", `zoo model (${ZOO_MODEL_NAMES.join(", ")})`, "cnn")
    .option("--steps <n>", "training steps", parseInteger("--steps", { min: 4 }), 120)
    .option(
      "--optimizer <name>",
      "sgd, momentum or adam",
      (v: string) => {
        if (!["sgd", "momentum", "adam"].includes(v))
          throw new GradtraceError("E_ARG", `--optimizer: "${v}" is not one of sgd, momentum, adam`);
        return v as OptimizerName;
      },
      "adam",
    )
    .option("--seed <n>", "seed", parseInteger("--seed"), 0)
    .option(
      "--out <dir>",
      "output folder (a fresh one: -2, -3, … is appended if it exists)",
      "gradtrace-demo",
    )
    .action(async (flags: DemoFlags) => {
      const outDir = freshDirectory(flags.out);
      const model = createZooModel(flags.model);
      process.stdout.write(
        `gradtrace demo: training ${model.name} (${parameterCount(model).toLocaleString("en")} parameters) for ${flags.steps} steps with ${flags.optimizer}, seed ${flags.seed}\n`,
      );
      const logger = createTraceLogger({
        outDir,
        params: model.params,
        meta: { model: model.name, optimizer: flags.optimizer, seed: flags.seed },
      });
      const bar = progressBar("train");
      const result = await (async () => {
        try {
          return await train({
            model,
            optimizer: flags.optimizer,
            steps: flags.steps,
            seed: flags.seed,
            onStep: (info) => {
              logger.onStep(info);
              bar.update(info.step + 1, flags.steps, { loss: `loss ${info.loss.toFixed(3)}` });
            },
          });
        } finally {
          bar.stop();
          logger.close();
        }
      })();
      const first = result.loss[0];
      const last = result.loss[result.loss.length - 1];
      process.stdout.write(
        `trained in ${result.seconds.toFixed(1)} s (${result.stepsPerSecond.toFixed(1)} steps/s); loss ${first.toFixed(3)} → ${last.toFixed(3)}; trace: ${logger.tracePath}\n\n`,
      );
      const reader = openTrace(logger.tracePath);
      try {
        const { result: analysis } = await analyzeWithSeries(reader, {});
        const json = path.join(outDir, "analysis.json");
        const html = path.join(outDir, "report.html");
        writeOutput(json, `${JSON.stringify(analysis, null, 1)}\n`, { what: "demo" });
        writeOutput(html, renderHtmlReport(analysis), { what: "demo" });
        process.stdout.write(`${renderTable(analysis)}\n\n${analysis.summary}\n\n`);
        process.stdout.write(
          `wrote ${html} and ${json}\nnext: npx gradtrace analyze ${logger.tracePath} --predictors last,ema0.9,ar2  |  npx gradtrace serve ${outDir}\n`,
        );
      } finally {
        reader.close();
      }
    });
}
