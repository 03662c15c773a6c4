/** @file The streaming analysis fed step by step, for a trace that keeps growing (serve's live mode): the same
 * StreamingState, pass and result assembly as `analyze()`'s streaming mode (analyze.ts, streamPass.ts), so the
 * numbers cannot drift from it. The caller refreshes the reader and calls `advance()`; each call reads only the step
 * positions appended since the previous one. Between calls it can read the per-step numbers of the steps just added
 * (`seriesRange`) and the windows just closed (`closedWindows`) at a cost independent of the steps before them, and
 * produce the whole `AnalysisOutput` (`output()`, or `checkpoint()` assembled elsewhere by `streamingOutput`), which
 * equals `analyzeWithSeries` on the steps read so far whenever that call would run the streaming mode with the same
 * window (`matchesAnalyze()`).
 * Memory: the streaming state's (window × p floats, Frequent Directions sketches, O(T) scalar series), never the
 * trace. */
import type { TraceReader } from "../trace/index.ts";
import {
  type AnalysisOutput,
  type AnalyzeOptions,
  defaultWindow,
  planIncremental,
  resolveMode,
  type StreamingCheckpoint,
  type StreamingPlan,
  streamingOutput,
} from "./analyze.ts";
import { StreamPass } from "./streamPass.ts";

export class IncrementalAnalysis {
  private readonly plan: StreamingPlan;
  private readonly pass: StreamPass;
  /** Step positions of the reader read so far. */
  private read = 0;

  /** Checks the options as `analyze` does (a streaming plan that cannot run throws its GradtraceError). */
  constructor(
    private readonly reader: TraceReader,
    options: AnalyzeOptions = {},
  ) {
    this.plan = planIncremental(reader, options);
    this.pass = new StreamPass(reader, this.plan.pass);
  }

  /** Steps accepted so far (steps with NaN/Inf values are read but not counted). */
  get steps(): number {
    return this.pass.state.steps;
  }

  /** Step positions of the trace read so far. */
  get positions(): number {
    return this.read;
  }

  get tensors(): readonly string[] {
    return this.plan.names;
  }

  get predictors(): readonly string[] {
    return this.plan.predictors;
  }

  get eps(): readonly number[] {
    return this.plan.eps;
  }

  /** Window length and stride of the windowed κ and r*(ε). */
  get window(): { size: number; stride: number } {
    return this.pass.state.window;
  }

  /** Logged step numbers of the steps left out so far because their data failed its checksum. */
  get corruptSteps(): readonly number[] {
    return this.pass.corrupt.map((c) => c.step);
  }

  /** Logged step number of each accepted step from `from` on (the reader's step list; NaN/Inf and corrupt steps left
   * out). */
  acceptedSteps(from: number): number[] {
    const skipped = [...this.pass.nonFiniteSteps, ...this.pass.corrupt.map((c) => c.position)].sort(
      (a, b) => a - b,
    );
    const out: number[] = [];
    // Accepted step a is position a + (skipped positions before it); walk back from the end, where new steps are.
    let s = skipped.length;
    for (let pos = this.read - 1, a = this.steps - 1; a >= from && pos >= 0; pos--) {
      if (s > 0 && skipped[s - 1] === pos) {
        s--;
        continue;
      }
      out.push(this.reader.info.steps[pos]);
      a--;
    }
    return out.reverse();
  }

  /**
   * Reads the step positions the reader lists beyond those already read (refresh it first), at most `maxPositions`
   * of them (the rest on the next call: a long catch-up can yield in between). Returns the number read.
   */
  advance(maxPositions = Number.POSITIVE_INFINITY): number {
    const total = this.reader.info.steps.length;
    const end = Math.min(total, this.read + maxPositions);
    const start = this.read;
    for (; this.read < end; this.read++) this.pass.step(this.read);
    return end - start;
  }

  /** Per-step ‖g_t‖² and ‖g_t − m_t‖² of track `track` (tensors in `tensors` order, then the whole model) for the
   * accepted steps [from, to). */
  seriesRange(track: number, from: number, to: number) {
    return this.pass.state.seriesRange(track, from, to);
  }

  /** Windows closed since the first `from` ones: starts (accepted steps) and r*(ε) per track, per ε, per window. */
  closedWindows(from: number) {
    return this.pass.state.closedWindows(from);
  }

  get windowCount(): number {
    return this.pass.state.windowCount;
  }

  /** Whether `output()` is what `analyzeWithSeries` with the same options would return on the steps read so far: it
   * would run the streaming mode, with this window. */
  matchesAnalyze(): boolean {
    const n = this.read;
    const o = this.plan.options;
    return n > 0 && resolveMode(n, o) === "streaming" && (o.window ?? defaultWindow(n)) === this.plan.window;
  }

  /** The state so far as data (copies of its series): what `streamingOutput` assembles into the result, here or in
   * a worker. */
  checkpoint(): StreamingCheckpoint {
    const { snapshot, nonFiniteSteps, corrupt } = this.pass.result();
    return { plan: this.plan, snapshot, nonFiniteSteps, corrupt, positions: this.read };
  }

  /** The analysis of the steps read so far, assembled from the state as the streaming mode does (matrix geometry
   * reads its few sampled steps from the reader). */
  output(): AnalysisOutput {
    return streamingOutput(this.reader, this.checkpoint());
  }
}
