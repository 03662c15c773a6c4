/** @file The one worker-pool mechanism of gradtrace (the dashboard's analysis worker, the spiked-lab sweeps, and
 * any later block pass or queue), a small typed facade over tinypool's worker threads: a pool runs the exported
 * functions of one task module, with structured-cloneable arguments (transferables allowed both ways), and a
 * failed task rejects with a GradtraceError that keeps its code.
 *
 * Workers run the same kind of file the caller is: from a compiled package the caller is `….js` and so is its
 * task module; from the sources (tests, benches) both are `….ts` and the worker gets tsx's loader through execArgv
 * (`tsxWorker.mjs`: on Node 20, `--import tsx` registers nothing in a worker thread, so that preload registers it). */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Tinypool } from "tinypool";
import { GradtraceError } from "../core/index.ts";
import type { TaskEnvelope, TaskRequest } from "./protocol.ts";
import type { TransferItem, Transferred } from "./transfer.ts";

/** The exported function names of a task module `M` (`typeof import("./task.ts")`). */
export type TaskName<M> = {
  [K in keyof M]: M[K] extends (...args: never[]) => unknown ? K : never;
}[keyof M] &
  string;

type TaskFn<M, K extends keyof M> = M[K] extends (...args: infer A) => infer R
  ? { args: A; result: R }
  : never;

/** What a caller receives from task `K`: its awaited return value, unwrapped from `transferResult`. */
export type TaskResult<M, K extends keyof M> =
  Awaited<TaskFn<M, K>["result"]> extends Transferred<infer T> ? T : Awaited<TaskFn<M, K>["result"]>;

export interface PoolOptions {
  /** The task module (see `siblingModule`). */
  readonly module: URL;
  /** Worker threads [1]. */
  readonly threads?: number;
}

export interface RunOptions {
  /** Aborting rejects the task (an AbortError) and stops the worker running it. */
  readonly signal?: AbortSignal;
  /** Arguments moved to the worker instead of copied. */
  readonly transfer?: readonly TransferItem[];
}

export interface WorkerPool<M> {
  readonly threads: number;
  /** Runs `fn(...args)` of the task module in a worker. */
  run<K extends TaskName<M>>(
    fn: K,
    args: Readonly<TaskFn<M, K>["args"]>,
    options?: RunOptions,
  ): Promise<TaskResult<M, K>>;
  /** Loads the task module in a worker; rejects if a worker cannot start or the module cannot load. */
  ready(): Promise<void>;
  /** Rejects the tasks still queued (not those running). */
  cancelPending(): void;
  /** Stops every worker; running tasks reject. */
  close(): Promise<void>;
}

/** The module `name` beside the module at `callerUrl`, with the caller's own extension (`.ts` or `.js`). */
export function siblingModule(callerUrl: string, name: string): URL {
  const ext = path.extname(fileURLToPath(callerUrl));
  return new URL(`./${name}${ext}`, callerUrl);
}

const WORKER_ENTRY = siblingModule(import.meta.url, "worker");

/** execArgv for workers running `entry`: tsx's loader for TypeScript, the inherited flags otherwise. */
function execArgvFor(entry: URL): string[] | undefined {
  if (!entry.pathname.endsWith(".ts")) return undefined;
  return ["--import", new URL("./tsxWorker.mjs", import.meta.url).href];
}

/** The error a failed task's envelope stands for. */
function rebuildError(e: Extract<TaskEnvelope, { ok: false }>): Error {
  if (e.code !== null) return new GradtraceError(e.code, e.message);
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** A pool of `threads` workers that run the exported functions of any task module named per call (the queue worker
 * runs every registered task on one such pool); workers start on first use. */
export interface TaskPool {
  readonly threads: number;
  /** Runs `fn(...args)` of the module at `module` in a worker (`fn` null: only load the module). */
  run(module: URL, fn: string | null, args: readonly unknown[], options?: RunOptions): Promise<unknown>;
  cancelPending(): void;
  close(): Promise<void>;
}

export function createTaskPool({
  threads = 1,
  execArgvFrom,
}: {
  threads?: number;
  execArgvFrom: URL;
}): TaskPool {
  if (!Number.isInteger(threads) || threads < 1)
    throw new GradtraceError("E_ARG", `createPool: threads must be a positive integer, got ${threads}`);
  let pool: Tinypool | null = null;
  let closed = false;
  const tinypool = (): Tinypool => {
    if (closed) throw new GradtraceError("E_ARG", `worker pool for ${execArgvFrom.href} is closed`);
    pool ??= new Tinypool({
      filename: WORKER_ENTRY.href,
      name: "runTask",
      minThreads: threads,
      maxThreads: threads,
      execArgv: execArgvFor(execArgvFrom) ?? execArgvFor(WORKER_ENTRY),
    });
    return pool;
  };
  return {
    threads,
    async run(module, fn, args, options = {}) {
      const req: TaskRequest = { module: module.href, fn, args };
      const envelope = (await tinypool().run(req, {
        signal: options.signal ?? null,
        transferList: options.transfer ? [...options.transfer] : undefined,
      })) as TaskEnvelope;
      if (!envelope.ok) throw rebuildError(envelope);
      return envelope.value;
    },
    cancelPending: () => pool?.cancelPendingTasks(),
    async close() {
      closed = true;
      const p = pool;
      pool = null;
      if (p) await p.destroy();
    },
  };
}

/** A pool of `threads` workers running the exported functions of `module`; workers start on first use. */
export function createPool<M>({ module, threads = 1 }: PoolOptions): WorkerPool<M> {
  const pool = createTaskPool({ threads, execArgvFrom: module });
  return {
    threads,
    run: (fn, args, options) => pool.run(module, fn, args, options) as Promise<never>,
    ready: async () => {
      await pool.run(module, null, []);
    },
    cancelPending: () => pool.cancelPending(),
    close: () => pool.close(),
  };
}
