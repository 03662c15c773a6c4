/** @file Who runs the block passes' tasks (blockTasks.ts): this thread, one task after another, a pool of worker
 * threads that open the trace themselves, or the Redis job queue (`gradtrace worker` processes on any machine that
 * sees the trace at the same path; docs/distributed.md). Either way the pass gets every task's result in task order, so its sums
 * are the same whatever runs them. */
import * as os from "node:os";
import * as path from "node:path";
import {
  createPool,
  createQueuePool,
  labelledQueue,
  type QueueOptions,
  siblingModule,
  type WorkerPool,
} from "../parallel/index.ts";
import type { TraceReader } from "../trace/index.ts";
import {
  type GramTask,
  type GramTaskResult,
  runGramTask,
  runSketchTask,
  type SketchTask,
  type SketchTaskResult,
  type TraceHandle,
} from "./blockTasks.ts";
import { runStreamTask, type StreamTask, type StreamTaskResult } from "./streamRangeTask.ts";

export interface TaskRunner {
  /** Threads working on tasks (1: this thread). */
  readonly threads: number;
  gram(task: GramTask): Promise<GramTaskResult>;
  sketch(task: SketchTask): Promise<SketchTaskResult>;
  /** A step range of the streaming pass (streamRanges.ts). */
  stream(task: StreamTask): Promise<StreamTaskResult>;
  close(): Promise<void>;
}

/** Runs tasks on this thread, on the caller's reader. */
export function inProcessRunner(reader: TraceReader): TaskRunner {
  return {
    threads: 1,
    gram: async (task) => runGramTask(reader, task),
    sketch: async (task) => runSketchTask(reader, task),
    stream: async (task) => runStreamTask(reader, task),
    close: async () => {},
  };
}

/** Threads a pass uses by default: every core the process may use (at most 8: the passes are memory-bound beyond). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

/** Payload below which a pass stays on this thread: starting workers (each loads the kernels and opens the trace)
 * costs more than it saves on small traces. */
export const PARALLEL_MIN_BYTES = 64 * 2 ** 20;

/** Runs tasks on `threads` worker threads (src/parallel), each opening the trace `reader` was opened from. The
 * caller must `close()` it. */
export function workerRunner(reader: TraceReader, threads: number): TaskRunner {
  const pool = createPool<BlockWorker>({ module: BLOCK_WORKER, threads });
  return poolRunner(reader, pool, threads);
}

type BlockWorker = typeof import("./blockWorker.ts");
const BLOCK_WORKER = siblingModule(import.meta.url, "blockWorker");

/** What a worker needs to open the trace itself: its absolute path (workers may run elsewhere), layout and steps. */
function traceHandle(reader: TraceReader): TraceHandle {
  return { path: path.resolve(reader.info.path), format: reader.info.format, steps: [...reader.info.steps] };
}

function poolRunner(reader: TraceReader, pool: WorkerPool<BlockWorker>, threads: number): TaskRunner {
  const handle = traceHandle(reader);
  return {
    threads,
    gram: (task) => pool.run("gramTask", [handle, task]),
    sketch: (task) => pool.run("sketchTask", [handle, task]),
    stream: (task) => pool.run("streamTask", [handle, task]),
    close: () => pool.close(),
  };
}

/** How many "threads" a queue runner counts as: the passes keep 2 × threads tasks in flight (and their results in
 * memory until they are added in order) and the sketched pass cuts the steps into 4 × threads ranges. 8 keeps 16
 * jobs queued — enough for a handful of worker machines — and the submitter's memory bounded. */
export const QUEUE_RUNNER_THREADS = 8;

/** Runs tasks as jobs on the Redis queue (`gradtrace worker` processes, which open the trace by its absolute path).
 * The pass adds the results in task order as for threads, so the numbers are the same bit for bit. */
export function queueRunner(reader: TraceReader, queue: QueueOptions): TaskRunner {
  const pool = createQueuePool<BlockWorker>({
    module: BLOCK_WORKER,
    queue: labelledQueue(queue, `analyze ${traceHandle(reader).path}`),
  });
  return poolRunner(reader, pool, QUEUE_RUNNER_THREADS);
}

/** The runner for a pass over `bytes` of payload with `threads` requested (default `defaultThreads()`): this thread
 * when one is asked for or the pass is small, else worker threads. */
export function runnerFor(reader: TraceReader, bytes: number, threads = defaultThreads()): TaskRunner {
  if (threads <= 1 || bytes < PARALLEL_MIN_BYTES) return inProcessRunner(reader);
  return workerRunner(reader, threads);
}

/**
 * Runs `count` tasks (made by `make(i)`) on `runner`, at most `ahead` beyond the oldest unconsumed one, and hands
 * each result to `consume` in task order (results that finish early wait, so memory stays bounded).
 */
export async function runInOrder<T, R>(
  count: number,
  make: (i: number) => T,
  run: (task: T) => Promise<R>,
  consume: (result: R, task: T, i: number) => void,
  ahead: number,
): Promise<void> {
  const started = new Map<number, { task: T; result: Promise<R> }>();
  let next = 0;
  const launch = (upTo: number) => {
    for (; next < Math.min(count, upTo); next++) {
      const task = make(next);
      const result = run(task);
      // Rejections are observed when the result is consumed; avoid an unhandled-rejection warning meanwhile.
      result.catch(() => {});
      started.set(next, { task, result });
    }
  };
  try {
    for (let i = 0; i < count; i++) {
      launch(i + Math.max(1, ahead));
      const entry = started.get(i)!;
      consume(await entry.result, entry.task, i);
      started.delete(i);
    }
  } finally {
    await Promise.allSettled([...started.values()].map((e) => e.result));
  }
}
