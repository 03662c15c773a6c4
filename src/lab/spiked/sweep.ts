/** @file Sweeps of the spiked lab: one parameter on the x axis (`nu=0:0.05:0.45`, `alpha=0,0.5556`,
 * `activation=relu,tanh`), optional series (lists of activation / scaling / weights), several seeds summarised as
 * mean ± sd, run on the worker pool; writes JSON, CSV and an SVG figure with one panel per quantity. */
import { join } from "node:path";
import { GradtraceError } from "../../core/index.ts";
import { refuseExisting, writeFileAtomic, writeJsonAtomic } from "../../io/index.ts";
import { type ChartPanel, renderSvgChart } from "../../report/index.ts";
import type { SpikedConfig, SpikedConfigJson, SpikedResult, StepRecord } from "./experiment.ts";
import { labelledQueue, type QueueOptions } from "../../parallel/index.ts";
import { DEFAULT_JOBS, runMany } from "./pool.ts";

export const NUMERIC_SWEEP_PARAMS = [
  "nu",
  "alpha",
  "weightDecay",
  "inputNoise",
  "jacobianPenalty",
  "labelNoise",
  "lr",
  "steps",
  "n",
  "d",
  "m",
] as const;
export const CATEGORICAL_SWEEP_PARAMS = [
  "activation",
  "scaling",
  "weights",
  "dependentReading",
  "bulkNormalise",
  "data",
] as const;
export type NumericSweepParam = (typeof NUMERIC_SWEEP_PARAMS)[number];
export type CategoricalSweepParam = (typeof CATEGORICAL_SWEEP_PARAMS)[number];
export type SweepParam = NumericSweepParam | CategoricalSweepParam;

export interface SweepSpec {
  param: SweepParam;
  values: (number | string)[];
}

/** CLI spellings (kebab-case) of the sweepable parameters. */
const ALIASES: Record<string, SweepParam> = {
  "weight-decay": "weightDecay",
  "input-noise": "inputNoise",
  "jacobian-penalty": "jacobianPenalty",
  "label-noise": "labelNoise",
  "dependent-reading": "dependentReading",
  "bulk-normalise": "bulkNormalise",
};

/** "nu=0:0.05:0.45" (start:step:stop, inclusive), "alpha=0,0.5556,0.8889" or "activation=relu,tanh". */
export function parseSweep(text: string): SweepSpec {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new GradtraceError("E_ARG", `--sweep: expected PARAM=VALUES (e.g. nu=0:0.05:0.45), got "${text}"`);
  }
  const rawName = text.slice(0, eq).trim();
  const param = (ALIASES[rawName] ?? rawName) as SweepParam;
  const body = text.slice(eq + 1).trim();
  if (body === "") throw new GradtraceError("E_ARG", `--sweep: no values for ${rawName}`);
  if ((CATEGORICAL_SWEEP_PARAMS as readonly string[]).includes(param)) {
    const values = body
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (values.length === 0) throw new GradtraceError("E_ARG", `--sweep: no values for ${param}`);
    return { param, values };
  }
  if (!(NUMERIC_SWEEP_PARAMS as readonly string[]).includes(param)) {
    throw new GradtraceError(
      "E_ARG",
      `--sweep: unknown parameter "${rawName}"; expected one of ${[...NUMERIC_SWEEP_PARAMS, ...CATEGORICAL_SWEEP_PARAMS].join(", ")}`,
    );
  }
  let values: number[];
  if (body.includes(":")) {
    const parts = body.split(":").map(Number);
    if (
      parts.length !== 3 ||
      parts.some((v) => !Number.isFinite(v)) ||
      !(parts[1] > 0) ||
      parts[2] < parts[0]
    ) {
      throw new GradtraceError(
        "E_ARG",
        `--sweep: range must be start:step:stop with step > 0, got "${body}"`,
      );
    }
    const [start, step, stop] = parts;
    const count = Math.floor((stop - start) / step + 1e-9) + 1;
    values = Array.from({ length: count }, (_, i) => Number((start + i * step).toPrecision(12)));
  } else {
    values = body.split(",").map((s) => Number(s.trim()));
    if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
      throw new GradtraceError("E_ARG", `--sweep: values must be numbers, got "${body}"`);
    }
  }
  return { param, values };
}

/** Scalar summaries of one analyzed gradient that sweeps tabulate and plot. */
export const SWEEP_QUANTITIES = {
  sigma1: (r: StepRecord) => r.singularValues[0] ?? Number.NaN,
  sigma2: (r: StepRecord) => r.singularValues[1] ?? Number.NaN,
  /** Leading singular values above the bulk edge, and σ_i over the edge β = σ_4 (metrics.ts). */
  outliers: (r: StepRecord) => r.outliers,
  bulkEdge: (r: StepRecord) => r.bulkEdge,
  bulkSpacing: (r: StepRecord) => r.bulkSpacing,
  /** Gaps after σ1 and σ2 in units of the bulk spacing δ (> 6: an outlier boundary). */
  gap1: (r: StepRecord) =>
    ((r.singularValues[0] ?? Number.NaN) - (r.singularValues[1] ?? Number.NaN)) / r.bulkSpacing,
  gap2: (r: StepRecord) =>
    ((r.singularValues[1] ?? Number.NaN) - (r.singularValues[2] ?? Number.NaN)) / r.bulkSpacing,
  sigma1OverEdge: (r: StepRecord) => (r.singularValues[0] ?? Number.NaN) / r.bulkEdge,
  sigma2OverEdge: (r: StepRecord) => (r.singularValues[1] ?? Number.NaN) / r.bulkEdge,
  sigma3OverEdge: (r: StepRecord) => (r.singularValues[2] ?? Number.NaN) / r.bulkEdge,
  stableRank: (r: StepRecord) => r.stableRank,
  effectiveRank: (r: StepRecord) => r.effectiveRank ?? Number.NaN,
  top2Energy: (r: StepRecord) => r.top2Energy,
  energyInSpan: (r: StepRecord) => r.energyInSpan,
  cosResidue1: (r: StepRecord) => r.cosResidue[0] ?? Number.NaN,
  cosResidue2: (r: StepRecord) => r.cosResidue[1] ?? Number.NaN,
  cosSpike1: (r: StepRecord) => r.cosSpike[0] ?? Number.NaN,
  cosSpike2: (r: StepRecord) => r.cosSpike[1] ?? Number.NaN,
  s1Norm: (r: StepRecord) => r.s1Norm,
  s2Norm: (r: StepRecord) => r.s2Norm,
  errNorm: (r: StepRecord) => r.errNorm,
  s2OverS1: (r: StepRecord) => r.s2Norm / r.s1Norm,
  /** ‖E‖/‖S1‖ in operator norm: the bulk fluctuation against the residue spike. */
  errOverS1: (r: StepRecord) => r.errNorm / r.s1Norm,
  cosLeftFactors: (r: StepRecord) => r.cosLeftFactors,
  /** ‖S1‖/‖G_data‖_F and ‖S2‖/‖G_data‖_F: the components' shares of the data gradient, comparable across
   * scalings, activations and regularisers (whose own gradient is not part of G_data). */
  s1Share: (r: StepRecord) => r.s1Norm / r.dataFrobeniusNorm,
  s2Share: (r: StepRecord) => r.s2Norm / r.dataFrobeniusNorm,
  /** ‖G − G_data‖: the regulariser's own gradient. */
  regNorm: (r: StepRecord) => r.regNorm,
  /** ‖G_reg‖_F/‖G_data‖_F: how large the regulariser's gradient is against the data gradient. */
  regShare: (r: StepRecord) => r.regFrobeniusNorm / r.dataFrobeniusNorm,
  /** The components of the total gradient (λ∇R inside; decomposition.ts). */
  s1NormTotal: (r: StepRecord) => r.s1NormTotal,
  s2NormTotal: (r: StepRecord) => r.s2NormTotal,
  errNormTotal: (r: StepRecord) => r.errNormTotal,
  /** σ1²/‖G‖_F² (= 1/stableRank). */
  top1Energy: (r: StepRecord) => 1 / r.stableRank,
  dataLoss: (r: StepRecord) => r.dataLoss,
  /** Held-out loss (NaN without a held-out set). */
  testLoss: (r: StepRecord) => r.testLoss ?? Number.NaN,
} as const;
export type SweepQuantity = keyof typeof SWEEP_QUANTITIES;

/** Panels drawn by default (the rest are in the JSON/CSV). */
export const DEFAULT_FIGURE_QUANTITIES: readonly SweepQuantity[] = [
  "sigma1",
  "sigma2",
  "stableRank",
  "top2Energy",
  "energyInSpan",
  "cosResidue1",
  "cosSpike1",
  "cosSpike2",
  "s1Norm",
  "s2Norm",
  "errNorm",
  "s2OverS1",
];
/** Panel titles of the sweep figures. */
export const QUANTITY_LABELS: Record<SweepQuantity, string> = {
  sigma1: "σ1",
  sigma2: "σ2",
  outliers: "outliers above the bulk edge",
  bulkEdge: "bulk edge σ4",
  bulkSpacing: "bulk spacing δ = (σ4 − σk)/(k − 4)",
  gap1: "(σ1 − σ2)/δ",
  gap2: "(σ2 − σ3)/δ",
  sigma1OverEdge: "σ1/σ4",
  sigma2OverEdge: "σ2/σ4",
  sigma3OverEdge: "σ3/σ4",
  stableRank: "stable rank ‖G‖²_F/σ1²",
  effectiveRank: "effective rank",
  top2Energy: "(σ1² + σ2²)/‖G‖²_F",
  energyInSpan: "energy in span{X_Bᵀr, q}",
  cosResidue1: "|cos(v1, X_Bᵀr)|",
  cosResidue2: "|cos(v2, X_Bᵀr)|",
  cosSpike1: "|cos(v1, q)|",
  cosSpike2: "|cos(v2, q)|",
  s1Norm: "‖S1‖",
  s2Norm: "‖S2‖",
  errNorm: "‖E‖",
  s2OverS1: "‖S2‖/‖S1‖",
  errOverS1: "‖E‖/‖S1‖",
  cosLeftFactors: "|cos(a∘μ, c)|",
  s1Share: "‖S1‖/‖G_data‖_F",
  s2Share: "‖S2‖/‖G_data‖_F",
  regNorm: "‖G_reg‖ (regulariser)",
  regShare: "‖G_reg‖_F/‖G_data‖_F",
  s1NormTotal: "‖S1ᴳ‖ (λ∇R inside)",
  s2NormTotal: "‖S2ᴳ‖ (λ∇R inside)",
  errNormTotal: "‖Eᴳ‖ (λ∇R inside)",
  top1Energy: "σ1²/‖G‖²_F",
  dataLoss: "data loss",
  testLoss: "held-out loss",
};
const LOG_QUANTITIES = new Set<SweepQuantity>([
  "s1Norm",
  "s2Norm",
  "errNorm",
  "s2OverS1",
  "errOverS1",
  "sigma1",
  "sigma2",
  "s1NormTotal",
  "s2NormTotal",
  "errNormTotal",
]);

export interface SweepSeries {
  /** Legend label, e.g. "tanh, dependent". */
  label: string;
  /** Config fields that define the series. */
  config: Partial<SpikedConfig>;
}

/** What `seeds` and `jobs` of `SweepOptions` mean when left out. */
export const DEFAULT_SWEEP_OPTIONS = Object.freeze({ seeds: 1, jobs: DEFAULT_JOBS });

export interface SweepOptions {
  /** Fixed configuration shared by all points. */
  base?: Partial<SpikedConfig>;
  sweep: SweepSpec;
  /** Series (default: one series "base"). */
  series?: SweepSeries[];
  /** Seeds base.seed, base.seed + 1, … (default 1). */
  seeds?: number;
  jobs?: number;
  /** Run the configurations on this Redis queue (`gradtrace worker` processes) instead of local threads. */
  queue?: QueueOptions;
  /** Which analyzed record each run contributes: the first (initialisation) or the last (after training). */
  at?: "first" | "last";
  /** Output folder for <name>.json, <name>.csv, <name>.svg; nothing is written when absent. */
  outDir?: string;
  /** Replace existing output files (default false: E_EXISTS before any configuration runs). */
  force?: boolean;
  name?: string;
  title?: string;
  figureQuantities?: readonly SweepQuantity[];
  onProgress?: (message: string) => void;
}

export interface SweepPoint {
  series: string;
  x: number | string;
  seeds: number[];
  mean: Record<SweepQuantity, number>;
  sd: Record<SweepQuantity, number>;
}

export interface SweepResult {
  param: SweepParam;
  values: (number | string)[];
  series: string[];
  at: "first" | "last";
  base: Partial<SpikedConfigJson>;
  points: SweepPoint[];
  /** Every run's analyzed record (the one summarised), in point order then seed order. */
  runs: { series: string; x: number | string; seed: number; record: StepRecord; seconds: number }[];
  seconds: number;
  files: string[];
}

function meanSd(xs: number[]): [number, number] {
  const ok = xs.filter(Number.isFinite);
  if (ok.length === 0) return [Number.NaN, Number.NaN];
  const mean = ok.reduce((s, v) => s + v, 0) / ok.length;
  if (ok.length < 2) return [mean, 0];
  const v = ok.reduce((s, x) => s + (x - mean) ** 2, 0) / (ok.length - 1);
  return [mean, Math.sqrt(v)];
}

export async function runSweep({
  base = {},
  sweep,
  series = [{ label: "base", config: {} }],
  seeds = DEFAULT_SWEEP_OPTIONS.seeds,
  jobs = DEFAULT_SWEEP_OPTIONS.jobs,
  queue,
  at = "last",
  outDir,
  force = false,
  name = `sweep-${sweep.param}`,
  title,
  figureQuantities = DEFAULT_FIGURE_QUANTITIES,
  onProgress,
}: SweepOptions): Promise<SweepResult> {
  const outputs = outDir
    ? (["json", "csv", "svg"] as const).map((ext) => join(outDir, `${name}.${ext}`))
    : [];
  for (const file of outputs) refuseExisting(file, force, "sweep");
  const started = performance.now();
  const baseSeed = base.seed ?? 0;
  const configs: Partial<SpikedConfig>[] = [];
  const keys: { series: string; x: number | string; seed: number }[] = [];
  for (const s of series) {
    for (const x of sweep.values) {
      for (let k = 0; k < seeds; k++) {
        configs.push({ ...base, ...s.config, [sweep.param]: x, seed: baseSeed + k });
        keys.push({ series: s.label, x, seed: baseSeed + k });
      }
    }
  }
  const results: SpikedResult[] = await runMany(configs, {
    jobs,
    ...(queue
      ? { queue: labelledQueue(queue, `spiked sweep ${sweep.param}: ${configs.length} configurations`) }
      : {}),
    onDone: (done, total) => onProgress?.(`${name}: ${done}/${total} configurations`),
  });
  const runs = results.map((r, i) => ({
    ...keys[i],
    record: at === "first" ? r.records[0] : r.records[r.records.length - 1],
    seconds: r.seconds,
  }));
  const points: SweepPoint[] = [];
  for (const s of series) {
    for (const x of sweep.values) {
      const mine = runs.filter((r) => r.series === s.label && r.x === x);
      const mean = {} as Record<SweepQuantity, number>;
      const sd = {} as Record<SweepQuantity, number>;
      for (const [q, f] of Object.entries(SWEEP_QUANTITIES) as [SweepQuantity, (r: StepRecord) => number][]) {
        [mean[q], sd[q]] = meanSd(mine.map((r) => f(r.record)));
      }
      points.push({ series: s.label, x, seeds: mine.map((r) => r.seed), mean, sd });
    }
  }
  const { activation, ...restBase } = base;
  const baseJson: Partial<SpikedConfigJson> = {
    ...restBase,
    ...(activation === undefined
      ? {}
      : { activation: typeof activation === "string" ? activation : activation.name }),
  };
  const result: SweepResult = {
    param: sweep.param,
    values: sweep.values,
    series: series.map((s) => s.label),
    at,
    base: baseJson,
    points,
    runs,
    seconds: (performance.now() - started) / 1000,
    files: [],
  };
  if (outputs.length > 0) {
    const [json, csv, svg] = outputs;
    result.files.push(json, csv, svg);
    const options = { force, mkdir: true, what: "sweep" };
    writeJsonAtomic(json, result, options);
    writeFileAtomic(csv, sweepCsv(result), options);
    writeFileAtomic(
      svg,
      sweepFigure(result, { title: title ?? name, quantities: figureQuantities }),
      options,
    );
  }
  return result;
}

/** One row per (series, x): mean and sd of every quantity. */
export function sweepCsv(result: SweepResult): string {
  const qs = Object.keys(SWEEP_QUANTITIES) as SweepQuantity[];
  const header = ["series", result.param, "seeds", ...qs.flatMap((q) => [`${q}_mean`, `${q}_sd`])];
  const cell = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(6))) : "");
  const lines = [header.join(",")];
  for (const p of result.points) {
    lines.push(
      [
        JSON.stringify(p.series),
        String(p.x),
        String(p.seeds.length),
        ...qs.flatMap((q) => [cell(p.mean[q]), cell(p.sd[q])]),
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One panel per quantity against the swept parameter, one line per series, error bars = sd over seeds. */
export function sweepFigure(
  result: SweepResult,
  {
    title,
    quantities = DEFAULT_FIGURE_QUANTITIES,
  }: { title?: string; quantities?: readonly SweepQuantity[] } = {},
): string {
  const categorical = result.values.some((v) => typeof v === "string");
  const xOf = (x: number | string) => (categorical ? result.values.indexOf(x) : (x as number));
  const panels: ChartPanel[] = quantities.map((q) => ({
    title: QUANTITY_LABELS[q],
    xLabel: result.param,
    logY: LOG_QUANTITIES.has(q),
    xCategories: categorical ? result.values.map(String) : undefined,
    series: result.series.map((label) => {
      const pts = result.points.filter((p) => p.series === label);
      return {
        name: label,
        x: pts.map((p) => xOf(p.x)),
        y: pts.map((p) => p.mean[q]),
        yErr: pts.map((p) => p.sd[q]),
        mode: categorical ? ("scatter" as const) : ("line" as const),
      };
    }),
  }));
  return renderSvgChart({ title, panels, columns: 4, panelWidth: 280, panelHeight: 210 });
}
