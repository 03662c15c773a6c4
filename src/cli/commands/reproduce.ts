/** @file `gradtrace reproduce <experiment>`: the two papers' experiments end to end, written as a markdown report
 * with tables, SVG figures and JSON under docs/reproductions/ (or --out). */
import type { Command } from "commander";
import { GradtraceError } from "../../core/index.ts";
import { DEFAULT_JOBS } from "../../lab/index.ts";
import { reproduceLowRankGradients, reproducePredictableManifolds } from "../../reproduce/index.ts";
import { parseInteger } from "../parse.ts";
import { progressBar } from "../progress.ts";
import { QUEUE_FLAG_HELP, queueOptions, queueUrl } from "../queueFlags.ts";

const EXPERIMENTS = ["low-rank-gradients", "predictable-manifolds"] as const;

interface ReproduceFlags {
  out: string;
  budget: string;
  jobs: number;
  queue?: string;
}

export function registerReproduceCommand(program: Command): void {
  program
    .command("reproduce")
    .description(
      "Reproduce a paper's experiments and write a report with an honest verdict per claim: " +
        "low-rank-gradients (Sonthalia, Murray, Montúfar 2025: spiked two-layer lab) or predictable-manifolds " +
        "(Calvo 2026: model zoo × optimizers × seeds).",
    )
    .argument("<experiment>", EXPERIMENTS.join(" | "))
    .option("--out <dir>", "report folder", "docs/reproductions")
    .option(
      "--budget <budget>",
      "quick (default, minutes on 2 cores) or full (the papers' grid); predictable-manifolds also has smoke",
      "quick",
    )
    .option(
      "--jobs <n>",
      "worker threads for the spiked-lab sweeps",
      parseInteger("--jobs", { min: 1 }),
      DEFAULT_JOBS,
    )
    .option(
      "--queue <url>",
      `${QUEUE_FLAG_HELP}; low-rank-gradients only: every spiked-lab configuration becomes a job (--jobs is then unused); the report's numbers equal a local run's`,
      queueUrl,
    )
    .action(async (experiment: string, flags: ReproduceFlags) => {
      if (experiment === "low-rank-gradients") {
        if (flags.budget !== "quick" && flags.budget !== "full") {
          throw new GradtraceError("E_ARG", `--budget: "${flags.budget}" is not quick or full`);
        }
        const queued = flags.queue ? queueOptions(flags.queue, "reproduce") : null;
        const r = await reproduceLowRankGradients({
          outDir: flags.out,
          budget: flags.budget,
          jobs: flags.jobs,
          ...(queued ? { queue: queued.queue } : {}),
          onProgress: (m) => process.stderr.write(`${m}\n`),
        }).finally(() => queued?.stop());
        process.stdout.write(`wrote ${r.reportPath}\n`);
        return;
      }
      if (experiment === "predictable-manifolds") {
        if (flags.queue) {
          throw new GradtraceError(
            "E_UNSUPPORTED",
            "--queue: predictable-manifolds trains its zoo models on this machine (the queue runs the spiked-lab configurations of low-rank-gradients)",
          );
        }
        if (!["smoke", "quick", "full"].includes(flags.budget)) {
          throw new GradtraceError("E_ARG", `--budget: "${flags.budget}" is not smoke, quick or full`);
        }
        const bar = progressBar("reproduce");
        try {
          const r = await reproducePredictableManifolds({
            outDir: flags.out,
            budget: flags.budget as "smoke" | "quick" | "full",
            onProgress: (p) =>
              bar.update(p.done, p.total, { run: `${p.phase} ${p.model}/${p.optimizer}/seed ${p.seed}` }),
          });
          bar.stop();
          process.stdout.write(`wrote ${r.files.markdown}\n`);
        } finally {
          bar.stop();
        }
        return;
      }
      throw new GradtraceError(
        "E_ARG",
        `unknown experiment "${experiment}" (expected ${EXPERIMENTS.join(" or ")})`,
      );
    });
}
