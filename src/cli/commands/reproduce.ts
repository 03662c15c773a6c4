/** @file `gradtrace reproduce <experiment>`: the two papers' experiments end to end, written as a markdown report
 * with tables, SVG figures and JSON under docs/reproductions/ (or --out). */
import * as path from "node:path";
import type { Command } from "commander";
import { GradtraceError } from "../../core/index.ts";
import { DEFAULT_JOBS } from "../../lab/index.ts";
import {
  REPRODUCE_BUDGET_NAMES,
  type ReproduceBudget,
  type ReproduceProgress,
  type ReproduceResult,
  reproduceGaloreAdvice,
  reproduceLowRankGradients,
  reproducePredictableManifolds,
} from "../../reproduce/index.ts";
import { parseInteger } from "../parse.ts";
import { progressBar } from "../progress.ts";
import { QUEUE_FLAG_HELP, queueRunOptions, queueUrl } from "../queueFlags.ts";

const EXPERIMENTS = ["galore-advice", "low-rank-gradients", "predictable-manifolds"] as const;

function isBudget(value: string): value is ReproduceBudget {
  return (REPRODUCE_BUDGET_NAMES as readonly string[]).includes(value);
}

interface ReproduceFlags {
  out: string;
  budget: string;
  jobs: number;
  records?: string;
  queue?: string;
}

export function registerReproduceCommand(program: Command): void {
  program
    .command("reproduce")
    .description(
      "Reproduce a paper's experiments and write a report with an honest verdict per claim: " +
        "low-rank-gradients (Sonthalia, Murray, Montúfar 2025: spiked two-layer lab) or predictable-manifolds " +
        "(Calvo 2026: model zoo × optimizers × seeds), or galore-advice (does `gradtrace advise` pick better GaLore " +
        "settings than a uniform one at equal memory? full Adam, uniform and advised projected Adam on zoo models).",
    )
    .argument("<experiment>", EXPERIMENTS.join(" | "))
    .option("--out <dir>", "report folder", "docs/reproductions")
    .option(
      "--budget <budget>",
      "smoke (seconds, a pipeline check), quick (default, minutes on 2 cores) or full (the papers' grid; " +
        "predictable-manifolds: 8 models × 3 optimizers × 3 seeds, 300–400 steps, hours on 2 cores)",
      "quick",
    )
    .option(
      "--jobs <n>",
      "worker threads (spiked-lab sweeps; predictable-manifolds training runs)",
      parseInteger("--jobs", { min: 1 }),
      DEFAULT_JOBS,
    )
    .option(
      "--records <file>",
      "judge and render the records of an earlier run (its JSON records file) again instead of training; keeps " +
        "that run's budget and wall time",
    )
    .option(
      "--queue <url>",
      `${QUEUE_FLAG_HELP}; every spiked-lab configuration (low-rank-gradients) or training run (predictable-manifolds) becomes a job (--jobs is then unused); the records equal a local run's`,
      queueUrl,
    )
    .action(async (experiment: string, flags: ReproduceFlags) => {
      if ((EXPERIMENTS as readonly string[]).includes(experiment) && !isBudget(flags.budget)) {
        throw new GradtraceError(
          "E_ARG",
          `--budget: "${flags.budget}" is not one of ${REPRODUCE_BUDGET_NAMES.join(", ")}`,
        );
      }
      const budget = flags.budget as ReproduceBudget;
      if (experiment === "galore-advice" && flags.queue) {
        throw new GradtraceError(
          "E_UNSUPPORTED",
          "--queue: galore-advice runs on this machine (the queue runs low-rank-gradients and predictable-manifolds)",
        );
      }
      // The queue's notices go to stderr; its progress is the reproduction's own bar (one event per finished job).
      const queue = flags.queue
        ? {
            queue: queueRunOptions(flags.queue, "reproduce", {
              runLabel: `reproduce ${experiment} --budget ${budget} --out ${path.resolve(flags.out)}`,
            }),
          }
        : {};
      const common = { outDir: flags.out, budget, ...(flags.records ? { records: flags.records } : {}) };
      if (experiment === "galore-advice") {
        await runReproduction((onProgress) => reproduceGaloreAdvice({ ...common, onProgress }));
        return;
      }
      if (experiment === "low-rank-gradients") {
        await runReproduction((onProgress) =>
          reproduceLowRankGradients({ ...common, jobs: flags.jobs, ...queue, onProgress }),
        );
        return;
      }
      if (experiment === "predictable-manifolds") {
        await runReproduction((onProgress) =>
          reproducePredictableManifolds({ ...common, jobs: flags.jobs, ...queue, onProgress }),
        );
        return;
      }
      throw new GradtraceError(
        "E_ARG",
        `unknown experiment "${experiment}" (expected ${EXPERIMENTS.join(" or ")})`,
      );
    });
}

/** Runs one reproduction with a progress bar on a terminal (one timestamped line per event otherwise: the logs of
 * long background runs), then prints its verdicts and where the report went. */
async function runReproduction(
  run: (onProgress: (p: ReproduceProgress) => void) => Promise<ReproduceResult>,
): Promise<void> {
  const bar = progressBar("reproduce");
  try {
    const r = await run((p) => {
      bar.update(p.done, p.total, { info: `${p.phase}: ${p.message}` });
      if (!process.stderr.isTTY)
        process.stderr.write(`${new Date().toISOString()} [${p.done}/${p.total}] ${p.phase}: ${p.message}\n`);
    });
    bar.stop();
    for (const v of r.verdicts) process.stdout.write(`${v.verdict.padEnd(19)}  ${v.claim}\n`);
    process.stdout.write(`wrote ${r.reportPath} (${r.files.length} files, ${Math.round(r.seconds)} s)\n`);
  } finally {
    bar.stop();
  }
}
