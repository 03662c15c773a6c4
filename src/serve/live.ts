/** @file Incremental live mode for one growing run: an open trace reader and the streaming analysis fed step by step
 * (`IncrementalAnalysis`: the StreamingState of `analyze()`'s streaming mode, src/core/streaming.ts). Each
 * `advance()` refreshes the reader, reads only the step positions appended since the last call and returns their
 * numbers: per tensor and for the whole model, ‖g_t‖ of each new step, the running κ per predictor, and κ and r*(ε)
 * of the windows that closed — what the server pushes as an SSE `live` event within a poll period of the append.
 * The same state gives the run's whole result (`checkpoint()`, assembled by the engine) without re-reading the
 * trace, when `analyze()` would run the streaming mode on it (see store.ts and docs/dashboard.md "Live mode").
 * Memory: the streaming state's window × p floats, Frequent Directions sketches and O(T) scalar series — never the
 * trace. Work per event: the new steps, plus one window's series per track; independent of the steps before.
 * Steps whose data fails its checksum are left out (as analyze() leaves them out) and listed in the next event. */
import { type AnalyzeOptions, IncrementalAnalysis, type StreamingCheckpoint } from "../analysis/index.ts";
import { GradtraceError } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { openTrace } from "../trace/index.ts";
import type { LiveStepsEvent, LiveTrack } from "./api-types.ts";
import { TOTAL_NAME } from "./views.ts";

/** The new steps of one `advance()`. */
export type LiveUpdate = Omit<LiveStepsEvent, "run" | "version">;

/** Numbers one event may carry, about: a catch-up of a long run sends its latest steps only (the rest is in the
 * result), so an event stays a few MB whatever the run's length and width. */
export const LIVE_EVENT_VALUES = 200_000;
const MAX_EVENT_STEPS = 4096;

export interface LiveRunOptions {
  readonly absPath: string;
  /** The run's analysis options (those of the server). */
  readonly analyzeOptions?: AnalyzeOptions;
  /** Opens the trace (tests wrap the reader to count reads). */
  readonly open?: (absPath: string) => TraceReader;
  /** Milliseconds of reading after which `advance()` yields to the event loop (catch-up of a long trace). */
  readonly sliceMs?: number;
  /** About how many numbers one update may carry (default LIVE_EVENT_VALUES): steps per update are capped at
   * this / (tracks + predictors), within [16, 4,096]. */
  readonly eventValues?: number;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export class LiveRun {
  private readonly reader: TraceReader;
  private readonly analysis: IncrementalAnalysis;
  private readonly sliceMs: number;
  private readonly eventValues: number;
  /** Running Σ‖g_t‖² and Σ‖g_t − m_t‖² per predictor of each track (tensors, then the whole model), summed in step
   * order as `analyze()` sums them. */
  private readonly sums: { grad: number; error: Record<string, number> }[];
  /** Accepted steps and closed windows already reported. */
  private reported = 0;
  private windowsReported = 0;
  private corruptReported = 0;

  constructor({
    absPath,
    analyzeOptions = {},
    open = openTrace,
    sliceMs = 20,
    eventValues = LIVE_EVENT_VALUES,
  }: LiveRunOptions) {
    const reader = open(absPath);
    try {
      if (!reader.refresh) {
        throw new GradtraceError(
          "E_UNSUPPORTED",
          `LiveRun: trace ${absPath} (${reader.info.format}) cannot be re-scanned for appended steps`,
        );
      }
      // The dashboard's results carry the matrix geometry (engine.ts); so must a result built here.
      this.analysis = new IncrementalAnalysis(reader, { ...analyzeOptions, matrixGeometry: true });
    } catch (err) {
      reader.close();
      throw err;
    }
    this.reader = reader;
    this.sliceMs = sliceMs;
    this.eventValues = eventValues;
    const zero = () => Object.fromEntries(this.analysis.predictors.map((id) => [id, 0]));
    this.sums = Array.from({ length: this.analysis.tensors.length + 1 }, () => ({ grad: 0, error: zero() }));
  }

  /** Steps observed so far (accepted: steps with NaN/Inf values are left out). */
  get steps(): number {
    return this.analysis.steps;
  }

  get predictors(): readonly string[] {
    return this.analysis.predictors;
  }

  /** Reads the step positions appended since the last call (all of them on the first call) and returns their
   * numbers, or null when nothing new was accepted. */
  async advance(): Promise<LiveUpdate | null> {
    const reader = this.reader;
    reader.refresh!();
    const total = reader.info.steps.length;
    if (total < this.analysis.positions) {
      // The file was replaced by a shorter one (a restarted run): the state no longer matches it.
      throw new GradtraceError(
        "E_FORMAT",
        `LiveRun: trace ${reader.info.path} now has ${total} steps, fewer than the ${this.analysis.positions} already read`,
      );
    }
    let sliceStart = Date.now();
    while (this.analysis.positions < total) {
      this.analysis.advance(16);
      if (Date.now() - sliceStart >= this.sliceMs) {
        // A first call catches up on the whole trace: let the server answer requests meanwhile.
        await new Promise((r) => setImmediate(r));
        sliceStart = Date.now();
      }
    }
    return this.update();
  }

  /** The numbers of the steps accepted since the last update; running sums advance over all of them. */
  private update(): LiveUpdate | null {
    const a = this.analysis;
    const before = this.reported;
    const steps = a.steps;
    if (steps === before) return null;
    const tracks = a.tensors.length + 1;
    const cap = Math.max(
      16,
      Math.min(MAX_EVENT_STEPS, Math.floor(this.eventValues / (tracks + a.predictors.length))),
    );
    const from = Math.max(before, steps - cap);
    const { size, stride } = a.window;
    const closed = a.closedWindows(this.windowsReported);
    // Windows that closed among the steps carried (a catch-up's earlier windows are in the result already).
    const firstWindow = closed.starts.findIndex((s) => s + size > from);
    const carried = firstWindow < 0 ? 0 : closed.starts.length - firstWindow;
    const starts = closed.starts.slice(closed.starts.length - carried);
    // One read per track covers the running sums' new steps and every carried window.
    const readFrom = Math.min(before, starts[0] ?? before);
    const out: LiveTrack[] = [];
    let totalError: Record<string, number[]> = {};
    for (let track = 0; track < tracks; track++) {
      const series = a.seriesRange(track, readFrom, steps);
      const sums = this.sums[track];
      const kappa: Record<string, number | null> = {};
      const g = series.gradNormSq;
      for (let t = before - readFrom; t < g.length; t++) sums.grad += g[t];
      for (const id of a.predictors) {
        const e = series.error[id];
        for (let t = before - readFrom; t < e.length; t++) sums.error[id] += e[t];
        kappa[id] = sums.grad > 0 ? finiteOrNull(sums.error[id] / sums.grad) : null;
      }
      const windowKappa: Record<string, (number | null)[]> = {};
      for (const id of a.predictors) {
        const e = series.error[id];
        windowKappa[id] = starts.map((s) => {
          let num = 0;
          let den = 0;
          for (let t = s - readFrom; t < s - readFrom + size; t++) {
            num += e[t];
            den += g[t];
          }
          return den > 0 ? finiteOrNull(num / den) : null;
        });
      }
      const windowRank: Record<string, (number | null)[]> = {};
      a.eps.forEach((eps, j) => {
        windowRank[String(eps)] = closed.predictableRank[track][j]
          .slice(closed.starts.length - carried)
          .map(finiteOrNull);
      });
      const gradNorm = Array.from(g.subarray(from - readFrom), Math.sqrt);
      if (track === tracks - 1) {
        totalError = {};
        for (const id of a.predictors)
          totalError[id] = Array.from(series.error[id].subarray(from - readFrom));
      }
      out.push({
        name: track === tracks - 1 ? TOTAL_NAME : a.tensors[track],
        gradNorm,
        kappa,
        windowKappa,
        windowRank,
      });
    }
    this.reported = steps;
    this.windowsReported += closed.starts.length;
    // Corrupt data is left out of the live numbers, as analyze() leaves it out of the result.
    const corruptSteps = a.corruptSteps.slice(this.corruptReported);
    this.corruptReported += corruptSteps.length;
    const total = out.pop()!;
    const firstSteps = a.acceptedSteps(Math.min(from, starts[0] ?? from));
    const offset = Math.min(from, starts[0] ?? from);
    return {
      from,
      steps,
      added: steps - before,
      stepIndices: firstSteps.slice(from - offset),
      gradNorm: total.gradNorm,
      error: totalError,
      kappa: total.kappa,
      windows: { size, stride, starts, firstStep: starts.map((s) => firstSteps[s - offset]) },
      windowKappa: total.windowKappa,
      windowRank: total.windowRank,
      tensors: out,
      corruptSteps,
    };
  }

  /** The live state as data for the run's next result (assembled by the engine: `streamingOutput`), after reading
   * any step the trace lists now; null when `analyze()` would not run the streaming mode on these steps with this
   * window (a short run in auto mode: its exact analysis runs instead). */
  checkpoint(): StreamingCheckpoint | null {
    this.reader.refresh!();
    this.analysis.advance();
    return this.analysis.matchesAnalyze() ? this.analysis.checkpoint() : null;
  }

  close(): void {
    this.reader.close();
  }
}
