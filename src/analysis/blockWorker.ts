/** @file Task module of the block passes' worker pool (src/parallel runs its exports in worker threads): each task
 * opens the trace by path in the worker (once per thread) and runs one exact-pass or sketched-pass task of
 * blockTasks.ts or a streaming step range (streamRanges.ts), handing its buffers back without a copy. */
import { type Transferred, transferResult } from "../parallel/index.ts";
import {
  type GramTask,
  type GramTaskResult,
  readerFor,
  runGramTask,
  runSketchTask,
  type SketchTask,
  type SketchTaskResult,
  type TraceHandle,
} from "./blockTasks.ts";
import { runStreamTask, type StreamTask, type StreamTaskResult } from "./streamRangeTask.ts";

export function gramTask(handle: TraceHandle, task: GramTask): Transferred<GramTaskResult> {
  const result = runGramTask(readerFor(handle), task);
  return transferResult(result, [result.lower.buffer as ArrayBuffer]);
}

export function sketchTask(handle: TraceHandle, task: SketchTask): Transferred<SketchTaskResult> {
  const result = runSketchTask(readerFor(handle), task);
  return transferResult(result, [result.rows.buffer as ArrayBuffer]);
}

export function streamTask(handle: TraceHandle, task: StreamTask): StreamTaskResult {
  return runStreamTask(readerFor(handle), task);
}
