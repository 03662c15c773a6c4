/** @file analyze(): a trace in (a path, opened and closed here, or a reader the caller owns), per-tensor and
 * whole-model predictability and rank results out. Two modes:
 * - exact (default up to `exactMaxSteps` steps): one coordinate-blocked Gram pass (memory O(T² + block·T)), every
 *   metric from the T×T Gram;
 * - streaming (beyond): one pass over time through a StreamingState (work O(T·window·p), memory independent of T):
 *   κ of every predictor exactly, windowed r*(ε) from each window's own Gram, whole-run spectra from Frequent
 *   Directions sketches with their deterministic bounds.
 * Either mode can run on random sketches of each step (k numbers per tensor), reporting the sketch's error bound.
 * Steps whose gradients hold NaN/Inf, and steps whose data fails its checksum, are excluded from every metric and
 * reported in `trace.problems` under distinct kinds (`nonfinite`, `corrupt-record`); `strict` makes corruption an
 * error. */

import type { GramKernel, Mat } from "../core/index.ts";
import {
  BOUND_STATEMENTS,
  classRegretBound,
  createSketch,
  DEFAULT_FD_ROWS,
  DEFAULT_PREDICTORS,
  estimateStreamingBytes,
  GradtraceError,
  nonconvexBound,
  parseSketchSpec,
  regretBound,
  resolvePredictor,
  type Sketch,
  type StreamingSnapshot,
} from "../core/index.ts";
import type { QueueOptions } from "../parallel/index.ts";
import {
  type OpenTraceOptions,
  openTrace,
  refuseCorruption,
  type TensorInfo,
  type TraceInfo,
  type TraceReader,
} from "../trace/index.ts";
import { type CorruptStep, corruptionProblems, corruptStepOf } from "./corruption.ts";
import { FdGramSink } from "./fdSink.ts";
import { sum, type TensorSeries, tensorResultFromGram } from "./fromGram.ts";
import { tensorResultFromStream } from "./fromStream.ts";
import {
  accumulateGrams,
  DEFAULT_MEMORY_BYTES,
  dropIndices,
  type GramPassProgress,
  sumGrams,
} from "./gramPass.ts";
import { matrixGeometry } from "./matrixGeometry.ts";
import { momentumCrossGrams } from "./momentumPass.ts";
import { rangeGeometry } from "./rangeGeometry.ts";
import { selectTensors } from "./select.ts";
import { sketchBounds } from "./sketchBounds.ts";
import { sketchGrams } from "./sketchPass.ts";
import { type StreamPassOptions, streamSteps } from "./streamPass.ts";
import {
  DEFAULT_STEP_RANGES,
  type StreamInRangesResult,
  type StreamRangePass,
  stepRangesProblem,
  streamInRanges,
} from "./streamRanges.ts";
import { queueRunner, runnerFor, type TaskRunner } from "./taskRunner.ts";
import { summarize } from "./summary.ts";
import {
  type AnalysisMode,
  type AnalysisProblem,
  type AnalysisResult,
  type BoundsReport,
  SCHEMA_VERSION,
  type SketchReport,
  type TensorResult,
} from "./types.ts";

export interface AnalyzeOptions {
  /** Predictor ids (see `gradtrace analyze --help`); default: zero, last, ema0.5/0.9/0.99, linear, ar2, lowrank4w16. */
  readonly predictors?: readonly string[];
  /** ε values for r*(ε). */
  readonly eps?: readonly number[];
  /** Tensor name globs or /regex/ to keep / drop. */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Window (steps) for windowed κ and r*(ε); default `defaultWindow(T)`: ⌈T/8⌉ within [4, 64] (each window's
   * r*(ε) is an eigenproblem of its size and a long run has T/8 … T/64 windows: small windows keep that linear in
   * T, in both modes). */
  readonly window?: number;
  /** Block-bootstrap CIs for κ (default true). */
  readonly bootstrap?: boolean;
  /** "jl:512", "countsketch:1024", "srht:256", "sparsejl:512": analyze random sketches of each step instead of full
   * vectors; "fd:64": a Frequent Directions sketch of the coordinates (deterministic bound, O(ℓ·T) memory). */
  readonly sketch?: string;
  readonly seed?: number;
  /** Budget in bytes for the exact pass's block buffer (default 256 MiB). */
  readonly memoryBytes?: number;
  /** Per-step spectrum and stale-projector energy of matrix-shaped tensors (default true). */
  readonly matrixGeometry?: boolean;
  /** Sub-sample of steps (from the start) on which sketched κ is checked against exact κ (default 32; 0 = off). */
  readonly sketchCheckSteps?: number;
  readonly onProgress?: (p: GramPassProgress) => void;
  /** Kernel of the exact pass's Gram products (see GramPassOptions.kernel); default "wasm" (GRADTRACE_KERNELS=js:
   * "js"). */
  readonly gramKernel?: GramKernel;
  /** "exact": the T×T Gram path; "streaming": one pass over time (memory independent of T); "auto" (default): exact
   * when the trace has at most `exactMaxSteps` steps, streaming beyond. */
  readonly mode?: "auto" | AnalysisMode;
  /** Largest number of steps "auto" analyses exactly (default 2,000: a 2,000² float64 Gram is 32 MB per tensor and
   * its spectra take seconds; beyond, O(T²) memory and O(T³) time grow fast). */
  readonly exactMaxSteps?: number;
  /** Rows ℓ of the streaming mode's Frequent Directions sketches over time (default 16); larger ℓ tightens the
   * whole-run spectra's bounds (r*(ε) is certified up to ℓ) at O(ℓ·p) work per step. */
  readonly fdRows?: number;
  /** How a trace given by path is opened (forced layout, temporary directory, checksum policy); unused when the
   * caller passes a reader. */
  readonly open?: OpenTraceOptions;
  /** Threads of the exact and sketched passes (default one per core, at most 8; 1 = this thread only). Traces under
   * 64 MiB of payload always run on this thread. The results do not depend on it, bit for bit. */
  readonly threads?: number;
  /** Run the exact pass's coordinate ranges (or the sketched pass's step ranges, or the streaming mode's step ranges)
   * as jobs on this Redis queue, served by `gradtrace worker` processes that read the trace at the same absolute path
   * (shared storage; docs/distributed.md). The ranges' Grams are added in the same order as on threads, and the
   * streaming ranges' series merged in step order: the numbers are identical (the streaming mode's whole-run spectra
   * come from merged Frequent Directions sketches, within their stated bound). Frequent Directions sketches of the
   * coordinates (`sketch: "fd:…"`) and the jax kernel run on one machine and refuse it. */
  readonly queue?: QueueOptions;
  /** The streaming mode on the queue: how many step-range jobs the run is cut into (default 8; fewer when the run is
   * short). Each range re-reads the steps before it (a light replay), so more ranges read more. */
  readonly stepRanges?: number;
  /** Corrupt data (a record or payload failing its checksum) is an error (E_CHECKSUM) instead of an excluded,
   * reported step (`--strict`). */
  readonly strict?: boolean;
  /** Leave the first B steps out of every sum (κ, P_T, r*, windows, intervals, bounds); predictors still see them
   * as history. Default 0: the paper's sums over t = 0..T, which include the unpredictable t = 0 term ‖g_0‖². */
  readonly burnIn?: number;
  /** Whether every logged g_t is the exact (full-batch) gradient ∇f(x_t), as the nonconvex bound requires; leave
   * undefined when unknown (the bound is then "unverified"); false for minibatch traces. */
  readonly exactGradient?: boolean;
}

/** Options of `analyzeWithSeries`: those of `analyze`, and what else to return. */
export interface AnalyzeWithSeriesOptions extends AnalyzeOptions {
  /** Also return the Gram matrices the analysis worked from (`gram` in the output; default false). */
  readonly gram?: boolean;
}

/** The Gram matrices of the analyzed steps: K[s][t] = ⟨g_s, g_t⟩ over the kept steps, per tensor and summed over
 * the selected tensors (in sketched mode, of the sketches). */
export interface AnalysisGram {
  readonly total: Mat;
  readonly tensors: ReadonlyMap<string, Mat>;
}

/** What analyze() reads: a path (a trace file, a trace directory, or a run directory; see openTrace), which
 * analyze() opens and closes, or a reader that stays the caller's to close. */
export type TraceSource = string | TraceReader;

export interface AnalysisOutput {
  readonly result: AnalysisResult;
  /** Per-step series keyed by tensor name (and "total"). */
  readonly series: Map<string, TensorSeries>;
  /** The logged step number of each analyzed step: position i of every series (and row i of the Gram) is step
   * `stepIndices[i]` of the trace. Steps with NaN/Inf gradients are not analyzed, nor are unreadable ones or those
   * whose data fails its checksum, so this is not 0…T−1 in general. */
  readonly stepIndices: number[];
  /** The Gram matrices, when asked for (`gram: true`). */
  readonly gram?: AnalysisGram;
}

export const DEFAULT_EPS = [0.1, 0.05, 0.01] as const;
export const DEFAULT_EXACT_MAX_STEPS = 2000;
/** The streaming state's memory budget when `memoryBytes` is not given. */
const DEFAULT_STREAMING_BYTES = 2 ** 30;

/** The default window of κ over time: ⌈T / perSteps⌉ steps, clamped to [min, max]. */
export const DEFAULT_WINDOW = Object.freeze({ perSteps: 8, min: 4, max: 64 });

export function defaultWindow(steps: number): number {
  const { perSteps, min, max } = DEFAULT_WINDOW;
  return Math.min(max, Math.max(min, Math.ceil(steps / perSteps)));
}

/** What each option of `AnalyzeOptions` means when it is left out (`predictors`: DEFAULT_PREDICTORS, plus the
 * momentum predictor when the trace logged the buffer; `window`: `defaultWindow(T)`). The CLI's defaults and help
 * text are read from here. */
export const DEFAULT_ANALYZE_OPTIONS = Object.freeze({
  eps: DEFAULT_EPS,
  bootstrap: true,
  seed: 0,
  memoryBytes: DEFAULT_MEMORY_BYTES,
  matrixGeometry: true,
  sketchCheckSteps: 32,
  gramKernel: "wasm",
  mode: "auto",
  exactMaxSteps: DEFAULT_EXACT_MAX_STEPS,
  fdRows: DEFAULT_FD_ROWS,
  stepRanges: DEFAULT_STEP_RANGES,
  strict: false,
  burnIn: 0,
} as const satisfies Partial<AnalyzeOptions>);

/** Payload bytes of the given tensors over all steps (decides whether worker threads pay off). */
function payloadBytes(reader: TraceReader, names: readonly string[]): number {
  const size: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
  const byName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const perStep = names.reduce((s, n) => s + byName.get(n)!.numel * (size[byName.get(n)!.dtype] ?? 4), 0);
  return perStep * reader.info.steps.length;
}

function validate(options: AnalyzeOptions): void {
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new GradtraceError("E_ARG", `threads ${options.threads}: expected an integer ≥ 1`);
  }
  for (const e of options.eps ?? []) {
    if (!(e > 0 && e < 1)) throw new GradtraceError("E_ARG", `eps ${e}: expected a number in (0, 1)`);
  }
  if (options.window !== undefined && !(Number.isInteger(options.window) && options.window >= 2)) {
    throw new GradtraceError("E_ARG", `window ${options.window}: expected an integer ≥ 2`);
  }
  for (const id of options.predictors ?? []) resolvePredictor(id);
  if (options.mode !== undefined && !["auto", "exact", "streaming"].includes(options.mode)) {
    throw new GradtraceError("E_ARG", `mode "${options.mode}": expected auto, exact or streaming`);
  }
  const m = options.exactMaxSteps;
  if (m !== undefined && !(Number.isInteger(m) && m >= 1)) {
    throw new GradtraceError("E_ARG", `exactMaxSteps ${m}: expected an integer ≥ 1`);
  }
  const f = options.fdRows;
  if (f !== undefined && !(Number.isInteger(f) && f >= 1)) {
    throw new GradtraceError("E_ARG", `fdRows ${f}: expected an integer ≥ 1`);
  }
  const r = options.stepRanges;
  if (r !== undefined && !(Number.isInteger(r) && r >= 1)) {
    throw new GradtraceError("E_ARG", `stepRanges ${r}: expected an integer ≥ 1`);
  }
  if (options.burnIn !== undefined && !(Number.isInteger(options.burnIn) && options.burnIn >= 0)) {
    throw new GradtraceError("E_ARG", `burn-in ${options.burnIn}: expected an integer ≥ 0`);
  }
}

/** Who runs a block pass: the queue when one is given, else this thread or worker threads by size. */
function passRunner(reader: TraceReader, names: readonly string[], options: AnalyzeOptions): TaskRunner {
  if (options.queue) return queueRunner(reader, options.queue);
  return runnerFor(reader, payloadBytes(reader, names), options.threads);
}

/** E_UNSUPPORTED for the analyses that cannot run on the queue, before any work: Frequent Directions sketches of
 * the coordinates (one sequential sketch per tensor) and the jax kernel. (The streaming mode's own checks come with
 * its plan: `planStreaming`.) */
function refuseQueue(file: string, mode: AnalysisMode, options: AnalyzeOptions): void {
  const why =
    mode === "streaming"
      ? null
      : options.sketch?.startsWith("fd:")
        ? "Frequent Directions sketches (--sketch fd:…) are built in one sequential pass on one machine"
        : (options.gramKernel ?? DEFAULT_ANALYZE_OPTIONS.gramKernel) === "jax" && options.sketch === undefined
          ? "the jax Gram kernel runs on this machine only (use --gram-kernel wasm or js)"
          : null;
  if (why !== null) {
    throw new GradtraceError("E_UNSUPPORTED", `${file}: --queue: ${why}; analyze without --queue`);
  }
}

/** The mode that runs: the requested one, or for "auto" exact up to `exactMaxSteps` steps. */
export function resolveMode(
  steps: number,
  options: Pick<AnalyzeOptions, "mode" | "exactMaxSteps">,
): AnalysisMode {
  const requested = options.mode ?? "auto";
  if (requested !== "auto") return requested;
  return steps <= (options.exactMaxSteps ?? DEFAULT_EXACT_MAX_STEPS) ? "exact" : "streaming";
}

export async function analyze(source: TraceSource, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  return (await analyzeWithSeries(source, options)).result;
}

export async function analyzeWithSeries(
  source: TraceSource,
  options: AnalyzeWithSeriesOptions = {},
): Promise<AnalysisOutput> {
  validate(options);
  if (typeof source === "string") {
    // Opened here, so closed here (temporary caches of deflated layouts are deleted on close), whatever happens.
    const opened = openTrace(source, options.open);
    try {
      return await analyzeReader(opened, options);
    } finally {
      opened.close();
    }
  }
  return analyzeReader(source, options);
}

async function analyzeReader(
  reader: TraceReader,
  options: AnalyzeWithSeriesOptions,
): Promise<AnalysisOutput> {
  const {
    eps = DEFAULT_ANALYZE_OPTIONS.eps,
    include,
    exclude,
    bootstrap = DEFAULT_ANALYZE_OPTIONS.bootstrap,
    sketch,
    seed = DEFAULT_ANALYZE_OPTIONS.seed,
    memoryBytes = DEFAULT_ANALYZE_OPTIONS.memoryBytes,
    onProgress,
    strict = DEFAULT_ANALYZE_OPTIONS.strict,
    burnIn = DEFAULT_ANALYZE_OPTIONS.burnIn,
  } = options;
  const info = reader.info;
  if (strict) refuseCorruption(info.problems, "analyze");
  const n = info.steps.length;
  if (n === 0) throw new GradtraceError("E_FORMAT", `${info.path}: the trace holds no readable step`);
  if (burnIn > 0 && burnIn > n - 2) {
    throw new GradtraceError(
      "E_ARG",
      `burn-in ${burnIn}: ${info.path} has ${n} steps; at most ${Math.max(0, n - 2)} can be left out (two must remain)`,
    );
  }
  const predictors = options.predictors ?? defaultPredictorsFor(reader, sketch !== undefined);
  const names = selectTensors(
    info.tensors.map((t) => t.name),
    { include, exclude },
  );
  const window = options.window ?? defaultWindow(n - burnIn);
  const metas = tensorMetas(info);
  const problems: AnalysisProblem[] = [...info.problems];
  const mode = resolveMode(n, options);
  const modeOptions = {
    mode: options.mode ?? ("auto" as const),
    exactMaxSteps: options.exactMaxSteps ?? DEFAULT_EXACT_MAX_STEPS,
  };
  if (options.queue) refuseQueue(info.path, mode, options);
  if (mode === "streaming") {
    if (burnIn > 0) {
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `${info.path}: a burn-in needs the exact mode (this run of ${n} steps streams, and the streaming mode's whole-run spectra are sketched from t = 0): pass mode "exact" (--mode exact) or a larger exactMaxSteps`,
      );
    }
    if (options.gram) {
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `${info.path}: the Gram matrices exist in exact mode only (this run of ${n} steps streams): pass mode "exact" or a larger exactMaxSteps`,
      );
    }
    return analyzeStreaming(reader, options, { predictors, eps, names, window, modeOptions });
  }

  let grams: Map<string, Mat>;
  let total: Mat;
  let nonFinite: number[];
  let corrupt: CorruptStep[];
  let sketchReport: SketchReports | undefined;
  const fdRows = sketch?.startsWith("fd:") ? parseFdSpec(sketch) : null;
  if (fdRows !== null) {
    // Frequent Directions over the coordinates: the block pass feeds FD sketches instead of exact Grams.
    const sinks: FdGramSink[] = [];
    const pass = await accumulateGrams(reader, {
      tensors: names,
      memoryBytes,
      onProgress,
      strict,
      sink: async (rows) => {
        const s = new FdGramSink(rows, fdRows);
        sinks.push(s);
        return s;
      },
    });
    grams = pass.grams;
    nonFinite = pass.nonFiniteSteps;
    corrupt = pass.corrupt;
    total = sumGrams(grams.values())!;
    // ‖K − K̃‖₂ ≤ ΣΔ (per-tensor errors add up in the sum); stated relative to the mean ‖g_t‖².
    const delta = sinks.reduce((acc, s) => acc + s.shrinkage, 0);
    let trace = 0;
    for (let i = 0; i < total.rows; i++) trace += total.data[i * total.cols + i];
    const fdReport: SketchReport = {
      kind: "fd",
      k: fdRows,
      seed: 0,
      errorBound: trace > 0 ? (delta * total.rows) / trace : 0,
      confidence: 1,
    };
    sketchReport = { tensor: fdReport, total: fdReport };
  } else if (sketch) {
    const { kind, k } = parseSketchSpec(sketch);
    const runner = passRunner(reader, names, options);
    let pass: Awaited<ReturnType<typeof sketchGrams>>;
    try {
      pass = await sketchGrams(reader, { tensors: names, kind, k, seed, onProgress, runner, strict });
    } finally {
      await runner.close();
    }
    grams = pass.grams;
    // The whole model's sketch is the tensors' sketches side by side (sketchPass.ts), as in the streaming mode.
    total = sumGrams(grams.values())!;
    nonFinite = pass.nonFiniteSteps;
    corrupt = pass.corrupt;
    // Report the user's base seed (each tensor's sketch is seeded from it and its name: tensorSketchSeed).
    sketchReport = randomSketchReports(pass.sketches.values().next().value!, n, names.length, seed);
  } else {
    const kernel = options.gramKernel ?? DEFAULT_ANALYZE_OPTIONS.gramKernel;
    // The jax kernel runs on this thread (its WebAssembly runtime is per process); wasm and js split the tensors'
    // coordinates over worker threads when the trace is large (results identical to one thread).
    const runner = kernel === "jax" ? undefined : passRunner(reader, names, options);
    let pass: Awaited<ReturnType<typeof accumulateGrams>>;
    try {
      pass = await accumulateGrams(reader, {
        tensors: names,
        memoryBytes,
        onProgress,
        kernel,
        runner,
        strict,
      });
    } finally {
      await runner?.close();
    }
    grams = pass.grams;
    nonFinite = pass.nonFiniteSteps;
    corrupt = pass.corrupt;
    total = sumGrams(grams.values())!;
    if (info.sketch) {
      // The run logged sketches (k numbers per tensor per step): the exact pass ran on them; state the bound.
      const { kind, k, seed: sketchSeed } = info.sketch;
      sketchReport = randomSketchReports(
        createSketch({ kind, k, seed: sketchSeed, dim: 1 }),
        n,
        names.length,
      );
    }
  }
  if (nonFinite.length > 0) problems.push(nonFiniteProblem(nonFinite, info.steps));
  const excluded = [...nonFinite, ...corrupt.map((c) => c.position)].sort((a, b) => a - b);
  if (excluded.length > 0 && sketch && fdRows === null) {
    // The streamed sketch pass keeps every row; the block pass (exact and fd) has already dropped them.
    for (const [name, k] of grams) grams.set(name, dropIndices(k, excluded));
    total = dropIndices(total, excluded);
  }
  const kept = info.steps.map((_, i) => i).filter((i) => !excluded.includes(i));
  if (burnIn > kept.length - 2) {
    throw new GradtraceError(
      "E_ARG",
      `burn-in ${burnIn}: only ${kept.length} steps of ${info.path} are analyzed (finite, intact gradients); at most ${Math.max(0, kept.length - 2)} can be left out`,
    );
  }
  const fromGramOptions = { predictors: [...predictors], eps: [...eps], window, bootstrap, seed, burnIn };
  // The momentum-matched predictor needs the logged optimizer buffer: full, or sketched with the gradients' own sketch
  // (a logged-sketch trace). `--sketch` cannot provide it (the buffers would need the same analysis-time sketch).
  const wantsMomentum = predictors.some((p) => p.startsWith("momentum"));
  if (wantsMomentum && sketch) {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      "the momentum predictor is not available with --sketch (exact mode only)",
    );
  }
  let momentum: ReturnType<typeof momentumCrossGrams> | null = null;
  while (wantsMomentum && momentum === null) {
    try {
      momentum = momentumCrossGrams(reader, names, kept);
    } catch (err) {
      // A momentum buffer failing its checksum: exclude that step too (its neighbours' cross terms change, so
      // the pass runs again on the remaining steps).
      const step = (err as { step?: unknown }).step;
      const at = kept.findIndex((p) => info.steps[p] === step);
      if (at < 0) throw err;
      corrupt.push(corruptStepOf(err, kept[at], strict));
      for (const [name, k] of grams) grams.set(name, dropIndices(k, [at]));
      total = dropIndices(total, [at]);
      kept.splice(at, 1);
    }
  }
  requireSteps(info.path, kept.length, nonFinite.length, corrupt.length);
  problems.push(...corruptionProblems(corrupt));
  const series = new Map<string, TensorSeries>();
  const tensors: TensorResult[] = [];
  for (const name of names) {
    const meta = metas.get(name)!;
    const extras = momentum ? { momentum: momentum.perTensor.get(name)! } : {};
    const { result, series: s } = tensorResultFromGram(grams.get(name)!, meta, fromGramOptions, extras);
    series.set(name, s);
    tensors.push(
      withGeometryAndSketch(reader, options, meta, kept, result, sketchReport?.tensor, grams.get(name)),
    );
  }
  const totalNumel = names.reduce((s, name) => s + metas.get(name)!.numel, 0);
  const totalOut = tensorResultFromGram(
    total,
    { name: "total", shape: [totalNumel], numel: totalNumel },
    fromGramOptions,
    momentum ? { momentum: momentum.total } : {},
  );
  series.set("total", totalOut.series);
  let totalResult: TensorResult = totalOut.result;
  if (sketchReport) {
    const report = await withMeasuredError(
      reader,
      options,
      sketchReport.total,
      names,
      totalOut.series,
      kept,
      fromGramOptions,
    );
    const bounds = report.kind !== "fd" ? sketchBounds(total, totalResult, report.k, report.confidence) : {};
    totalResult = { ...totalResult, sketch: { ...report, ...bounds } };
  }
  const bounds = boundsFor(totalResult, totalOut.series, burnIn, options.exactGradient);
  return {
    result: {
      schemaVersion: SCHEMA_VERSION,
      mode: "exact",
      ...traceAndOptions(info, kept.length, problems, nonFinite, corrupt, {
        ctx: { predictors, eps, names, window, modeOptions },
        bootstrap,
        sketch,
        extra: burnIn > 0 ? { burnIn } : {},
      }),
      tensors,
      total: totalResult,
      bounds,
      summary: summarize(totalResult, tensors, eps, burnIn),
    },
    series,
    stepIndices: kept.map((p) => info.steps[p]),
    ...(options.gram ? { gram: { total, tensors: grams } } : {}),
  };
}

/** The `trace` and `options` sections of a result, alike in both modes but for the options only one mode has
 * (`extra`: burnIn in exact mode, fdRows in streaming mode), which come last. */
function traceAndOptions(
  info: TraceInfo,
  steps: number,
  problems: AnalysisProblem[],
  nonFinite: readonly number[],
  corrupt: readonly CorruptStep[],
  reported: {
    ctx: StreamingContext;
    bootstrap: boolean;
    sketch: string | undefined;
    extra: Pick<AnalysisResult["options"], "burnIn" | "fdRows">;
  },
): Pick<AnalysisResult, "trace" | "options"> {
  const { ctx, bootstrap, sketch, extra } = reported;
  return {
    trace: {
      path: info.path,
      format: info.format,
      steps,
      tensors: ctx.names.length,
      problems,
      excludedSteps: { nonfinite: nonFinite.length, corrupt: corrupt.length },
    },
    options: {
      predictors: [...ctx.predictors],
      eps: [...ctx.eps],
      window: ctx.window,
      bootstrap,
      ...(sketch ? { sketch } : {}),
      ...ctx.modeOptions,
      ...extra,
    },
  };
}

/** The streaming mode (see the file comment): one pass over time, then the same result shape as the exact mode. */
async function analyzeStreaming(
  reader: TraceReader,
  options: AnalyzeOptions,
  ctx: StreamingContext,
): Promise<AnalysisOutput> {
  const plan = planStreaming(reader, options, ctx);
  const pass = options.queue
    ? await streamOnQueue(reader, plan, options.queue, options)
    : streamSteps(reader, { ...plan.pass, onProgress: options.onProgress });
  const single = streamingOutput(reader, {
    plan,
    snapshot: pass.snapshot,
    nonFiniteSteps: pass.nonFiniteSteps,
    corrupt: pass.corrupt,
    positions: reader.info.steps.length,
  });
  const out =
    "ranges" in pass
      ? {
          ...single,
          result: { ...single.result, options: { ...single.result.options, stepRanges: pass.ranges } },
        }
      : single;
  const total = out.result.total;
  if (!total.sketch || options.sketch === undefined) return out;
  // This analysis sketched the steps itself, so the exact vectors are in the trace: measure the sketch's κ error.
  const kept = reader.info.steps.map((_, i) => i).filter((i) => !skippedPositions(pass).has(i));
  const sketch = await withMeasuredError(
    reader,
    options,
    total.sketch,
    plan.names,
    out.series.get("total")!,
    kept,
    {
      predictors: [...plan.predictors],
      eps: [...plan.eps],
      window: plan.window,
      bootstrap: false,
      seed: options.seed ?? 0,
    },
  );
  return { ...out, result: { ...out.result, total: { ...total, sketch } } };
}

/** The streaming pass as step-range jobs on the queue (streamRanges.ts): refused before any work when the predictors
 * or the size of the ranges' sketches do not allow it. */
async function streamOnQueue(
  reader: TraceReader,
  plan: StreamingPlan,
  queue: QueueOptions,
  options: AnalyzeOptions,
): Promise<StreamInRangesResult> {
  // The jobs carry JSON: no callback, no undefined fields.
  const { onProgress: _, ...rest } = plan.pass;
  const pass = JSON.parse(JSON.stringify(rest)) as StreamRangePass;
  const problem = stepRangesProblem(reader, pass);
  if (problem !== null) {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${reader.info.path}: --queue with the streaming mode: ${problem}; or analyze without --queue`,
    );
  }
  const runner = queueRunner(reader, queue);
  try {
    return await streamInRanges(reader, pass, runner, {
      ranges: options.stepRanges ?? DEFAULT_ANALYZE_OPTIONS.stepRanges,
      onProgress: options.onProgress,
    });
  } finally {
    await runner.close();
  }
}

/** Step positions a streaming pass left out (NaN/Inf values, or data failing its checksum). */
function skippedPositions(pass: {
  readonly nonFiniteSteps: readonly number[];
  readonly corrupt: readonly CorruptStep[];
}): Set<number> {
  return new Set([...pass.nonFiniteSteps, ...pass.corrupt.map((c) => c.position)]);
}

/** What analyzeWithSeries resolves before choosing a mode (predictors, ε, tensors, window). */
interface StreamingContext {
  readonly predictors: readonly string[];
  readonly eps: readonly number[];
  readonly names: readonly string[];
  readonly window: number;
  readonly modeOptions: { mode: "auto" | AnalysisMode; exactMaxSteps: number };
}

/** The streaming mode's checked settings: everything but the pass itself (which may run at once, or step by step
 * as in `IncrementalAnalysis`). */
export interface StreamingPlan extends StreamingContext {
  readonly options: AnalyzeOptions;
  readonly fdRows: number;
  readonly pass: StreamPassOptions;
}

/** Checks the streaming mode's options against the trace (fd sketches, momentum with sketches, the memory budget)
 * and resolves the pass's settings. */
function planStreaming(reader: TraceReader, options: AnalyzeOptions, ctx: StreamingContext): StreamingPlan {
  const { predictors, eps, names, window } = ctx;
  const { sketch, seed = 0 } = options;
  const info = reader.info;
  const fdRows = options.fdRows ?? DEFAULT_FD_ROWS;
  if (sketch?.startsWith("fd:")) {
    throw new GradtraceError(
      "E_ARG",
      `--sketch ${sketch}: Frequent Directions over the coordinates builds a T×T Gram (exact mode); this run has ${info.steps.length} steps and uses the streaming mode, which already sketches its whole-run spectra with Frequent Directions over time — use a random sketch (e.g. countsketch:1024) or --mode exact`,
    );
  }
  if (predictors.some((p) => p.startsWith("momentum")) && sketch) {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      "the momentum predictor is not available with --sketch (exact mode only)",
    );
  }
  const parsed = sketch ? parseSketchSpec(sketch) : null;
  const metas = tensorMetas(info);
  const specs = names.map((name) => ({ name, numel: parsed ? parsed.k : metas.get(name)!.numel }));
  const f64 = !parsed && names.some((name) => metas.get(name)!.dtype === "F64");
  const needed = estimateStreamingBytes({
    tensors: specs,
    windowSize: window,
    fdRows,
    predictors,
    bytesPerElement: parsed || f64 ? 8 : 4,
  });
  const budget = options.memoryBytes ?? DEFAULT_STREAMING_BYTES;
  if (needed > budget) {
    const p = specs.reduce((s, t) => s + t.numel, 0);
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${info.path}: the streaming analysis of ${p.toLocaleString("en-US")} coordinates needs about ${(needed / 2 ** 20).toFixed(0)} MiB (window ${window} steps × p, Frequent Directions 3 × 2ℓ × p with ℓ = ${fdRows}), over the ${(budget / 2 ** 20).toFixed(0)} MiB budget: raise --memory, lower --window or --fd-rows, or stream sketches of the steps (--sketch countsketch:1024)`,
    );
  }
  return {
    ...ctx,
    options,
    fdRows,
    pass: {
      tensors: names,
      predictors,
      eps,
      windowSize: window,
      fdRows,
      sketch: parsed ? { kind: parsed.kind, k: parsed.k, seed } : undefined,
      momentum: predictors.some((p) => p.startsWith("momentum")),
      strict: options.strict ?? DEFAULT_ANALYZE_OPTIONS.strict,
    },
  };
}

/** A streaming pass as data: its plan, the state's snapshot, the positions skipped, and how many step positions it
 * read. Structured-cloneable (no functions, no class instances), so it can be assembled into a result elsewhere —
 * serve sends a growing run's checkpoint to its analysis worker. */
export interface StreamingCheckpoint {
  readonly plan: StreamingPlan;
  readonly snapshot: StreamingSnapshot;
  readonly nonFiniteSteps: readonly number[];
  /** Positions left out because their data failed its checksum. */
  readonly corrupt: readonly CorruptStep[];
  readonly positions: number;
}

/** The analysis output of a streaming pass over the first `positions` step positions of the reader (all of them in
 * `analyze`; those read so far in an incremental analysis). The trace's problems, its tensors' metadata and the
 * matrix geometry's sampled steps are read from `reader`, which must list at least those positions. The sketch's
 * measured κ error (which reads the trace again) is left to the caller. */
export function streamingOutput(reader: TraceReader, checkpoint: StreamingCheckpoint): AnalysisOutput {
  const { plan, snapshot, positions } = checkpoint;
  const { predictors, eps, names, window, modeOptions, options, fdRows } = plan;
  const { bootstrap = true, sketch, seed = 0 } = options;
  const info = reader.info;
  const problems: AnalysisProblem[] = [...info.problems];
  const nonFinite = checkpoint.nonFiniteSteps;
  const corrupt = checkpoint.corrupt;
  if (nonFinite.length > 0) problems.push(nonFiniteProblem(nonFinite, info.steps));
  const skip = skippedPositions(checkpoint);
  const kept: number[] = [];
  for (let i = 0; i < positions; i++) if (!skip.has(i)) kept.push(i);
  requireSteps(info.path, kept.length, nonFinite.length, corrupt.length);
  problems.push(...corruptionProblems(corrupt));
  const n = kept.length;
  let sketchReport: SketchReports | undefined;
  const sk = plan.pass.sketch;
  // The stated bound depends on the kind and k only: a one-coordinate sketch states it.
  if (sk) {
    sketchReport = randomSketchReports(
      createSketch({ kind: sk.kind, k: sk.k, seed: sk.seed, dim: 1 }),
      n,
      names.length,
      seed,
    );
  } else if (info.sketch) {
    const { kind, k, seed: sketchSeed } = info.sketch;
    sketchReport = randomSketchReports(createSketch({ kind, k, seed: sketchSeed, dim: 1 }), n, names.length);
  }
  const metas = tensorMetas(info);
  const fromOptions = { predictors: [...predictors], eps: [...eps], window, bootstrap, seed };
  const series = new Map<string, TensorSeries>();
  const tensors: TensorResult[] = [];
  names.forEach((name, i) => {
    const meta = metas.get(name)!;
    const { result, series: s } = tensorResultFromStream(snapshot.tensors[i], meta, fromOptions);
    series.set(name, s);
    tensors.push(withGeometryAndSketch(reader, options, meta, kept, result, sketchReport?.tensor));
  });
  const totalNumel = names.reduce((s, name) => s + metas.get(name)!.numel, 0);
  const totalOut = tensorResultFromStream(
    snapshot.total,
    { name: "total", shape: [totalNumel], numel: totalNumel },
    fromOptions,
  );
  series.set("total", totalOut.series);
  const totalResult: TensorResult = {
    ...totalOut.result,
    ...(sketchReport ? { sketch: sketchReport.total } : {}),
  };
  return {
    result: {
      schemaVersion: SCHEMA_VERSION,
      mode: "streaming",
      ...traceAndOptions(info, n, problems, nonFinite, corrupt, {
        ctx: { predictors, eps, names, window, modeOptions },
        bootstrap,
        sketch,
        extra: { fdRows },
      }),
      tensors,
      total: totalResult,
      bounds: boundsFor(totalResult, totalOut.series, 0, options.exactGradient),
      summary: summarize(totalResult, tensors, eps),
    },
    series,
    stepIndices: kept.map((p) => info.steps[p]),
  };
}

/**
 * The streaming plan for an analysis fed step by step (serve's live mode): the options resolved as
 * `analyzeWithSeries` resolves them, with a window fixed up front — `options.window`, else the default window of a
 * long run (DEFAULT_WINDOW.max) — since the state cannot change its window later.
 */
export function planIncremental(reader: TraceReader, options: AnalyzeOptions): StreamingPlan {
  validate(options);
  const { eps = DEFAULT_ANALYZE_OPTIONS.eps, include, exclude, sketch } = options;
  const info = reader.info;
  const predictors = options.predictors ?? defaultPredictorsFor(reader, sketch !== undefined);
  const names = selectTensors(
    info.tensors.map((t) => t.name),
    { include, exclude },
  );
  // The plan travels with checkpoints (structured clone): no progress callback in it.
  const { onProgress: _, ...plain } = options;
  return planStreaming(reader, plain, {
    predictors,
    eps,
    names,
    window: options.window ?? DEFAULT_WINDOW.max,
    modeOptions: {
      mode: options.mode ?? "auto",
      exactMaxSteps: options.exactMaxSteps ?? DEFAULT_EXACT_MAX_STEPS,
    },
  });
}

/** The problem entry for steps excluded for NaN/Inf values (the first ten step numbers). */
function nonFiniteProblem(nonFinite: readonly number[], steps: readonly number[]): AnalysisProblem {
  const shown = nonFinite
    .slice(0, 10)
    .map((p) => steps[p])
    .join(", ");
  return {
    kind: "nonfinite",
    step: steps[nonFinite[0]],
    message: `${nonFinite.length} step(s) with NaN/Inf gradients were excluded: ${shown}${nonFinite.length > 10 ? ", …" : ""}`,
  };
}

/** No step left after the exclusions: an error saying why (corruption, or NaN/Inf everywhere). */
function requireSteps(path: string, kept: number, nonFinite: number, corrupt: number): void {
  if (kept > 0) return;
  throw new GradtraceError(
    corrupt > 0 ? "E_CHECKSUM" : "E_NUMERIC",
    `${path}: no step is left to analyze (${nonFinite} step(s) with NaN/Inf gradients, ${corrupt} with corrupt data excluded)`,
  );
}

/** Tensor descriptions by name. A logged-sketch trace stores k numbers per tensor; results report the tensor's own
 * size when the trace header knows it (sketch.originalNumel). */
function tensorMetas(info: TraceReader["info"]): Map<string, TensorInfo> {
  const original = info.sketch?.originalNumel;
  return new Map(
    info.tensors.map((t) => [
      t.name,
      original?.[t.name] !== undefined ? { ...t, numel: original[t.name] } : t,
    ]),
  );
}

/** A tensor's result with its matrix geometry — exact from full gradients, otherwise estimated from the range
 * sketches the trace logged (rangeGeometry) — and the sketch report, with its bounds when the tensor's sketched Gram
 * is at hand (exact mode). */
function withGeometryAndSketch(
  reader: TraceReader,
  options: AnalyzeOptions,
  meta: TensorInfo,
  kept: readonly number[],
  result: TensorResult,
  sketchReport: SketchReport | undefined,
  gram?: Mat,
): TensorResult {
  const want = options.matrixGeometry ?? DEFAULT_ANALYZE_OPTIONS.matrixGeometry;
  const geometry =
    (want && !options.sketch && !reader.info.sketch ? matrixGeometry(reader, meta, kept) : null) ??
    (want ? rangeGeometry(reader, meta.name, kept) : null);
  const sketch =
    sketchReport && gram && sketchReport.kind !== "fd"
      ? { ...sketchReport, ...sketchBounds(gram, result, sketchReport.k, sketchReport.confidence) }
      : sketchReport;
  return {
    ...result,
    ...(geometry ? { matrix: geometry } : {}),
    ...(sketch ? { sketch } : {}),
  };
}

/** A sketch's report for each tensor and for the whole model. */
interface SketchReports {
  readonly tensor: SketchReport;
  readonly total: SketchReport;
}

/** The stated JL bound of a random sketch: all n(n+1)/2 inner products of n steps, at 95% confidence; for the whole
 * model, of all m tensors' sketches at once (the whole model's sketch is the tensors' side by side, whose inner
 * products are within the same ε when every tensor's are: a union bound over the tensors — see sketchPass.ts). */
function randomSketchReports(sketch: Sketch, n: number, m: number, seed = sketch.seed): SketchReports {
  const confidence = 0.95;
  const report = (pairs: number): SketchReport => ({
    kind: sketch.kind,
    k: sketch.k,
    seed,
    errorBound: sketch.errorBound({ delta: 1 - confidence, pairs }),
    confidence,
  });
  const pairs = (n * (n + 1)) / 2;
  return { tensor: report(pairs), total: report(pairs * m) };
}

/** The whole model's sketch report with, when this analysis sketched the steps itself (so the exact vectors are in
 * the trace, unlike a logged sketch), the measured error of κ on the first kept steps. */
async function withMeasuredError(
  reader: TraceReader,
  options: AnalyzeOptions,
  report: SketchReport,
  names: readonly string[],
  series: TensorSeries,
  kept: readonly number[],
  opts: Parameters<typeof tensorResultFromGram>[2],
): Promise<SketchReport> {
  const check = options.sketchCheckSteps ?? DEFAULT_ANALYZE_OPTIONS.sketchCheckSteps;
  if (options.sketch === undefined || check < 2) return report;
  const measuredError = await measureSketchError(reader, names, series, kept.slice(0, check), opts);
  return { ...report, measuredError };
}

/** "fd:64" → 64, the number of rows ℓ of the Frequent Directions sketch. */
function parseFdSpec(spec: string): number {
  const ell = Number(spec.slice(3));
  if (!Number.isInteger(ell) || ell < 2) {
    throw new GradtraceError(
      "E_ARG",
      `--sketch ${spec}: fd:<ℓ> takes an integer ℓ ≥ 2 (rows of the sketch), e.g. fd:64`,
    );
  }
  return ell;
}

/** The default predictor set, plus the momentum-matched predictor when the trace logged the optimizer's buffer
 * (spec: "the optimizer's own momentum buffer when the trace contains it"; exact mode only). */
function defaultPredictorsFor(reader: TraceReader, sketched: boolean): readonly string[] {
  const first = reader.info.tensors[0];
  const hasMomentum =
    !sketched && first !== undefined && reader.info.steps.length > 0 && hasMomentumBuffer(reader, first.name);
  return hasMomentum ? [...DEFAULT_PREDICTORS, "momentum"] : DEFAULT_PREDICTORS;
}

/** Whether the first step logged a momentum buffer for `name` (one failing its checksum was logged all the same). */
function hasMomentumBuffer(reader: TraceReader, name: string): boolean {
  try {
    return (reader.readState?.(0, name, "momentum") ?? null) !== null;
  } catch (err) {
    if ((err as { code?: unknown }).code === "E_CHECKSUM") return true;
    throw err;
  }
}

/** |κ_sketched − κ_exact| / κ_exact per predictor on the first kept steps (`positions`), where the exact Gram is
 * affordable. The sketched κ of those steps comes from the head of the whole run's sketched series: every predictor
 * is causal (m_t reads steps < t only), so the first m errors of the run are those of a run of m steps — the same
 * figure in the exact and the streaming mode. */
async function measureSketchError(
  reader: TraceReader,
  names: readonly string[],
  sketched: TensorSeries,
  positions: readonly number[],
  opts: Parameters<typeof tensorResultFromGram>[2],
): Promise<Record<string, number>> {
  const m = positions.length;
  const exact = sumGrams(
    (await accumulateGrams(reader, { tensors: names, stepPositions: positions })).grams.values(),
  )!;
  const meta = { name: "check", shape: [], numel: 0 };
  // The check compares sketched with exact κ on the first steps only; a burn-in would leave nothing to compare.
  const a = tensorResultFromGram(exact, meta, { ...opts, bootstrap: false, burnIn: 0 }).result.kappa;
  const den = sum(sketched.gradNormSq, 0, m);
  const out: Record<string, number> = {};
  for (const id of Object.keys(a)) {
    const b = den > 0 ? sum(sketched.error[id], 0, m) / den : Number.NaN;
    out[id] = Math.abs(b - a[id]) / Math.max(Math.abs(a[id]), 1e-300);
  }
  return out;
}

function boundsFor(
  total: TensorResult,
  series: TensorSeries,
  burnIn: number,
  exactGradient: boolean | undefined,
): BoundsReport {
  const regret: Record<string, number> = {};
  const nonconvexPathTerm: Record<string, number> = {};
  const assumptions = new Set<string>();
  const note = (list: readonly { statement: string; verified?: boolean }[]) => {
    for (const a of list)
      assumptions.add(
        `${a.statement} (${a.verified === undefined ? "unverified" : a.verified ? "verified" : "violated"})`,
      );
  };
  const terms = Math.max(1, total.steps - burnIn);
  for (const [id, p] of Object.entries(total.pathLength)) {
    // D = 1 and η = 1: the report gives the measured-path-length factors; the user scales by their D and η.
    const r = regretBound(p, { diameter: 1, gradNormSq: total.gradNormSq });
    regret[id] = r.regret;
    const nc = nonconvexBound({ pathLength: p, steps: terms, stepSize: 1, exactGradient });
    nonconvexPathTerm[id] = nc.pathTerm;
    note([...r.assumptions, ...nc.assumptions]);
  }
  // The class form over every analyzed predictor: E² is the largest per-step error of any of them inside the sums.
  const ids = Object.keys(total.pathLength).filter((id) => Number.isFinite(total.pathLength[id]));
  let regretClass: BoundsReport["regretClass"];
  if (ids.length > 0) {
    let maxErrorSq = 0;
    for (const id of ids) {
      const e = series.error[id];
      for (let t = burnIn; t < e.length; t++) if (e[t] > maxErrorSq) maxErrorSq = e[t];
    }
    const c = classRegretBound({
      pathLengths: Object.fromEntries(ids.map((id) => [id, total.pathLength[id]])),
      maxErrorSq,
      diameter: 1,
      gradNormSq: total.gradNormSq,
    });
    regretClass = {
      predictors: ids,
      best: c.best,
      bestPathLength: c.bestPathLength,
      maxErrorSq,
      selectionTerm: c.selectionTerm,
      regret: c.regret,
    };
    note(c.assumptions);
  }
  return {
    regret,
    regretWorstCase: Math.sqrt(total.gradNormSq),
    ...(regretClass ? { regretClass } : {}),
    nonconvexPathTerm,
    ...(exactGradient !== undefined ? { exactGradient } : {}),
    statements: [BOUND_STATEMENTS.regret, BOUND_STATEMENTS.regretClass, BOUND_STATEMENTS.nonconvex],
    assumptions: [...assumptions],
  };
}
