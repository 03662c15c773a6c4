/** @file One step range of a streaming analysis cut into ranges (streamRanges.ts), as a task a worker runs:
 * 1. a light replay reads the steps before the range through a live accumulator that holds only the predictors whose
 *    state depends on the whole history (the EMAs, ar<p>'s normal equations, the momentum predictor for which steps are
 *    accepted) with the shortest window they allow: their states at the range's start, and the run's index of its first
 *    step, come out bit for bit as in one pass (same float operations, same order, same kernel);
 * 2. the full streaming state warms up on the last max(window, lag) + 1 accepted steps before the range (the window
 *    Gram, the lagged predictors' memory, the previous gradient of the increments), takes the replayed histories
 *    (`beginOutput`), and runs through the range, exporting its share (`rangeExport`).
 * The submitter merges the ranges in order (src/core/streamingRanges.ts: series, cosines and windows bit for bit;
 * Frequent Directions sketches merged with their bounds added). The replay reads the steps before the range again, so
 * a run cut into R ranges reads about (R + 1)/2 times its data in all — the light replay costs a few multiply-adds per
 * coordinate, the full state ≈ (window + 2.5ℓ) — and the last range's task reads the whole run. */
import { emaBetaOf, GradtraceError, resolvePredictor, type StreamingRange } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import type { CorruptStep } from "./corruption.ts";
import { StreamPass, type StreamPassOptions } from "./streamPass.ts";

/** The pass's settings a range task carries (JSON: no callbacks, no state options). */
export type StreamRangePass = Omit<StreamPassOptions, "onProgress" | "keepCosines" | "warmUp" | "kernel">;

export interface StreamTask {
  readonly pass: StreamRangePass;
  /** Step positions [from, to) of the trace. */
  readonly from: number;
  readonly to: number;
}

export interface StreamTaskResult {
  readonly range: StreamingRange;
  /** Positions in [from, to) skipped for NaN/Inf values, and those whose data failed its checksum. */
  readonly nonFiniteSteps: number[];
  readonly corrupt: CorruptStep[];
}

interface ReplayPlan {
  /** Predictors the light replay runs (those carrying the whole history, and momentum ones: they decide which steps
   * are accepted). */
  readonly ids: string[];
  /** Its window: the longest lag among them (≥ 1). */
  readonly window: number;
  /** Accepted steps the full state warms up on: max(window, every lag) + 1. */
  readonly warmUp: number;
}

/** How a range re-creates the state at its start, or why the predictors do not allow it (a message). */
export function replayPlan(predictors: readonly string[], window: number): ReplayPlan | string {
  const ids: string[] = [];
  let replayWindow = 1;
  let maxLag = 0;
  for (const id of predictors) {
    const d = resolvePredictor(id);
    if (d.lagged) {
      maxLag = Math.max(maxLag, d.lagged.lag);
      if (d.lagged.create().saveHistory) {
        if (d.lagged.lag > window) {
          return `predictor ${id} looks back ${d.lagged.lag} steps, beyond the window of ${window}, and carries its whole history: raise --window to ${d.lagged.lag}`;
        }
        ids.push(id);
        replayWindow = Math.max(replayWindow, d.lagged.lag);
      }
    } else if (emaBetaOf(d) !== undefined || d.requiresMomentum || d.live?.(1).saveHistory) {
      // The momentum predictor's state is the last buffer (the warm-up restores it), but its buffers decide which
      // steps are accepted, so the replay reads them too.
      ids.push(id);
    } else {
      // A user predictor's live state: whether it depends on more than the last steps is unknown.
      return `predictor ${id} keeps a live state that cannot be handed from one step range to the next`;
    }
  }
  return { ids, window: replayWindow, warmUp: Math.max(window, maxLag) + 1 };
}

export function requirePlan(predictors: readonly string[], window: number): ReplayPlan {
  const plan = replayPlan(predictors, window);
  if (typeof plan === "string") throw new GradtraceError("E_UNSUPPORTED", `streaming step ranges: ${plan}`);
  return plan;
}

/** Runs one range task on `reader` (a worker's own reader of the trace). */
export function runStreamTask(reader: TraceReader, { pass, from, to }: StreamTask): StreamTaskResult {
  const n = reader.info.steps.length;
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= n)) {
    throw new GradtraceError(
      "E_ARG",
      `${reader.info.path}: step range [${from}, ${to}) is not inside the trace's ${n} steps`,
    );
  }
  const plan = requirePlan(pass.predictors, pass.windowSize);
  const fullState = (warmUp: boolean) => new StreamPass(reader, { ...pass, keepCosines: true, warmUp });
  let heavy = fullState(from > 0);
  if (from > 0) {
    // The replay must run the kernel the full state runs, or the float operations (and the bits) differ.
    const light = new StreamPass(reader, {
      ...pass,
      predictors: plan.ids,
      eps: [],
      windowSize: plan.window,
      fdRows: 0,
      kernel: heavy.state.kernel,
    });
    for (let pos = 0; pos < from; pos++) light.step(pos);
    const firstStep = light.state.acceptedSteps;
    const history = plan.ids.length > 0 ? light.state.historyState() : null;
    // Warm up on the positions just before the range; skipped steps among them call for an earlier start.
    let start = Math.max(0, from - plan.warmUp);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) heavy = fullState(true);
      for (let pos = start; pos < from; pos++) heavy.step(pos);
      const short = plan.warmUp - heavy.state.acceptedSteps;
      if (short <= 0 || start === 0) break;
      start = Math.max(0, start - short);
    }
    heavy.state.beginOutput(firstStep, history);
  }
  for (let pos = from; pos < to; pos++) heavy.step(pos);
  return {
    range: heavy.state.rangeExport(),
    nonFiniteSteps: heavy.nonFiniteSteps.filter((p) => p >= from),
    corrupt: heavy.corrupt.filter((c) => c.position >= from),
  };
}
