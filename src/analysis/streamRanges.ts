/** @file The streaming mode cut into step ranges, so that several machines (the Redis job queue) share one long
 * analysis: the trace's steps are split into ranges, each range is one task (streamRangeTask.ts: a light replay of the
 * steps before it, a warm-up, then the range), and the ranges' shares are merged in order (src/core/streamingRanges.ts:
 * series, cosines and windows bit for bit; Frequent Directions sketches merged with their bounds added). The replays
 * read the steps before each range again, so a run cut into R ranges reads about (R + 1)/2 times its data in all —
 * the replay costs a few multiply-adds per coordinate, the full state ≈ (window + 2.5ℓ) — and the last range's task
 * reads the whole run. */
import { mergeStreamingRanges, type StreamingSnapshot } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import type { CorruptStep } from "./corruption.ts";
import type { GramPassProgress } from "./gramPass.ts";
import { stepBytes } from "./streamPass.ts";
import {
  replayPlan,
  requirePlan,
  type StreamRangePass,
  type StreamTask,
  type StreamTaskResult,
} from "./streamRangeTask.ts";
import { runInOrder, type TaskRunner } from "./taskRunner.ts";

export type { StreamRangePass };

/** Ranges a queued streaming analysis is cut into by default: enough for a handful of machines, while the replays
 * stay a small share of the work (see the file comment). */
export const DEFAULT_STEP_RANGES = 8;

/** Largest Frequent Directions payload a range hands back (ℓ rows × 3p float64: the tensors', the total's increments
 * and gradients): results travel through Redis, whose values end at 512 MB. */
export const MAX_RANGE_SKETCH_BYTES = 256 * 2 ** 20;

/** Why a streaming pass cannot be cut into ranges (its predictors, or sketches too large to hand back), or null. */
export function stepRangesProblem(reader: TraceReader, pass: StreamRangePass): string | null {
  const plan = replayPlan(pass.predictors, pass.windowSize);
  if (typeof plan === "string") return plan;
  const numel = new Map(reader.info.tensors.map((t) => [t.name, t.numel]));
  const p = pass.tensors.reduce((s, name) => s + (pass.sketch ? pass.sketch.k : numel.get(name)!), 0);
  const bytes = 3 * pass.fdRows * p * 8;
  if (bytes > MAX_RANGE_SKETCH_BYTES) {
    return `each step range hands back Frequent Directions sketches of ${(bytes / 2 ** 20).toFixed(0)} MiB (3 × ℓ = ${pass.fdRows} rows × ${p.toLocaleString("en-US")} coordinates), over the ${MAX_RANGE_SKETCH_BYTES / 2 ** 20} MiB a job result may take: stream sketches of the steps (--sketch countsketch:1024) or lower --fd-rows`;
  }
  return null;
}

/** Step positions [from, to) of each range: `ranges` at most, each at least four warm-ups long. */
export function stepRangeBounds(steps: number, ranges: number, warmUp: number): [number, number][] {
  const count = Math.max(1, Math.min(ranges, Math.floor(steps / (4 * warmUp))));
  return Array.from({ length: count }, (_, i) => [
    Math.round((i * steps) / count),
    Math.round(((i + 1) * steps) / count),
  ]);
}

export interface StreamInRangesResult {
  /** How many ranges the steps were cut into. */
  readonly ranges: number;
  readonly snapshot: StreamingSnapshot;
  readonly nonFiniteSteps: number[];
  readonly corrupt: CorruptStep[];
}

/** The streaming pass over the whole trace as `ranges` range tasks on `runner` (in order; results merged). */
export async function streamInRanges(
  reader: TraceReader,
  pass: StreamRangePass,
  runner: TaskRunner,
  {
    ranges = DEFAULT_STEP_RANGES,
    onProgress,
  }: { ranges?: number; onProgress?: (p: GramPassProgress) => void },
): Promise<StreamInRangesResult> {
  const n = reader.info.steps.length;
  const bounds = stepRangeBounds(n, ranges, requirePlan(pass.predictors, pass.windowSize).warmUp);
  const bytesPerStep = stepBytes(reader, pass.tensors);
  const results: StreamTaskResult[] = [];
  await runInOrder(
    bounds.length,
    (i): StreamTask => ({ pass, from: bounds[i][0], to: bounds[i][1] }),
    (task) => runner.stream(task),
    (result, task) => {
      results.push(result);
      onProgress?.({ phase: "stream", done: task.to, total: n, bytes: task.to * bytesPerStep });
    },
    runner.threads,
  );
  const nonFiniteSteps = results.flatMap((r) => r.nonFiniteSteps);
  const corrupt = results.flatMap((r) => r.corrupt);
  // The single pass's skipped `observe` calls: corrupt positions are never observed, so calls lag positions.
  const corruptPositions = corrupt.map((c) => c.position);
  const skippedCalls = nonFiniteSteps.map((p) => p - corruptPositions.filter((c) => c < p).length);
  return {
    ranges: bounds.length,
    snapshot: mergeStreamingRanges(
      results.map((r) => r.range),
      skippedCalls,
    ),
    nonFiniteSteps,
    corrupt,
  };
}
