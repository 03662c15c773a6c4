/** @file The reading side of the queue monitor (`gradtrace serve --queue`, the dashboard's queue view): the runs
 * submitters publish (publish.ts, runRecord.ts), the BullMQ job counts of the gradtrace queue, and the workers
 * connected to it (BullMQ names each worker's Redis connection after the worker: `host:pid`).
 *
 * A monitor keeps one connection and reconnects by itself; while Redis cannot be reached, `overview()` fails at once
 * (or after `timeoutMs` at most) with E_QUEUE naming the queue by its display form, never its password — the
 * server that asks keeps serving everything else. Records whose run expired are pruned from the index as they are
 * read. */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { GradtraceError } from "../../core/index.ts";
import { connectionOptions, isAuthError, parseRedisUrl, type RedisTarget } from "./connection.ts";
import { KEY_PREFIX, QUEUE_DEFAULTS, QUEUE_NAME, RUN_TTL_S, RUNS_KEY, runKey } from "./names.ts";
import { parseRunRecord, type QueueRunView, viewRun } from "./runRecord.ts";

/** The gradtrace queue's jobs by BullMQ state, all runs together (collected jobs are deleted by their submitter, so
 * `completed` counts the ones not yet collected). */
export interface QueueJobCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
}

export interface QueueWorkerInfo {
  /** `host:pid`, as the worker names itself in its log. */
  readonly name: string;
  /** Seconds its (longest-lived) connection to Redis has been open. */
  readonly connectedS: number;
}

export interface QueueOverview {
  /** The queue, `redis://HOST:PORT[/db]` (no credentials). */
  readonly queue: string;
  /** When this overview was read, Unix ms. */
  readonly checkedAt: number;
  /** A running run not updated for this long is `stale`, ms. */
  readonly staleMs: number;
  /** The runs published in the last 24 hours, most recently updated first (at most `maxRuns`). */
  readonly runs: QueueRunView[];
  readonly jobs: QueueJobCounts;
  readonly workers: QueueWorkerInfo[];
}

export interface QueueMonitorOptions {
  /** Staleness threshold (default QUEUE_DEFAULTS.staleMs). */
  readonly staleMs?: number;
  /** Most runs listed [100]. */
  readonly maxRuns?: number;
  /** Longest wait for Redis in one `overview()`, ms [2000]. */
  readonly timeoutMs?: number;
  /** The clock runs are judged by (tests move it). */
  readonly now?: () => number;
}

export interface QueueMonitor {
  readonly target: RedisTarget;
  /** E_QUEUE when Redis cannot be reached or refuses the password. */
  overview(): Promise<QueueOverview>;
  close(): Promise<void>;
}

export const MAX_RUNS_SHOWN = 100;

export function openQueueMonitor(
  url: string,
  {
    staleMs = QUEUE_DEFAULTS.staleMs,
    maxRuns = MAX_RUNS_SHOWN,
    timeoutMs = 2000,
    now = Date.now,
  }: QueueMonitorOptions = {},
): QueueMonitor {
  const target = parseRedisUrl(url);
  const where = `the queue at ${target.display}`;
  // No offline queue: a command while Redis is away fails at once instead of waiting for the reconnection.
  const client = new Redis({
    ...connectionOptions(target),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  let lastError = "";
  client.on("error", (err: Error) => {
    lastError = err.message;
  });
  let queue: Queue | null = null;
  let closed = false;

  const failure = (message: string) =>
    new GradtraceError(
      "E_QUEUE",
      isAuthError(message)
        ? `${where} refused the password (${message.split(" ")[0]})`
        : `cannot reach ${where} (${message || "no answer"})`,
    );

  /** Resolves once connected: the first call waits up to `timeoutMs` for the connection; later ones, while the
   * client is reconnecting by itself, fail at once with the last connection error. */
  let waited = false;
  const connected = (): Promise<void> => {
    if (client.status === "ready") return Promise.resolve();
    if (client.status === "wait") client.connect().catch(() => {});
    if (waited) return Promise.reject(failure(lastError));
    waited = true;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off("ready", onReady);
        reject(failure(lastError));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once("ready", onReady);
    });
  };

  async function read(): Promise<QueueOverview> {
    if (!queue) {
      queue = new Queue(QUEUE_NAME, { connection: client, prefix: KEY_PREFIX });
      queue.on("error", (err) => {
        lastError = err.message;
      });
    }
    const checkedAt = now();
    await client.zremrangebyscore(RUNS_KEY, "-inf", checkedAt - RUN_TTL_S * 1000);
    const ids = await client.zrevrange(RUNS_KEY, 0, maxRuns - 1);
    const hashes =
      ids.length > 0 ? ((await client.pipeline(ids.map((id) => ["hgetall", runKey(id)])).exec()) ?? []) : [];
    const runs: QueueRunView[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const [err, fields] = hashes[i] ?? [null, null];
      const record = err ? null : parseRunRecord(id, (fields ?? {}) as Record<string, string>);
      if (record) runs.push(viewRun(record, checkedAt, staleMs));
      else if (!err) gone.push(id); // expired (or not a run's record): drop it from the index
    });
    if (gone.length > 0) await client.zrem(RUNS_KEY, ...gone);
    const [counts, clients] = await Promise.all([
      queue.getJobCounts("waiting", "prioritized", "active", "delayed", "completed", "failed"),
      queue.getWorkers(),
    ]);
    return {
      queue: target.display,
      checkedAt,
      staleMs,
      runs,
      jobs: {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      },
      workers: workersOf(clients),
    };
  }

  return {
    target,
    async overview() {
      if (closed) throw new GradtraceError("E_QUEUE", `${where}: the monitor is closed`);
      await connected();
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([
          read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(lastError || `no answer within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } catch (err) {
        // A BullMQ queue whose start-up was cut by the lost connection stays broken: the next call makes a new one.
        const broken = queue;
        queue = null;
        void broken?.close().catch(() => {});
        if (err instanceof GradtraceError) throw err;
        throw failure((err as Error).message);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      closed = true;
      // The queue shares the client: closing it leaves the connection to us.
      await queue?.close().catch(() => {});
      client.disconnect();
    },
  };
}

/** One overview from a fresh connection (closed before returning). */
export async function readQueueOverview(
  url: string,
  options: QueueMonitorOptions = {},
): Promise<QueueOverview> {
  const monitor = openQueueMonitor(url, options);
  try {
    return await monitor.overview();
  } finally {
    await monitor.close();
  }
}

/** Workers from BullMQ's client list (`getWorkers()`: one entry per named connection, `rawname` =
 * `<prefix>:<queue>:w:<worker name>`, `age` in seconds), one per worker name, sorted by name. */
export function workersOf(clients: readonly Record<string, string>[]): QueueWorkerInfo[] {
  const byName = new Map<string, number>();
  for (const c of clients) {
    const raw = c.rawname ?? "";
    const at = raw.indexOf(":w:");
    const name = at >= 0 ? raw.slice(at + 3) : raw;
    if (name === "") continue;
    const age = Number(c.age);
    byName.set(name, Math.max(byName.get(name) ?? 0, Number.isFinite(age) ? age : 0));
  }
  return [...byName]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, connectedS]) => ({ name, connectedS }));
}
