/** @file `gradtrace analyze <trace>`: flags mapped onto AnalyzeOptions, a progress bar, the terminal table and the
 * JSON / HTML / CSV outputs. Parsing and printing only: the work is analyzeWithSeries(). */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { type AnalyzeOptions, analyzeWithSeries, DEFAULT_ANALYZE_OPTIONS } from "../../analysis/index.ts";
import { GradtraceError } from "../../core/index.ts";
import { makeDir, writeFileAtomic } from "../../io/index.ts";
import { csvFileName, renderHtmlReport, renderTable, seriesCsv } from "../../report/index.ts";
import type { TraceFormat } from "../../trace/index.ts";
import { queueStatusText } from "../../parallel/index.ts";
import { openTrace } from "../../trace/index.ts";
import { type AnalysisFlags, addAnalysisOptions, sharedAnalysisOptions } from "../analysisFlags.ts";
import { bytesText, parseBytes, parseInteger } from "../parse.ts";
import { progressBar } from "../progress.ts";
import { QUEUE_FLAG_HELP, queueRunOptions, queueUrl } from "../queueFlags.ts";

type AnalyzeFlags = AnalysisFlags &
  Required<Pick<AnalyzeOptions, "seed" | "gramKernel" | "strict" | "burnIn">> & {
    format?: TraceFormat;
    /** `--no-matrix`: AnalyzeOptions.matrixGeometry. */
    matrix: boolean;
    /** `--memory`: AnalyzeOptions.memoryBytes. */
    memory?: number;
    json?: string;
    html?: string;
    csv?: string;
    queue?: string;
    stepRanges?: number;
    force: boolean;
    quiet: boolean;
  };

const GRAM_KERNELS = ["wasm", "js", "jax"] as const satisfies readonly NonNullable<
  AnalyzeOptions["gramKernel"]
>[];

const FORMATS: TraceFormat[] = ["safetensors-dir", "npz-dir", "npy-dir", "gtrace", "manifest"];

export function registerAnalyzeCommand(program: Command): void {
  const command = program
    .command("analyze")
    .description(
      "Measure how predictable (path length, κ per predictor) and how low-rank (r*(ε), effective/stable rank) the " +
        "gradients of a logged training run are, per tensor and for the whole model.",
    )
    .argument(
      "<trace>",
      "a trace: a .gtrace file, a directory of step_<n>.safetensors / .npz / step_<n>/*.npy, a trace.json manifest, " +
        "or a run directory holding one (what `gradtrace train --out` and `gradtrace demo` write); symbolic links are followed",
    )
    .option("--format <layout>", `force the trace layout (${FORMATS.join(", ")})`, (v: string) => {
      if (!FORMATS.includes(v as TraceFormat))
        throw new GradtraceError("E_ARG", `--format: "${v}" is not one of ${FORMATS.join(", ")}`);
      return v as TraceFormat;
    });
  addAnalysisOptions(command)
    .option(
      "--burn-in <steps>",
      "leave the first B steps out of every sum (κ, P_T, r*, windows, intervals, bounds; predictors still use them as " +
        `history; exact mode). Default ${DEFAULT_ANALYZE_OPTIONS.burnIn}: the paper's sums over t = 0..T, which include the t = 0 ` +
        "term ‖g_0‖² no predictor can remove (the summary says when it dominates κ)",
      parseInteger("--burn-in", { min: 0 }),
      DEFAULT_ANALYZE_OPTIONS.burnIn,
    )
    .option(
      "--seed <n>",
      "seed for sketches and the bootstrap",
      parseInteger("--seed"),
      DEFAULT_ANALYZE_OPTIONS.seed,
    )
    .option(
      "--no-matrix",
      `skip per-step spectra and stale-projector energy of matrix-shaped tensors (default: ${DEFAULT_ANALYZE_OPTIONS.matrixGeometry ? "computed" : "skipped"})`,
    )
    .option(
      "--memory <size>",
      `memory budget: the exact pass's block buffer (default ${bytesText(DEFAULT_ANALYZE_OPTIONS.memoryBytes)}) or the streaming state (default 1G), e.g. 512M, 4G`,
      parseBytes("--memory"),
    )
    .option(
      "--gram-kernel <kernel>",
      `exact pass products: wasm (float64, WebAssembly SIMD), js (float64, the plain-JavaScript reference; GRADTRACE_KERNELS=js selects it for every kernel) or jax (float32 blocks on @jax-js/jax: ~1e-7·√block relative error per entry); default ${DEFAULT_ANALYZE_OPTIONS.gramKernel}`,
      (v: string) => {
        if (!(GRAM_KERNELS as readonly string[]).includes(v))
          throw new GradtraceError("E_ARG", `--gram-kernel: "${v}" is not one of ${GRAM_KERNELS.join(", ")}`);
        return v;
      },
      DEFAULT_ANALYZE_OPTIONS.gramKernel,
    )
    .option("--json <file>", "write the full result as JSON (schema: docs/json-schema.md)")
    .option("--html <file>", "write a self-contained HTML report")
    .option("--csv <dir>", "write per-step series, one CSV per tensor, into this directory (created)")
    .option(
      "--queue <url>",
      `${QUEUE_FLAG_HELP}; the exact pass's coordinate ranges (the sketched pass's, or the streaming mode's, step ranges) become jobs whose results are added in a fixed order (the numbers equal a local run's; the streaming mode's whole-run spectra come from merged Frequent Directions sketches, inside their stated bound); not with --sketch fd:… or --gram-kernel jax`,
      queueUrl,
    )
    .option(
      "--step-ranges <n>",
      `with --queue in the streaming mode: the step-range jobs the run is cut into (default ${DEFAULT_ANALYZE_OPTIONS.stepRanges}; fewer for short runs); each re-reads the steps before it, so more ranges read more`,
      parseInteger("--step-ranges", { min: 1 }),
    )
    .option("-f, --force", "overwrite existing output files", false)
    .option(
      "--strict",
      "fail (exit 3) on corrupt data — a record or member failing its checksum — instead of excluding that step " +
        "with a warning",
      DEFAULT_ANALYZE_OPTIONS.strict,
    )
    .option("-q, --quiet", "print nothing but errors", false)
    .addHelpText(
      "after",
      `
Reading the numbers:
  κ = P_T / Σ‖g_t‖², P_T = Σ‖g_t − m_t‖² for a history-based predictor m_t. κ(zero) = 1 by definition;
  κ ≪ 1: predictable; κ > 1: worse than predicting nothing (oscillation, minibatch noise).
  κ oracle4: the best rank-4 predictor of the increments in hindsight (Eckart–Young; at rank 0 it is κ last).
  r*(ε): fewest directions holding 1−ε of the energy of the increments g_t − g_{t−1}.
  EMA predictors come in two readings: ema0.9 starts at m_1 = g_0 (no zero-initialisation bias), ema0.9z is
  zero-initialised (m_0 = 0, m_1 = 0.1·g_0); with β = 0.99 their κ can differ by an order of magnitude.
  Bounds: optimistic OGD regret ≤ D·√P_T (tuned step; = R·√(2P_T) with R = D/√2), for the predictor class
  D·√(P*_T + 2E²·ln|M|); nonconvex: (1/T)Σ‖∇f‖² ≤ 2(f(x_0) − f_inf)/(ηT) + P_T/T, only for exact
  (full-batch) gradients.

Examples:
  gradtrace analyze run/trace.gtrace --html report.html
  gradtrace analyze grads/ --include 'encoder.*' --predictors last,ema0.9,ema0.9z,ar2 --json out.json
  gradtrace analyze run/trace.gtrace --burn-in 1   # leave the unpredictable t = 0 term out
  gradtrace analyze big-run/ --sketch countsketch:1024 --memory 2G
  gradtrace analyze long-run.gtrace --mode streaming --fd-rows 32

Modes: up to --exact-max-steps steps (${DEFAULT_ANALYZE_OPTIONS.exactMaxSteps}) the exact mode builds each tensor's T×T Gram; longer runs stream
over time (work linear in T). Both give the same κ; in streaming mode the whole-run r*(ε) is the rank a Frequent
Directions sketch certifies (an upper bound; the JSON gives [lower, upper] and the bound Δ).`,
    )
    .action(async (tracePath: string, flags: AnalyzeFlags) => {
      await runAnalyze(tracePath, flags);
    });
}

async function runAnalyze(tracePath: string, flags: AnalyzeFlags): Promise<void> {
  // Refuse existing outputs before doing minutes of work.
  for (const [flag, file] of [
    ["--json", flags.json],
    ["--html", flags.html],
  ] as const) {
    if (file && fs.existsSync(file) && !flags.force) {
      throw new GradtraceError("E_EXISTS", `${flag}: ${file} already exists (use --force to overwrite)`);
    }
  }
  const reader = openTrace(tracePath, flags.format ? { format: flags.format } : {});
  const bar = progressBar("analyze", { enabled: !flags.quiet && process.stderr.isTTY === true });
  const started = Date.now();
  let jobs = "";
  const queue = flags.queue
    ? queueRunOptions(flags.queue, "analyze", {
        quiet: flags.quiet,
        runLabel: `analyze ${path.resolve(tracePath)}`,
        onStatus: (s) => {
          jobs = `jobs ${s.done}/${s.total}: ${queueStatusText(s)}`;
        },
      })
    : undefined;
  try {
    const { result, series, stepIndices } = await analyzeWithSeries(reader, {
      ...sharedAnalysisOptions(flags),
      seed: flags.seed,
      burnIn: flags.burnIn,
      matrixGeometry: flags.matrix,
      memoryBytes: flags.memory,
      gramKernel: flags.gramKernel,
      ...(queue ? { queue } : {}),
      ...(flags.stepRanges ? { stepRanges: flags.stepRanges } : {}),
      strict: flags.strict,
      onProgress: (p) => {
        const secs = (Date.now() - started) / 1000;
        bar.update(p.done, p.total, {
          rate: `${(p.bytes / 2 ** 30 / Math.max(secs, 1e-3)).toFixed(2)} GB/s`,
          ...(jobs ? { jobs } : {}),
        });
      },
    });
    bar.stop();
    if (flags.json)
      writeFileAtomic(flags.json, `${JSON.stringify(result, null, 1)}\n`, {
        force: flags.force,
        what: "--json",
      });
    if (flags.html)
      writeFileAtomic(flags.html, renderHtmlReport(result), { force: flags.force, what: "--html" });
    if (flags.csv) {
      makeDir(flags.csv, "--csv");
      const used = new Set<string>();
      for (const [name, s] of series) {
        let file = csvFileName(name);
        for (let i = 2; used.has(file); i++) file = csvFileName(`${name}_${i}`);
        used.add(file);
        writeFileAtomic(path.join(flags.csv, file), seriesCsv(stepIndices, s), {
          force: flags.force,
          what: "--csv",
        });
      }
    }
    if (!flags.quiet) {
      for (const p of result.trace.problems)
        process.stderr.write(`warning: ${p.kind === "corrupt-record" ? "corrupt data: " : ""}${p.message}\n`);
      process.stdout.write(`${renderTable(result)}\n\n${result.summary}\n`);
      const written = [flags.json, flags.html, flags.csv].filter(Boolean);
      if (written.length > 0) process.stdout.write(`wrote ${written.join(", ")}\n`);
    }
  } finally {
    bar.stop();
    reader.close();
  }
}
