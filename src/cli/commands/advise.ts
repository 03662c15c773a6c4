/** @file `gradtrace advise <trace...>`: flags mapped onto AdviseOptions, a progress bar, the terminal table (advice
 * per tensor, memory against full Adam and a uniform setting, the caveat, the galore-torch snippet) and the JSON /
 * HTML outputs. Parsing and printing only: the work is advise(). */
import type { Command } from "commander";
import { type AdviseOptions, advise, DEFAULT_ADVISE_OPTIONS } from "../../analysis/index.ts";
import { GradtraceError } from "../../core/index.ts";
import { refuseExisting, writeFileAtomic, writeJsonAtomic } from "../../io/index.ts";
import { renderAdviseHtml, renderAdviseTable } from "../../report/index.ts";
import { parseInteger, parseList, parseNumberList } from "../parse.ts";
import { progressBar } from "../progress.ts";

type AdviseFlags = Required<Pick<AdviseOptions, "target" | "seed">> & {
  ranks?: number[];
  intervals?: number[];
  include?: string[];
  exclude?: string[];
  steps?: number;
  source: NonNullable<AdviseOptions["source"]>;
  minInterval: number;
  maxSide: number;
  json?: string;
  html?: string;
  force: boolean;
  quiet: boolean;
};

const SOURCES = ["auto", "gradients", "rangeSketch"] as const satisfies readonly NonNullable<
  AdviseOptions["source"]
>[];

function parseTarget(value: string): number {
  const x = Number(value);
  if (!(x > 0 && x <= 1))
    throw new GradtraceError("E_ARG", `--target: "${value}" must be a number in (0, 1]`);
  return x;
}

export function registerAdviseCommand(program: Command): void {
  program
    .command("advise")
    .description(
      "Advise a GaLore-style optimizer: for every matrix-shaped tensor, the captured gradient energy E(r, Δ) of a " +
        "rank-r projector refreshed every Δ steps (mean over steps of ‖PᵀG_t‖²/‖G_t‖², P the top-r singular " +
        "subspace of the gradient at the last refresh, on the shorter side), and the cheapest (r, Δ) keeping E ≥ target.",
    )
    .argument(
      "<trace...>",
      "a trace with full gradients (.gtrace, step directory, manifest, or a run directory holding one); several traces = several seeds of one run",
    )
    .option(
      "--target <fraction>",
      `energy each tensor's projector must keep (default ${DEFAULT_ADVISE_OPTIONS.target})`,
      parseTarget,
      DEFAULT_ADVISE_OPTIONS.target,
    )
    .option(
      "--ranks <list>",
      "ranks r of the grid (default 1,2,4,… below each tensor's shorter side)",
      parseNumberList("--ranks"),
    )
    .option(
      "--intervals <list>",
      `refresh intervals Δ in steps (default ${DEFAULT_ADVISE_OPTIONS.intervals.join(",")}; those above the step count are dropped)`,
      parseNumberList("--intervals"),
    )
    .option(
      "--source <source>",
      "where E comes from: auto (full gradients when logged, else range sketches), gradients, or rangeSketch (the logger's range sketches Y = G·Ω, each E with its stated error)",
      (v: string) => {
        if (!SOURCES.includes(v as AdviseFlags["source"]))
          throw new GradtraceError("E_ARG", `--source: "${v}" is not one of ${SOURCES.join(", ")}`);
        return v as AdviseFlags["source"];
      },
      "auto",
    )
    .option(
      "--min-interval <n>",
      `shortest Δ the advice may choose (shorter ones are still measured; an SVD every few steps costs more than the step; default ${DEFAULT_ADVISE_OPTIONS.minInterval})`,
      parseInteger("--min-interval", { min: 1 }),
      DEFAULT_ADVISE_OPTIONS.minInterval,
    )
    .option(
      "--include <patterns>",
      "advise tensors matching these globs or /regex/ (comma-separated; default all)",
      parseList,
    )
    .option(
      "--exclude <patterns>",
      "leave out tensors matching these globs or /regex/ (comma-separated)",
      parseList,
    )
    .option(
      "--steps <n>",
      "use only the first n steps of each trace (a pilot run)",
      parseInteger("--steps", { min: 2 }),
    )
    .option(
      "--max-side <n>",
      `skip tensors whose shorter side exceeds n (the SVD per refresh costs ~6·l·s²; default ${DEFAULT_ADVISE_OPTIONS.maxSide})`,
      parseInteger("--max-side", { min: 2 }),
      DEFAULT_ADVISE_OPTIONS.maxSide,
    )
    .option(
      "--seed <n>",
      "seed of the bootstrap and of randomized SVDs",
      parseInteger("--seed"),
      DEFAULT_ADVISE_OPTIONS.seed,
    )
    .option(
      "--json <file>",
      "write the result as JSON (tensors[] with name, ranks, intervals, energy, advice; docs/advise.md)",
    )
    .option("--html <file>", "write a self-contained HTML page with a heatmap of E over r × Δ per tensor")
    .option("-f, --force", "overwrite existing output files", false)
    .option("-q, --quiet", "print nothing but errors", false)
    .addHelpText(
      "after",
      `
Reading the numbers:
  E(r, Δ) ∈ [0, 1]: the share of the gradient's squared norm the projector keeps, averaged over steps; the
  interval is a 95% block bootstrap over steps (blocks ≥ Δ), or Student-t over seeds with several traces.
  memory: optimizer state of projected Adam, r·(2·long + short) numbers, against full Adam's 2·rows·cols.
  progress: share of the first-order loss decrease ⟨g, u⟩ the projected update keeps (traces with momentum).

Caveat: captured gradient energy is not captured progress (Song, Ahn & Yun, ICLR 2025); train to be sure
(gradtrace reproduce galore-advice does, on the zoo).

Examples:
  gradtrace advise run/ --target 0.8
  gradtrace advise seed0/ seed1/ seed2/ --ranks 4,8,16,32 --intervals 10,50,200 --json advice.json --html advice.html`,
    )
    .action(async (traces: string[], flags: AdviseFlags) => {
      await runAdvise(traces, flags);
    });
}

async function runAdvise(traces: string[], flags: AdviseFlags): Promise<void> {
  // Refuse existing outputs before minutes of SVDs.
  if (flags.json) refuseExisting(flags.json, flags.force, "--json");
  if (flags.html) refuseExisting(flags.html, flags.force, "--html");
  const bar = progressBar("advise", { enabled: !flags.quiet && process.stderr.isTTY === true });
  try {
    const result = await advise(traces, {
      target: flags.target,
      seed: flags.seed,
      maxSide: flags.maxSide,
      minInterval: flags.minInterval,
      source: flags.source,
      ...(flags.ranks ? { ranks: flags.ranks } : {}),
      ...(flags.intervals ? { intervals: flags.intervals } : {}),
      ...(flags.include ? { include: flags.include } : {}),
      ...(flags.exclude ? { exclude: flags.exclude } : {}),
      ...(flags.steps ? { steps: flags.steps } : {}),
      onProgress: (p) => bar.update(p.done, p.total, { info: p.tensor }),
    });
    bar.stop();
    if (flags.json) writeJsonAtomic(flags.json, result, { force: flags.force, what: "--json" });
    if (flags.html)
      writeFileAtomic(flags.html, renderAdviseHtml(result), { force: flags.force, what: "--html" });
    if (!flags.quiet) {
      process.stdout.write(`${renderAdviseTable(result)}\n`);
      const written = [flags.json, flags.html].filter(Boolean);
      if (written.length > 0) process.stdout.write(`wrote ${written.join(", ")}\n`);
    }
  } finally {
    bar.stop();
  }
}
