/** @file Who runs the block passes' tasks (blockTasks.ts): this thread, one task after another, or a pool of worker
 * threads that open the trace themselves. Either way the pass gets every task's result in task order, so its sums
 * are the same whatever runs them. */
import type { TraceReader } from "../trace/index.ts";
import {
  type GramTask,
  type GramTaskResult,
  runGramTask,
  runSketchTask,
  type SketchTask,
  type SketchTaskResult,
} from "./blockTasks.ts";

export interface TaskRunner {
  /** Threads working on tasks (1: this thread). */
  readonly threads: number;
  gram(task: GramTask): Promise<GramTaskResult>;
  sketch(task: SketchTask): Promise<SketchTaskResult>;
  close(): Promise<void>;
}

/** Runs tasks on this thread, on the caller's reader. */
export function inProcessRunner(reader: TraceReader): TaskRunner {
  return {
    threads: 1,
    gram: async (task) => runGramTask(reader, task),
    sketch: async (task) => runSketchTask(reader, task),
    close: async () => {},
  };
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
