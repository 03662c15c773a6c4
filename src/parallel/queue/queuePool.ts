/** @file The queue behind the worker pool's interface: `createQueuePool` runs a task module's exported functions as
 * jobs on the gradtrace queue (any number of `gradtrace worker` processes, on any machine) with the same calls as
 * the local pool, so code that runs independent tasks on `createPool` runs them on the queue by choosing the pool:
 * `options.queue ? createQueuePool(…) : createPool(…)`. Arguments must be JSON (see codec.ts); results come back
 * exactly as the task returned them. */
import { GradtraceError } from "../../core/index.ts";
import type { TaskName, TaskResult, WorkerPool } from "../pool.ts";
import { queueTaskName } from "./registry.ts";
import { openQueueRun, type QueueOptions } from "./submit.ts";

export interface QueuePoolOptions {
  /** The task module (see `siblingModule`); its functions must be in the workers' registry. */
  readonly module: URL;
  readonly queue: QueueOptions;
}

/** Jobs a queue pool lets be outstanding when a caller sizes its work by `threads`: the queue has no fixed number
 * of workers, so callers that keep `threads` tasks in flight keep this many jobs queued. */
export const QUEUE_POOL_THREADS = 256;

export function createQueuePool<M>({ module, queue }: QueuePoolOptions): WorkerPool<M> {
  const run = openQueueRun(queue);
  let closed = false;
  return {
    threads: QUEUE_POOL_THREADS,
    run<K extends TaskName<M>>(fn: K, args: Readonly<unknown[]>): Promise<TaskResult<M, K>> {
      if (closed)
        return Promise.reject(new GradtraceError("E_ARG", `queue pool for ${module.href} is closed`));
      return run.submit(queueTaskName(module, fn), args) as Promise<TaskResult<M, K>>;
    },
    ready: () => run.ready(),
    cancelPending: () => {
      void run.cancelPending();
    },
    async close() {
      closed = true;
      await run.cancelPending();
      await run.close();
    },
  } as WorkerPool<M>;
}
