/** @file `gradtrace lab spiked`: the spiked two-layer laboratory (docs/lab-spiked.md). Flags map onto SpikedConfig
 * (src/lab/spiked/experiment.ts) and SweepOptions; the work is runSpiked / runSweep. A single configuration prints a
 * table per analyzed step; `--sweep` (or several values of --activation/--scaling/--weights) runs a sweep on a worker
 * pool and writes JSON, CSV and an SVG figure to --out. */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { Mat } from "../../core/index.ts";
import { GradtraceError } from "../../core/index.ts";
import { makeDir, writeJsonAtomic } from "../../io/index.ts";
import {
  ACTIVATION_NAMES,
  type ActivationName,
  BULK_NORMALISE_NAMES,
  DEFAULT_SPIKED_CONFIG,
  DEFAULT_SWEEP_OPTIONS,
  DEPENDENT_READINGS,
  parseSweep,
  resolveConfig,
  runSpiked,
  runSweep,
  type SpikedConfig,
  type SweepOptions,
  type SweepSeries,
  type SweepSpec,
  spikedTable,
  sweepTable,
} from "../../lab/index.ts";
import type { TraceWriter } from "../../trace/index.ts";
import { createGtraceWriter } from "../../trace/index.ts";
import { parseInteger, parseList, parseNumber, parseNumberList } from "../parse.ts";
import { QUEUE_FLAG_HELP, queueOptions, queueUrl } from "../queueFlags.ts";

/** The flags: SpikedConfig's fields (categorical ones as lists, which make a sweep), the sweep's options, and the
 * outputs. Typed from the library so a renamed or retyped field cannot drift. */
type LabSpikedFlags = Omit<SpikedConfig, "activation" | "scaling" | "weights" | "analyzeSteps"> &
  Required<Pick<SweepOptions, "seeds" | "jobs">> & {
    activation: ActivationName[];
    scaling: SpikedConfig["scaling"][];
    weights: SpikedConfig["weights"][];
    analyzeSteps?: number[];
    json?: string;
    sweep?: string;
    out?: string;
    trace?: string;
    queue?: string;
    force: boolean;
    quiet: boolean;
  };

/** The library's default of a SpikedConfig field, for commander (the default value) and the help text. */
const D = DEFAULT_SPIKED_CONFIG;

function oneOf<T extends string>(option: string, allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = parseList(value);
    for (const v of items) {
      if (!(allowed as readonly string[]).includes(v)) {
        throw new GradtraceError("E_ARG", `${option}: "${v}" is not one of ${allowed.join(", ")}`);
      }
    }
    if (items.length === 0) throw new GradtraceError("E_ARG", `${option}: no value given`);
    return items as T[];
  };
}

function single<T extends string>(option: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new GradtraceError("E_ARG", `${option}: "${value}" is not one of ${allowed.join(", ")}`);
    }
    return value as T;
  };
}

/** The flags as a base configuration (list-valued flags contribute their first value). */
export function flagsToConfig(f: LabSpikedFlags): Partial<SpikedConfig> {
  return {
    n: f.n,
    d: f.d,
    m: f.m,
    nu: f.nu,
    alpha: f.alpha,
    activation: f.activation[0],
    scaling: f.scaling[0],
    weights: f.weights[0],
    dependentReading: f.dependentReading,
    bulkNormalise: f.bulkNormalise,
    testSamples: f.testSamples,
    noiseDraws: f.noiseDraws,
    seed: f.seed,
    data: f.data,
    basis: f.basis,
    teacherIncludesSpike: f.teacherIncludesSpike,
    labelNoise: f.labelNoise,
    steps: f.steps,
    lr: f.lr,
    batchSize: f.batchSize,
    weightDecay: f.weightDecay,
    inputNoise: f.inputNoise,
    jacobianPenalty: f.jacobianPenalty,
    stopOnDivergence: f.stopOnDivergence,
    analyzeSteps: f.analyzeSteps ?? [],
    topK: f.topK,
    fullSpectrum: f.fullSpectrum,
    gemm: f.gemm,
  };
}

/** Series = every combination of the multi-valued categorical flags that are not the swept parameter. */
export function seriesFromFlags(f: LabSpikedFlags, sweep: SweepSpec): SweepSeries[] {
  const lists: [keyof SpikedConfig, string[]][] = (
    [
      ["activation", f.activation],
      ["scaling", f.scaling],
      ["weights", f.weights],
    ] as [keyof SpikedConfig, string[]][]
  ).filter(([key, values]) => values.length > 1 && key !== sweep.param);
  let series: SweepSeries[] = [{ label: "", config: {} }];
  for (const [key, values] of lists) {
    series = series.flatMap((s) =>
      values.map((v) => ({ label: s.label ? `${s.label}, ${v}` : v, config: { ...s.config, [key]: v } })),
    );
  }
  return series.map((s) => ({ ...s, label: s.label || "base" }));
}

function traceFile(path: string): string {
  if (path.endsWith(".gtrace")) return path;
  makeDir(path, "--trace");
  return join(path, "spiked.gtrace");
}

async function runLabSpiked(f: LabSpikedFlags): Promise<void> {
  const base = flagsToConfig(f);
  const lists = { activation: f.activation, scaling: f.scaling, weights: f.weights };
  const multi = Object.entries(lists).filter(([, v]) => v.length > 1);
  let sweep: SweepSpec | null = f.sweep ? parseSweep(f.sweep) : null;
  if (!sweep && multi.length > 0) {
    const [param, values] = multi[0];
    sweep = { param: param as SweepSpec["param"], values };
  }
  const progress = (msg: string) => {
    if (!f.quiet) process.stderr.write(`${msg}\n`);
  };
  if (!sweep && f.queue)
    throw new GradtraceError(
      "E_ARG",
      "--queue: only a sweep (--sweep, or several --activation/--scaling/--weights) runs on the queue",
    );
  if (sweep) {
    if (f.trace)
      throw new GradtraceError("E_ARG", "--trace: write a trace from a single configuration, not a sweep");
    const out = f.out ?? "spiked-sweep";
    const queued = f.queue
      ? queueOptions(f.queue, "sweep", {
          quiet: f.quiet,
          runLabel: `lab spiked --sweep ${f.sweep ?? `${sweep.param}=${sweep.values.join(",")}`} --seeds ${f.seeds} --out ${resolve(out)}`,
        })
      : null;
    const result = await runSweep({
      base,
      sweep,
      series: seriesFromFlags(f, sweep),
      seeds: f.seeds,
      jobs: f.jobs,
      ...(queued ? { queue: queued.queue } : {}),
      outDir: out,
      force: f.force,
      name: `sweep-${sweep.param}`,
      onProgress: progress,
    }).finally(() => queued?.stop());
    process.stdout.write(
      sweepTable(result, [
        "sigma1",
        "sigma2",
        "stableRank",
        "cosResidue1",
        "cosSpike1",
        "cosSpike2",
        "energyInSpan",
        "s1Norm",
        "s2Norm",
        "errNorm",
      ]),
    );
    process.stdout.write(`wrote ${result.files.join(", ")}\n`);
    if (f.json) writeJson(f.json, result, f.force);
    return;
  }
  const cfg = resolveConfig(base);
  let writer: TraceWriter | null = null;
  let file = "";
  if (f.trace) {
    if (cfg.steps < 1)
      throw new GradtraceError("E_ARG", "--trace: needs --steps ≥ 1 (one gradient per update)");
    file = traceFile(f.trace);
  }
  try {
    const result = await runSpiked(cfg, {
      onProgress: progress,
      onUpdate: f.trace
        ? (step: number, grad: Mat, loss: number, lr: number) => {
            writer ??= createGtraceWriter(file, {
              tensors: [{ name: "W", shape: [grad.rows, grad.cols] }],
              meta: {
                source: "gradtrace lab spiked",
                config: { ...cfg, activation: String(cfg.activation) },
              },
              force: f.force,
              fsync: "close",
            });
            writer.append(step, { W: Float32Array.from(grad.data) }, { loss, lr });
          }
        : undefined,
    });
    process.stdout.write(spikedTable(result));
    if (f.json) writeJson(f.json, result, f.force);
    if (file) process.stdout.write(`wrote trace ${file} (${cfg.steps} steps of ∇W, ${cfg.m}×${result.d})\n`);
  } finally {
    (writer as TraceWriter | null)?.close();
  }
}

function writeJson(file: string, value: unknown, force: boolean): void {
  writeJsonAtomic(file, value, { force, mkdir: true, what: "--json" });
}

export function registerLabCommand(program: Command): void {
  const lab = program
    .command("lab")
    .description("Laboratories that explain where gradient structure comes from");
  lab
    .command("spiked")
    .description(
      "Spiked two-layer network (Sonthalia, Murray, Montúfar): SVD of the first-layer gradient, its alignment with " +
        "the bulk data-residue X_Bᵀr and the spike q, and the decomposition G = S1 + S2 + E. Defaults = the paper's " +
        "Figure 1. See docs/lab-spiked.md.",
    )
    .option("--n <n>", "samples", parseInteger("--n", { min: 2 }), D.n)
    .option("--d <d>", "input dimension (784 for --data mnist)", parseInteger("--d", { min: 2 }), D.d)
    .option("--m <m>", "hidden width", parseInteger("--m", { min: 1 }), D.m)
    .option("--nu <ν>", "spike strength exponent, ζ = n^ν", parseNumber("--nu"), D.nu)
    .option(
      "--alpha <α>",
      "bulk covariance eigenvalues ∝ k^(−α)",
      parseNumber("--alpha", { min: 0 }),
      D.alpha,
    )
    .option(
      "--activation <list>",
      `${ACTIVATION_NAMES.join(", ")} (a list makes a sweep)`,
      oneOf("--activation", ACTIVATION_NAMES),
      [D.activation as ActivationName],
    )
    .option(
      "--scaling <list>",
      "ntk (γ = 1/√m) or mf (γ = 1/m)",
      oneOf("--scaling", ["ntk", "mf"] as const),
      [D.scaling],
    )
    .option(
      "--weights <list>",
      "independent or dependent (W_S + n^(−1/4)·1qᵀ)",
      oneOf("--weights", ["independent", "dependent"] as const),
      [D.weights],
    )
    .option(
      "--dependent-reading <r>",
      "reading of dependent W: renormalised (rows to unit norm), unnormalised, or scaled (shift / √d)",
      single("--dependent-reading", DEPENDENT_READINGS),
      D.dependentReading,
    )
    .option(
      "--bulk-normalise <how>",
      "bulk eigenvalues k^(−α): mean1 (rescaled to mean 1) or none (as written)",
      single("--bulk-normalise", BULK_NORMALISE_NAMES),
      D.bulkNormalise,
    )
    .option(
      "--test-samples <n>",
      "held-out samples (same distribution); their loss is reported at each analyzed step",
      parseInteger("--test-samples", { min: 0 }),
      D.testSamples,
    )
    .option(
      "--noise-draws <k>",
      "noise draws averaged for input noise's effective regulariser gradient in the analysis",
      parseInteger("--noise-draws", { min: 1 }),
      D.noiseDraws,
    )
    .option("--seed <s>", "seed of every random stream", parseInteger("--seed", { min: 0 }), D.seed)
    .option(
      "--data <source>",
      "synthetic or mnist (digits from the mnist package, standardised, parity targets ±1)",
      single("--data", ["synthetic", "mnist"] as const),
      D.data,
    )
    .option(
      "--basis <b>",
      "covariance eigenbasis: random (Haar) or aligned (same statistics, faster)",
      single("--basis", ["random", "aligned"] as const),
      D.basis,
    )
    .option(
      "--teacher-includes-spike",
      "make the teacher's first direction the spike q",
      D.teacherIncludesSpike,
    )
    .option(
      "--label-noise <s>",
      "sd of Gaussian label noise",
      parseNumber("--label-noise", { min: 0 }),
      D.labelNoise,
    )
    .option(
      "--steps <t>",
      "gradient-descent steps (0: analyze the initialisation only)",
      parseInteger("--steps", { min: 0 }),
      D.steps,
    )
    .option(
      "--lr <η>",
      'learning rate, or "auto" (1/curvature estimate at init; fixed rates that work at small ν diverge at large ν)',
      (v: string): number | "auto" => (v === "auto" ? "auto" : parseNumber("--lr", { min: 0 })(v)),
      D.lr,
    )
    .option(
      "--batch-size <b>",
      "mini-batch size of the updates (0 = full batch)",
      parseInteger("--batch-size", { min: 0 }),
      D.batchSize,
    )
    .option("--weight-decay <λ>", "λ‖W‖_F²", parseNumber("--weight-decay", { min: 0 }), D.weightDecay)
    .option(
      "--input-noise <s>",
      "sd of fresh Gaussian noise added to X every step",
      parseNumber("--input-noise", { min: 0 }),
      D.inputNoise,
    )
    .option(
      "--jacobian-penalty <λ>",
      "λ_J (1/n)Σ‖∂f/∂x‖²",
      parseNumber("--jacobian-penalty", { min: 0 }),
      D.jacobianPenalty,
    )
    .option(
      "--stop-on-divergence",
      "end training where the loss blows up and report the steps analyzed so far (default: fail with E_NUMERIC)",
      D.stopOnDivergence,
    )
    .option(
      "--analyze-steps <list>",
      "steps at which G is analyzed (default 0 and ~8 log-spaced)",
      parseNumberList("--analyze-steps"),
    )
    .option("--top-k <k>", "singular values/vectors reported", parseInteger("--top-k", { min: 1 }), D.topK)
    .option("--no-full-spectrum", "skip the full spectrum (effective rank; ~1 s per analysis at d = 1000)")
    .option(
      "--gemm <kind>",
      "large products: auto, jax (float32 WASM) or float64",
      single("--gemm", ["auto", "jax", "float64"] as const),
      D.gemm,
    )
    .option("--json <file>", "write the result (docs/lab-spiked.md schema)")
    .option(
      "--sweep <spec>",
      'sweep one parameter: "nu=0:0.05:0.45", "alpha=0,0.5556", "weight-decay=0,0.01", "activation=relu,tanh"',
    )
    .option(
      "--seeds <n>",
      "seeds per sweep point (mean ± sd)",
      parseInteger("--seeds", { min: 1 }),
      DEFAULT_SWEEP_OPTIONS.seeds,
    )
    .option(
      "--jobs <n>",
      "worker threads for sweeps (1: in this thread)",
      parseInteger("--jobs", { min: 1 }),
      DEFAULT_SWEEP_OPTIONS.jobs,
    )
    .option("--out <dir>", "sweep output folder (JSON, CSV, SVG)", undefined)
    .option("--trace <path>", "write ∇W of every update as a .gtrace (a folder gets spiked.gtrace)")
    .option("--force", "overwrite existing --json / --trace / sweep outputs", false)
    .option(
      "--queue <url>",
      `${QUEUE_FLAG_HELP}; the sweep's configurations become jobs (--jobs is then unused)`,
      queueUrl,
    )
    .option("-q, --quiet", "no progress on stderr", false)
    .action(async (flags: LabSpikedFlags) => {
      await runLabSpiked(flags);
    });
}
