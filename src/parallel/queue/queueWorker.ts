/** @file A queue worker (`gradtrace worker`): takes jobs from the gradtrace queue in Redis (BullMQ) and runs each on
 * this machine's worker pool (src/parallel: `concurrency` threads, so the main thread stays free to renew the jobs'
 * locks however long a task computes). A job names a task of the fixed registry this worker was given and carries
 * JSON arguments; unknown tasks, jobs of another package version and arguments the task's validator refuses fail
 * at once. A task's result is stored under the job's id (`gradtrace:result:<id>`, overwritten identically if the
 * job runs again), so the submitter collects exactly one result per job.
 *
 * Failures: a GradtraceError about the data or arguments (FINAL_CODES) fails the job without retry; anything else
 * (a trace this worker cannot read, a crash) is retried up to the job's attempts, on any worker. A worker killed
 * mid-job stops renewing the job's lock; after `lockDurationMs` another worker's stalled-job check puts the job back
 * in the queue (at most `maxStalledCount` times). */
import * as os from "node:os";
import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { GradtraceError } from "../../core/index.ts";
import { createTaskPool } from "../pool.ts";
import { encodeResult, FINAL_CODES, type JobData, QUEUE_PROTOCOL } from "./codec.ts";
import { connectionOptions, type RedisTarget } from "./connection.ts";
import {
  KEY_PREFIX,
  PACKAGE_VERSION,
  processName,
  QUEUE_DEFAULTS,
  QUEUE_NAME,
  RESULT_TTL_S,
  resultKey,
} from "./names.ts";
import type { QueueTask } from "./registry.ts";

export interface QueueWorkerOptions {
  readonly redis: RedisTarget;
  /** The tasks this worker runs. */
  readonly tasks: readonly QueueTask[];
  /** Jobs run at once, each on its own thread [1]. */
  readonly concurrency?: number;
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly maxStalledCount?: number;
  /** One line per job started, finished or failed, and per connection change. */
  readonly log?: (message: string) => void;
}

export interface RunningQueueWorker {
  /** `host:pid`, as the worker names itself in messages. */
  readonly id: string;
  /** Resolves once connected to Redis and listening for jobs. */
  readonly ready: Promise<void>;
  /** Stops taking jobs; waits for the running ones to finish unless `force`. */
  close(force?: boolean): Promise<void>;
}

export function startQueueWorker({
  redis,
  tasks,
  concurrency = 1,
  lockDurationMs = QUEUE_DEFAULTS.lockDurationMs,
  stalledIntervalMs = QUEUE_DEFAULTS.stalledIntervalMs,
  maxStalledCount = QUEUE_DEFAULTS.maxStalledCount,
  log = () => {},
}: QueueWorkerOptions): RunningQueueWorker {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new GradtraceError("E_ARG", `--concurrency ${concurrency}: expected an integer ≥ 1`);
  if (tasks.length === 0) throw new GradtraceError("E_ARG", "queue worker: no tasks to run");
  const id = processName();
  const registry = new Map(tasks.map((t) => [t.name, t]));
  const pool = createTaskPool({ threads: concurrency, execArgvFrom: tasks[0].module });
  const results = new Redis({ ...connectionOptions(redis), lazyConnect: true });
  results.on("error", () => {}); // reconnection is automatic; the worker reports it through BullMQ's events

  const processJob = async (job: { id?: string; name: string; data: unknown; attemptsMade: number }) => {
    const where = `task ${job.name} (job ${job.id}) on worker ${id}`;
    try {
      const task = registry.get(job.name);
      if (!task) throw new GradtraceError("E_ARG", `${where}: this worker has no such task`);
      const data = job.data as Partial<JobData>;
      if (data?.protocol !== QUEUE_PROTOCOL || !Array.isArray(data.args)) {
        throw new GradtraceError("E_ARG", `${where}: not a gradtrace job of protocol ${QUEUE_PROTOCOL}`);
      }
      if (data.version !== PACKAGE_VERSION) {
        throw new GradtraceError(
          "E_UNSUPPORTED",
          `${where}: submitted by gradtrace ${data.version}, this worker runs ${PACKAGE_VERSION} (run one version on every machine)`,
        );
      }
      task.validate(data.args);
      log(`${job.name} ${job.id}: started (attempt ${job.attemptsMade + 1})`);
      const started = performance.now();
      const value = await pool.run(task.module, task.fn, data.args);
      const payload = encodeResult(value);
      await results.set(resultKey(job.id!), payload, "EX", RESULT_TTL_S);
      log(`${job.name} ${job.id}: done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
      return { bytes: payload.length, worker: id };
    } catch (err) {
      const code = err instanceof GradtraceError ? err.code : null;
      const message = err instanceof Error ? err.message : String(err);
      // The worker is named in every failure: a missing input on one machine is its storage, not the data.
      const hint =
        code === "E_NOT_FOUND"
          ? ` on worker ${id} (every worker must see the inputs at the same path: is the shared storage mounted on ${os.hostname()}?)`
          : ` on worker ${id}`;
      const reason = code ? `${code}: ${message}${hint}` : `${where}: ${message}`;
      log(`${job.name} ${job.id}: failed: ${reason}`);
      if (code !== null && FINAL_CODES.has(code)) throw new UnrecoverableError(reason);
      throw new Error(reason);
    }
  };

  const worker = new Worker(QUEUE_NAME, processJob, {
    connection: connectionOptions(redis),
    prefix: KEY_PREFIX,
    concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: stalledIntervalMs,
    maxStalledCount,
    name: id,
    autorun: false,
  });
  // Connection errors repeat at every reconnection attempt: say each new one once.
  let lastError = "";
  worker.on("error", (err) => {
    if (err.message !== lastError) log(`queue ${redis.display}: ${err.message} (reconnecting)`);
    lastError = err.message;
  });
  worker.on("resumed", () => {
    lastError = "";
  });
  worker.on("stalled", (jobId) =>
    log(`job ${jobId}: stalled (its worker stopped renewing the lock); queued again`),
  );
  const ready = (async () => {
    await results.connect();
    await worker.waitUntilReady();
    void worker.run();
    log(`worker ${id}: taking jobs from ${redis.display} (${concurrency} at a time)`);
  })();
  let closing: Promise<void> | null = null;
  return {
    id,
    ready,
    close(force = false) {
      closing ??= (async () => {
        // A graceful close waits for the running jobs; with Redis gone it could wait for ever, so it is bounded.
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, force ? 2000 : lockDurationMs + 5000);
        });
        await Promise.race([worker.close(force).catch(() => {}), limit]);
        clearTimeout(timer);
        await pool.close();
        results.disconnect();
        await worker.disconnect().catch(() => {});
      })();
      return closing;
    },
  };
}
