/** @file `advise()`: the GaLore rank / refresh-interval advisor over one trace or several seeds of one run. For
 * every matrix-shaped tensor it measures E(r, Δ) on the grid (energy.ts), puts 95 % intervals around it (circular
 * block bootstrap over steps with blocks at least Δ long, so a refresh cycle stays whole; or Student-t over seeds
 * when several traces are given), picks the cheapest setting that keeps the target (choose.ts), and totals the
 * optimizer memory of the advice against full Adam and against a uniform setting of equal memory. */
import {
  blockBootstrapRatioCI,
  defaultBlockLength,
  GradtraceError,
  type Mat,
  mat,
  meanInterval,
  transpose,
} from "../../core/index.ts";
import { openTrace, type TensorInfo, type TraceReader } from "../../trace/index.ts";
import { matrixShape } from "../matrixGeometry.ts";
import { selectTensors } from "../select.ts";
import { chooseSetting, lowerMedian, uniformRankNearest, uniformStateSize } from "./choose.ts";
import { fullStateSize, projectionSaves, svdFlops } from "./cost.ts";
import { capturedEnergySeries, type EnergySeries, type OrientedSteps } from "./energy.ts";
import { type SketchedEnergy, sketchedEnergy } from "./sketched.ts";
import { ADVISE_CAVEAT, galoreSnippet } from "./snippet.ts";
import {
  ADVISE_SCHEMA_VERSION,
  type AdviseResult,
  type EnergySource,
  type TensorAdvice,
  type TensorAdviceChoice,
  type UniformSetting,
} from "./types.ts";

export interface AdviseProgress {
  /** Steps processed over all tensors and traces, and in all. */
  readonly done: number;
  readonly total: number;
  readonly tensor: string;
}

export interface AdviseOptions {
  /** Fraction of gradient energy each tensor's projector must keep (default 0.8). */
  readonly target?: number;
  /** Ranks of the grid (default 1, 2, 4, … below each tensor's shorter side); larger ones are dropped per tensor. */
  readonly ranks?: readonly number[];
  /** Refresh intervals Δ (default 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000); those above the step count are dropped. */
  readonly intervals?: readonly number[];
  /** Tensor selection: globs or /regex/ (as analyze). */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Shortest refresh interval the advice may choose (default 10): shorter ones stay in the grid, but an SVD every
   * few steps costs more than the optimizer step it serves (6·l·s² per refresh against ~10·s·l for an Adam step). */
  readonly minInterval?: number;
  /** Use only the first `steps` steps of each trace (a pilot run's prefix). */
  readonly steps?: number;
  /** Largest shorter side advised (the projector's SVD costs l·s² per refresh); larger tensors are skipped. */
  readonly maxSide?: number;
  /** Bootstrap resamples (single trace). */
  readonly resamples?: number;
  readonly seed?: number;
  /** Where E comes from: "gradients" (full gradients), "rangeSketch" (the logger's range sketches Y = G·Ω, with
   * their stated error), or "auto" (default: full gradients when the trace has them, else range sketches). */
  readonly source?: "auto" | EnergySource;
  readonly onProgress?: (p: AdviseProgress) => void;
}

export const DEFAULT_ADVISE_OPTIONS = Object.freeze({
  target: 0.8,
  minInterval: 10,
  intervals: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] as readonly number[],
  maxSide: 1024,
  resamples: 1000,
  seed: 0,
});

/** 1, 2, 4, … below `short` (at least rank 1). */
export function defaultRanks(short: number): number[] {
  const out: number[] = [];
  for (let r = 1; r < short; r *= 2) out.push(r);
  return out.length > 0 ? out : [1];
}

/** Gradients (and logged momentum as the update direction) of one tensor, oriented shorter side first. */
function orientedSteps(reader: TraceReader, tensor: TensorInfo, steps: number): OrientedSteps {
  const shape = matrixShape(tensor);
  if (!shape) throw new GradtraceError("E_SHAPE", `advise: tensor "${tensor.name}" is not matrix-shaped`);
  const flip = shape.rows > shape.cols;
  const rows = Math.min(shape.rows, shape.cols);
  const cols = Math.max(shape.rows, shape.cols);
  const load = (values: Float32Array, t: number, what: string): Mat => {
    const m = mat(shape.rows, shape.cols, Float64Array.from(values));
    for (let i = 0; i < m.data.length; i++) {
      if (!Number.isFinite(m.data[i])) {
        throw new GradtraceError(
          "E_NUMERIC",
          `advise: ${what} of "${tensor.name}" at step ${reader.info.steps[t]} has ${m.data[i]} at element ${i}; expected finite values`,
        );
      }
    }
    return flip ? transpose(m) : m;
  };
  const readState = reader.readState?.bind(reader);
  const logged = readState !== undefined && steps > 0 && readState(0, tensor.name, "momentum") !== null;
  return {
    steps,
    rows,
    cols,
    gradient: (t) => load(reader.readTensor(t, tensor.name), t, "gradient"),
    ...(logged
      ? {
          update: (t: number) => {
            const u = readState(t, tensor.name, "momentum");
            return u === null ? null : load(u, t, "momentum");
          },
        }
      : {}),
  };
}

function mean(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Σ kept / Σ total over the steps that logged an update, pooled over seeds. */
function progressRatio(series: readonly EnergySeries[], i: number, j: number): number {
  let num = 0;
  let den = 0;
  for (const s of series) {
    if (!s.progress) return Number.NaN;
    const kept = s.progress.kept[i][j];
    s.progress.total.forEach((tot, t) => {
      if (Number.isFinite(tot) && Number.isFinite(kept[t])) {
        num += kept[t];
        den += tot;
      }
    });
  }
  return num / den;
}

/** One tensor's grid, whichever source it came from. */
interface Measured {
  readonly tensor: TensorInfo;
  readonly rows: number;
  readonly cols: number;
  readonly source: EnergySource;
  readonly ranks: readonly number[];
  readonly intervals: readonly number[];
  readonly energy: number[][];
  readonly energyInterval: [number, number][][];
  readonly energyError?: number[][];
  readonly progressShare?: number[][];
  /** meanByRank[j][r − 1]: E(r, intervals[j]) for every rank computed (the uniform setting may fall off the grid). */
  readonly meanByRank: number[][];
}

function fromGradients(
  tensor: TensorInfo,
  shape: { rows: number; cols: number },
  series: readonly EnergySeries[],
  resamples: number,
  seed: number,
): Measured {
  const { ranks, intervals } = series[0];
  const steps = series[0].perStep[0][0].length;
  const perSeed = (i: number, j: number) => series.map((s) => mean(s.perStep[i][j]));
  const energy = ranks.map((_, i) => intervals.map((_, j) => meanInterval(perSeed(i, j)).mean));
  const energyInterval = ranks.map((_, i) =>
    intervals.map((d, j): [number, number] => {
      if (series.length > 1) {
        const ci = meanInterval(perSeed(i, j));
        return [Math.max(0, ci.lo), Math.min(1, ci.hi)];
      }
      const blockLength = Math.min(steps, Math.max(defaultBlockLength(steps), d));
      const ones = new Float64Array(steps).fill(1);
      return blockBootstrapRatioCI(series[0].perStep[i][j], ones, {
        blockLength,
        resamples,
        seed: seed + i * 1009 + j,
      });
    }),
  );
  const hasUpdates = series.every((s) => s.progress !== undefined);
  const meanByRank = intervals.map((_, j) =>
    Array.from(
      { length: series[0].meanByRank[j].length },
      (_, r) => series.reduce((sum, x) => sum + x.meanByRank[j][r], 0) / series.length,
    ),
  );
  return {
    tensor,
    ...shape,
    source: "gradients",
    ranks,
    intervals,
    energy,
    energyInterval,
    ...(hasUpdates
      ? { progressShare: ranks.map((_, i) => intervals.map((_, j) => progressRatio(series, i, j))) }
      : {}),
    meanByRank,
  };
}

function fromRangeSketches(
  tensor: TensorInfo,
  shape: { rows: number; cols: number },
  ranks: readonly number[],
  intervals: readonly number[],
  sketches: readonly SketchedEnergy[],
): Measured {
  const perSeed = (i: number, j: number) => sketches.map((s) => s.meanByRank[j][ranks[i] - 1]);
  const energy = ranks.map((_, i) => intervals.map((_, j) => meanInterval(perSeed(i, j)).mean));
  const energyError = ranks.map((r) =>
    intervals.map((_, j) => sketches.reduce((sum, s) => sum + s.error[j][r - 1], 0) / sketches.length),
  );
  const energyInterval = ranks.map((_, i) =>
    intervals.map((_, j): [number, number] => {
      const ci = meanInterval(perSeed(i, j));
      const lo = sketches.length > 1 ? ci.lo : energy[i][j] - energyError[i][j];
      const hi = sketches.length > 1 ? ci.hi : energy[i][j] + energyError[i][j];
      return [Math.max(0, lo), Math.min(1, hi)];
    }),
  );
  const meanByRank = intervals.map((_, j) =>
    Array.from(
      { length: sketches[0].meanByRank[j].length },
      (_, r) => sketches.reduce((sum, x) => sum + x.meanByRank[j][r], 0) / sketches.length,
    ),
  );
  return {
    tensor,
    ...shape,
    source: "rangeSketch",
    ranks,
    intervals,
    energy,
    energyInterval,
    energyError,
    meanByRank,
  };
}

function summarize(
  m: Measured,
  target: number,
  minInterval: number,
): { advice: TensorAdvice; meanByRank: number[][] } {
  const { tensor, ranks, intervals, energy, energyInterval, progressShare } = m;
  const short = Math.min(m.rows, m.cols);
  const long = Math.max(m.rows, m.cols);
  const choice = chooseSetting({ short, long, ranks, intervals, energy }, target, minInterval);
  const i = choice.rankIndex;
  const j = choice.intervalIndex;
  const chosen: TensorAdviceChoice =
    i === null || j === null
      ? {
          rank: short,
          interval: null,
          energy: 1,
          energyInterval: [1, 1],
          projected: false,
          memory: choice.memory,
        }
      : {
          rank: ranks[i],
          interval: intervals[j],
          energy: energy[i][j],
          energyInterval: energyInterval[i][j],
          projected: true,
          memory: choice.memory,
          ...(progressShare ? { progressShare: progressShare[i][j] } : {}),
        };
  const flops = svdFlops(short, long);
  return {
    advice: {
      name: tensor.name,
      shape: [...tensor.shape],
      rows: m.rows,
      cols: m.cols,
      side: m.rows <= m.cols ? "left" : "right",
      source: m.source,
      ranks: [...ranks],
      intervals: [...intervals],
      energy,
      energyInterval,
      ...(m.energyError ? { energyError: m.energyError } : {}),
      ...(progressShare ? { progressShare } : {}),
      advice: chosen,
      fullMemory: fullStateSize(short, long),
      svdFlopsPerRefresh: flops,
      svdFlopsPerStep: chosen.interval === null ? null : flops / chosen.interval,
    },
    meanByRank: m.meanByRank,
  };
}

function uniformSetting(
  tensors: readonly TensorAdvice[],
  meanByRank: readonly number[][][],
  target: number,
  minInterval: number,
): UniformSetting | null {
  if (tensors.length === 0) return null;
  const shapes = tensors.map((t) => ({ short: Math.min(t.rows, t.cols), long: Math.max(t.rows, t.cols) }));
  const budget = tensors.reduce((s, t) => s + t.advice.memory, 0);
  const rank = uniformRankNearest(shapes, budget);
  const projectedIntervals = tensors.flatMap((t) => (t.advice.interval === null ? [] : [t.advice.interval]));
  const eligible = tensors[0].intervals.filter((d) => d >= minInterval);
  const interval = lowerMedian(
    projectedIntervals.length > 0
      ? projectedIntervals
      : eligible.length > 0
        ? eligible
        : tensors[0].intervals,
  );
  const energy = tensors.map((t, k) => {
    const { short, long } = shapes[k];
    if (!projectionSaves(short, long, rank)) return 1;
    const j = t.intervals.indexOf(interval);
    const byRank = j < 0 ? undefined : meanByRank[k][j];
    return byRank !== undefined && rank <= byRank.length ? byRank[rank - 1] : Number.NaN;
  });
  return {
    rank,
    interval,
    memory: shapes.reduce((s, t) => s + uniformStateSize(t.short, t.long, rank), 0),
    meanEnergy: energy.reduce((s, e) => s + e, 0) / energy.length,
    tensorsMeetingTarget: energy.filter((e) => e >= target).length,
    energy,
  };
}

function positiveIntegers(name: string, values: readonly number[]): number[] {
  const out = [...new Set(values)].sort((a, b) => a - b);
  for (const v of out) {
    if (!Number.isInteger(v) || v < 1)
      throw new GradtraceError("E_ARG", `advise: ${name} must be positive integers, got ${v}`);
  }
  if (out.length === 0) throw new GradtraceError("E_ARG", `advise: ${name} is empty`);
  return out;
}

function isTraceList(
  x: string | TraceReader | readonly (string | TraceReader)[],
): x is readonly (string | TraceReader)[] {
  return Array.isArray(x);
}

/** Per-tensor GaLore advice from one trace, or from several traces of the same run with different seeds. */
export async function advise(
  traces: string | TraceReader | readonly (string | TraceReader)[],
  {
    target = DEFAULT_ADVISE_OPTIONS.target,
    minInterval = DEFAULT_ADVISE_OPTIONS.minInterval,
    ranks: requestedRanks,
    intervals: requestedIntervals = DEFAULT_ADVISE_OPTIONS.intervals,
    include = [],
    exclude = [],
    steps: stepLimit,
    maxSide = DEFAULT_ADVISE_OPTIONS.maxSide,
    resamples = DEFAULT_ADVISE_OPTIONS.resamples,
    seed = DEFAULT_ADVISE_OPTIONS.seed,
    source = "auto",
    onProgress,
  }: AdviseOptions = {},
): Promise<AdviseResult> {
  if (!(target > 0 && target <= 1))
    throw new GradtraceError("E_ARG", `advise: target must be in (0, 1], got ${target}`);
  const list: readonly (string | TraceReader)[] = isTraceList(traces) ? traces : [traces];
  if (list.length === 0) throw new GradtraceError("E_ARG", "advise: no trace given");
  const opened = list.map((t) => (typeof t === "string" ? openTrace(t) : t));
  try {
    // Sketched-only traces carry no full gradients: their matrices can be advised from range sketches alone.
    const hasGradients = opened.every((r) => r.info.sketch === undefined);
    if (source === "gradients" && !hasGradients) {
      const r = opened.find((x) => x.info.sketch !== undefined) as TraceReader;
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `advise: ${r.info.path} holds sketched gradients only; source "gradients" needs full gradients (use source "rangeSketch" where the trace logged range sketches)`,
      );
    }
    const available = Math.min(...opened.map((r) => r.info.steps.length));
    const steps = stepLimit === undefined ? available : Math.min(stepLimit, available);
    if (steps < 2)
      throw new GradtraceError("E_ARG", `advise: needs at least 2 steps, the trace has ${available}`);
    const intervalGrid = positiveIntegers("intervals", requestedIntervals).filter((d) => d <= steps);
    if (intervalGrid.length === 0) {
      throw new GradtraceError(
        "E_ARG",
        `advise: every interval exceeds the ${steps} steps of the trace (intervals: ${requestedIntervals.join(", ")})`,
      );
    }
    const rankGrid = requestedRanks === undefined ? undefined : positiveIntegers("ranks", requestedRanks);
    const first = opened[0];
    const names = selectTensors(
      first.info.tensors.map((t) => t.name),
      { include, exclude },
    );
    const skipped: { name: string; reason: string }[] = [];
    const chosen: {
      tensor: TensorInfo;
      shape: { rows: number; cols: number };
      ranks: number[];
      from: EnergySource;
    }[] = [];
    for (const name of names) {
      const tensor = first.info.tensors.find((t) => t.name === name) as TensorInfo;
      const ranged = opened.map((r) => r.info.rangeSketch?.tensors.find((t) => t.name === name));
      const useSketch = source === "rangeSketch" || (source === "auto" && !hasGradients);
      const shape = useSketch ? (ranged[0] ?? null) : matrixShape(tensor);
      if (!shape) {
        if (useSketch && matrixShape(tensor) !== null && hasGradients)
          skipped.push({ name, reason: "no range sketch of it in the trace" });
        if (useSketch && !hasGradients && first.info.rangeSketch === undefined)
          skipped.push({ name, reason: "the trace holds neither full gradients nor range sketches" });
        continue;
      }
      const short = Math.min(shape.rows, shape.cols);
      const missing = useSketch
        ? opened.find((_, k) => ranged[k]?.rows !== shape.rows || ranged[k]?.cols !== shape.cols)
        : opened.find((r) => !r.info.tensors.some((t) => t.name === name && t.numel === tensor.numel));
      if (missing) {
        skipped.push({ name, reason: `not in ${missing.info.path} with the same shape` });
        continue;
      }
      if (useSketch && shape.rows > shape.cols) {
        skipped.push({
          name,
          reason: `tall (${shape.rows}×${shape.cols}): GaLore projects its row space, a range sketch G·Ω holds its column space`,
        });
        continue;
      }
      if (short > maxSide) {
        skipped.push({ name, reason: `shorter side ${short} > maxSide ${maxSide}` });
        continue;
      }
      const cap = useSketch ? Math.min(short - 1, (first.info.rangeSketch?.s ?? 0) - 2) : short - 1;
      const ranks = (rankGrid ?? defaultRanks(short)).filter((r) => r <= cap);
      if (ranks.length === 0) {
        skipped.push({
          name,
          reason: `no rank of the grid is below ${useSketch ? "min(shorter side, sketch width − 1)" : "its shorter side"} (${cap + 1})`,
        });
        continue;
      }
      chosen.push({
        tensor,
        shape: { rows: shape.rows, cols: shape.cols },
        ranks,
        from: useSketch ? "rangeSketch" : "gradients",
      });
    }
    const total = chosen.length * opened.length * steps;
    let done = 0;
    const measured: Measured[] = chosen.map(({ tensor, shape, ranks, from }) => {
      const short = Math.min(shape.rows, shape.cols);
      if (from === "rangeSketch") {
        const sketches = opened.map((reader) => {
          const e = sketchedEnergy(reader, tensor.name, steps, intervalGrid, short - 1);
          done += steps;
          onProgress?.({ done, total, tensor: tensor.name });
          return e;
        });
        return fromRangeSketches(tensor, shape, ranks, intervalGrid, sketches);
      }
      // Exact SVDs give every rank below the shorter side at no extra cost: keep them all (for the uniform rank).
      const maxRank = short <= 256 ? short - 1 : Math.max(...ranks);
      const series = opened.map((reader) =>
        capturedEnergySeries(orientedSteps(reader, tensor, steps), {
          ranks,
          intervals: intervalGrid,
          maxRank,
          seed,
          onStep: () => onProgress?.({ done: ++done, total, tensor: tensor.name }),
        }),
      );
      return fromGradients(tensor, shape, series, resamples, seed);
    });
    const summaries = measured.map((m) => summarize(m, target, minInterval));
    const tensors = summaries.map((s) => s.advice);
    const advisedNames = new Set(tensors.map((t) => t.name));
    // In a sketched trace a tensor's logged length is its sketch's: count the original size where it is known.
    const original = first.info.sketch?.originalNumel;
    const rest = first.info.tensors
      .filter((t) => !advisedNames.has(t.name))
      .reduce((s, t) => s + 2 * (original?.[t.name] ?? t.numel), 0);
    const uniform = uniformSetting(
      tensors,
      summaries.map((s) => s.meanByRank),
      target,
      minInterval,
    );
    return {
      schemaVersion: ADVISE_SCHEMA_VERSION,
      traces: opened.map((r) => r.info.path),
      steps,
      target,
      minInterval,
      intervalMethod:
        opened.length > 1
          ? "seeds"
          : tensors.some((t) => t.source === "rangeSketch")
            ? "sketch-error"
            : "block-bootstrap",
      tensors,
      skipped,
      memory: {
        fullAdam: rest + tensors.reduce((s, t) => s + t.fullMemory, 0),
        advice: rest + tensors.reduce((s, t) => s + t.advice.memory, 0),
        uniform: uniform === null ? null : { ...uniform, memory: rest + uniform.memory },
      },
      hasUpdates: tensors.length > 0 && tensors.every((t) => t.progressShare !== undefined),
      snippet: galoreSnippet(tensors, target),
      caveat: ADVISE_CAVEAT,
    };
  } finally {
    list.forEach((t, k) => {
      if (typeof t === "string") opened[k].close();
    });
  }
}
