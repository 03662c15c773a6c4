/** @file The submitting side of the queue: a `QueueRun` puts a run's jobs on the gradtrace queue in Redis (BullMQ)
 * and hands each job's result back as its promise settles, with the run's queued / running / done counts.
 *
 * - Job ids are a hash of the task, its arguments and the package version, so submitting the same job twice (a
 *   second call, a submitter restarted, a job lost and added again) names the same job: a job waiting or running
 *   is joined, a completed one's result is collected, a failed one is tried afresh. Each job's result is collected
 *   once, from the key the worker stored it under, then deleted with the job: nothing is counted twice.
 * - States come from the queue's event stream, and from a poll every `pollMs` that also notices jobs the queue lost
 *   (Redis restarted without persistence): those are added again.
 * - If Redis stays unreachable for `reconnectTimeoutMs`, every pending job fails with E_QUEUE and a message that
 *   says so; an unreachable Redis at the start, or a refused password, fails at once.
 * - Each run has a random id and a label, and publishes its counts and state to Redis for the dashboard's queue view
 *   (publish.ts; `gradtrace serve --queue`): throttled while it runs, a final write with its end state on close. */
import { createHash, randomBytes } from "node:crypto";
import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { type ErrorCode, GradtraceError } from "../../core/index.ts";
import { assertJson, decodeResult, type JobData, QUEUE_PROTOCOL, splitReason } from "./codec.ts";
import { connectionOptions, isAuthError, parseRedisUrl, type RedisTarget } from "./connection.ts";
import {
  KEY_PREFIX,
  PACKAGE_VERSION,
  processName,
  QUEUE_DEFAULTS,
  QUEUE_NAME,
  RESULT_TTL_S,
  resultKey,
} from "./names.ts";
import { runPublisher } from "./publish.ts";
import { finalState, type QueueRunState } from "./runRecord.ts";

export interface QueueOptions {
  /** `redis://[:password@]HOST:PORT[/db]` (the password may come from GRADTRACE_REDIS_PASSWORD instead). */
  readonly url: string;
  /** What the run is, as the dashboard's queue view lists it (`lab spiked --sweep nu=0:0.1:0.4`, `analyze
   * /shared/big.gtrace`); default: the names of the run's tasks. Shown to whoever can open the dashboard. */
  readonly label?: string;
  /** Attempts per job (default 3). */
  readonly attempts?: number;
  /** How long to wait for a lost connection to Redis before failing the run, ms (default 60 s). */
  readonly reconnectTimeoutMs?: number;
  /** How often the run's job states are checked besides the event stream, ms (default 2 s). */
  readonly pollMs?: number;
  /** Called when a job of the run changes state. */
  readonly onStatus?: (status: QueueStatus) => void;
  /** Notices (jobs added again after a Redis restart, a reconnection). */
  readonly log?: (message: string) => void;
}

/** A run's jobs by state: waiting (or delayed before a retry), running on a worker, done, failed. */
export interface QueueStatus {
  readonly total: number;
  readonly queued: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
}

export interface QueueRun {
  readonly target: RedisTarget;
  /** Random id of this run: its record in Redis is `gradtrace:run:<id>` (names.ts). */
  readonly id: string;
  /** The label the run is published under (QueueOptions.label, else its task names). */
  label(): string;
  /** Connects (E_QUEUE when Redis cannot be reached or refuses the password). */
  ready(): Promise<void>;
  /** Puts a job on the queue (or joins the same job already there); resolves with its result. */
  submit(task: string, args: readonly unknown[]): Promise<unknown>;
  status(): QueueStatus;
  /** Removes the run's jobs that no worker has started and rejects their promises. */
  cancelPending(): Promise<void>;
  close(): Promise<void>;
}

type JobState = "queued" | "running" | "done" | "failed";

interface Entry {
  readonly id: string;
  readonly task: string;
  readonly data: JobData;
  state: JobState;
  busy: boolean;
  readonly waiters: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[];
}

/** `queue` labelled `label` unless its caller named the run already; `part` (a phase of a run that submits several
 * batches) is appended either way: `reproduce low-rank-gradients (calibration)`. */
export function labelledQueue(queue: QueueOptions, label: string, part?: string): QueueOptions {
  const name = queue.label ?? label;
  return { ...queue, label: part ? `${name} (${part})` : name };
}

/** `p`, or nothing after `ms` (closing must not wait for a Redis that is gone). */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** The job id of `task` with `data`: the same job, the same id, on every machine. */
export function jobId(task: string, data: JobData): string {
  return createHash("sha256")
    .update(JSON.stringify([task, data]))
    .digest("hex")
    .slice(0, 40);
}

export function openQueueRun(options: QueueOptions): QueueRun {
  const target = parseRedisUrl(options.url);
  const {
    attempts = QUEUE_DEFAULTS.attempts,
    reconnectTimeoutMs = QUEUE_DEFAULTS.reconnectTimeoutMs,
    pollMs = QUEUE_DEFAULTS.pollMs,
    onStatus,
    log = () => {},
  } = options;
  const where = `the queue at ${target.display}`;
  const connection = connectionOptions(target);
  const redis = new Redis({ ...connection, lazyConnect: true });
  let queue: Queue | null = null;
  let events: QueueEvents | null = null;
  const entries = new Map<string, Entry>();
  let connected = false;
  let downSince: number | null = null;
  let lastError = "";
  let fatal: GradtraceError | null = null;
  let timer: NodeJS.Timeout | null = null;
  let started: Promise<void> | null = null;
  let closed = false;
  const runId = randomBytes(8).toString("hex");
  const startedAt = Date.now();
  // The first failure that ended a job for good (not the cancellations that follow it): the run's published error.
  let firstError: string | null = null;
  let endState: QueueRunState = "running";
  const label = (): string =>
    options.label ?? ([...new Set([...entries.values()].map((e) => e.task))].join(", ") || "queue run");
  const publisher = runPublisher(redis, () => ({
    id: runId,
    label: label(),
    submitter: processName(),
    started: startedAt,
    state: endState,
    error: firstError,
    ...counts(),
  }));

  redis.on("error", (err: Error) => {
    lastError = err.message;
    if (isAuthError(err.message)) {
      failAll(
        new GradtraceError(
          "E_QUEUE",
          `${where} refused the password (${err.message.split(" ")[0]}): check the URL's password or ${"GRADTRACE_REDIS_PASSWORD"}`,
        ),
      );
    }
  });
  redis.on("ready", () => {
    const wasDown = downSince !== null && started !== null;
    connected = true;
    downSince = null;
    if (wasDown) {
      log(`${where}: connection back; checking the run's jobs`);
      void poll();
    }
  });
  redis.on("close", () => {
    if (connected && !closed) log(`${where}: connection lost (${lastError || "closed"}); reconnecting`);
    connected = false;
    downSince ??= Date.now();
  });

  const counts = (): QueueStatus => {
    const c = { total: entries.size, queued: 0, running: 0, done: 0, failed: 0 };
    for (const e of entries.values()) c[e.state]++;
    return c;
  };
  const changed = () => {
    publisher.touch();
    onStatus?.(counts());
  };

  function settle(e: Entry, state: "done" | "failed", value: unknown, cancelled = false): void {
    if (state === "failed" && !cancelled)
      firstError ??= value instanceof Error ? value.message : String(value);
    e.state = state;
    const waiters = e.waiters.splice(0);
    for (const w of waiters) (state === "done" ? w.resolve : w.reject)(value);
    changed();
  }

  let onFatal: (err: GradtraceError) => void = () => {};
  const fatalSignal = new Promise<never>((_, reject) => {
    onFatal = reject;
  });
  fatalSignal.catch(() => {});

  function failAll(err: GradtraceError): void {
    fatal ??= err;
    onFatal(fatal);
    for (const e of entries.values())
      if (e.state !== "done" && e.state !== "failed") settle(e, "failed", fatal);
  }

  const q = (): Queue => {
    if (!queue) throw new GradtraceError("E_QUEUE", `${where}: not connected`);
    return queue;
  };

  async function add(list: Entry[]): Promise<void> {
    const fresh: Entry[] = [];
    await Promise.all(
      list.map(async (e) => {
        const job = await q().getJob(e.id);
        if (!job) return fresh.push(e);
        const state = await job.getState();
        if (state === "failed") {
          // A failure left by an earlier run: this run tries the job afresh.
          await job.remove().catch(() => {});
          fresh.push(e);
        } else if (state === "completed") void collect(e);
        else if (state === "active") e.state = "running";
      }),
    );
    if (fresh.length === 0) return;
    await q().addBulk(
      fresh.map((e) => ({
        name: e.task,
        data: e.data,
        opts: {
          jobId: e.id,
          attempts,
          backoff: { type: "fixed", delay: QUEUE_DEFAULTS.backoffMs },
          removeOnComplete: { age: RESULT_TTL_S },
          removeOnFail: { age: RESULT_TTL_S },
        },
      })),
    );
  }

  /** Collections in flight: closing waits for them, so that the run's last published record counts their jobs. */
  const collecting = new Set<Promise<void>>();
  function collect(e: Entry): Promise<void> {
    const p = collectNow(e);
    collecting.add(p);
    void p.finally(() => collecting.delete(p));
    return p;
  }

  /** Collects a completed job's result (once), then deletes it and the job. */
  async function collectNow(e: Entry): Promise<void> {
    if (e.busy || e.state === "done" || e.state === "failed") return;
    e.busy = true;
    try {
      const payload = await redis.get(resultKey(e.id));
      if (payload === null) {
        // Completed without a stored result (expired, or Redis lost it): compute it again.
        await (await q().getJob(e.id))?.remove().catch(() => {});
        e.state = "queued";
        await add([e]);
        return;
      }
      const value = decodeResult(payload);
      // Deleted before the caller hears of it: a run that closes right after its last result leaves no finished
      // job behind in the queue's counts (when Redis is gone the records expire instead).
      await redis.del(resultKey(e.id)).catch(() => {});
      await q()
        .getJob(e.id)
        .then((job) => job?.remove())
        .catch(() => {});
      settle(e, "done", value);
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      e.busy = false;
    }
  }

  /** Rejects a job's promise if the job failed for good (not when a retry is coming). */
  async function checkFailed(e: Entry, job?: Job | null): Promise<void> {
    if (e.busy || e.state === "done" || e.state === "failed") return;
    job ??= await q().getJob(e.id);
    if (!job || (await job.getState()) !== "failed") return;
    const { code, message } = splitReason(job.failedReason ?? "unknown failure");
    const tries = `${job.attemptsMade} attempt${job.attemptsMade === 1 ? "" : "s"}`;
    settle(
      e,
      "failed",
      new GradtraceError(
        (code as ErrorCode | null) ?? "E_QUEUE",
        `${message} (queue job ${e.task}, failed after ${tries})`,
      ),
    );
  }

  /** Fails the run when Redis has been unreachable for too long (commands wait through reconnections for ever). */
  function watchdog(): void {
    if (!connected && downSince !== null && Date.now() - downSince > reconnectTimeoutMs) {
      failAll(
        new GradtraceError(
          "E_QUEUE",
          `${where} has not answered for ${Math.round(reconnectTimeoutMs / 1000)} s (${lastError || "connection lost"}): the run is abandoned — run it again once Redis is back`,
        ),
      );
    }
  }

  let polling = false;
  async function poll(): Promise<void> {
    if (polling || closed || !queue || !connected) return;
    polling = true;
    try {
      const open = [...entries.values()].filter(
        (e) => !e.busy && (e.state === "queued" || e.state === "running"),
      );
      const lost: Entry[] = [];
      await Promise.all(
        open.map(async (e) => {
          const state = await q().getJobState(e.id);
          if (state === "completed") await collect(e);
          else if (state === "failed") await checkFailed(e);
          else if (state === "unknown") lost.push(e);
          else {
            const next = state === "active" ? "running" : "queued";
            if (e.state !== next) {
              e.state = next;
              changed();
            }
          }
        }),
      );
      if (lost.length > 0) {
        log(
          `${where}: ${lost.length} job(s) of this run are missing (Redis restarted without its data?); adding them again`,
        );
        for (const e of lost) e.state = "queued";
        await add(lost);
      }
    } catch (err) {
      lastError = (err as Error).message;
    } finally {
      polling = false;
    }
  }

  const ready = (): Promise<void> => {
    started ??= (async () => {
      const limit = Math.min(reconnectTimeoutMs, 15_000);
      let timeout: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          (async () => {
            await redis.connect();
            await redis.ping();
          })(),
          new Promise<never>((_, reject) => {
            timeout = setTimeout(
              () =>
                reject(
                  new GradtraceError(
                    "E_QUEUE",
                    `cannot reach ${where} (${lastError || "no answer"} after ${limit / 1000} s)`,
                  ),
                ),
              limit,
            );
          }),
        ]);
      } catch (err) {
        redis.disconnect();
        if (fatal) throw fatal;
        if (err instanceof GradtraceError) throw err;
        throw new GradtraceError("E_QUEUE", `cannot reach ${where}: ${(err as Error).message}`);
      } finally {
        clearTimeout(timeout);
      }
      // From here on, a lost connection is bounded by the watchdog (commands themselves wait through reconnections).
      timer = setInterval(() => {
        watchdog();
        publisher.heartbeat();
        void poll();
      }, pollMs);
      queue = new Queue(QUEUE_NAME, { connection, prefix: KEY_PREFIX });
      queue.on("error", (err) => {
        lastError = err.message;
      });
      events = new QueueEvents(QUEUE_NAME, { connection, prefix: KEY_PREFIX });
      events.on("error", (err) => {
        lastError = err.message;
      });
      await Promise.race([events.waitUntilReady(), fatalSignal]);
      events.on("active", ({ jobId: id }) => {
        const e = entries.get(id);
        if (e && e.state === "queued") {
          e.state = "running";
          changed();
        }
      });
      events.on("waiting", ({ jobId: id }) => {
        const e = entries.get(id);
        if (e && e.state === "running") {
          e.state = "queued"; // back in the queue: a retry, or a stalled job put back
          changed();
        }
      });
      events.on("completed", ({ jobId: id }) => {
        const e = entries.get(id);
        if (e) void collect(e);
      });
      events.on("failed", ({ jobId: id }) => {
        const e = entries.get(id);
        if (e) void checkFailed(e).catch(() => {});
      });
    })();
    return started;
  };

  let batch: Entry[] = [];
  const flush = () => {
    const list = batch;
    batch = [];
    add(list).catch((err: Error) => {
      for (const e of list)
        if (e.state === "queued")
          settle(
            e,
            "failed",
            new GradtraceError("E_QUEUE", `${where}: could not add job ${e.task}: ${err.message}`),
          );
    });
  };

  return {
    target,
    id: runId,
    label,
    ready,
    async submit(task, args) {
      args.forEach((a, i) => {
        assertJson(a, `${task} argument ${i + 1}`);
      });
      await ready();
      if (fatal) throw fatal;
      if (closed) throw new GradtraceError("E_QUEUE", `${where}: the run is closed`);
      const data: JobData = { protocol: QUEUE_PROTOCOL, version: PACKAGE_VERSION, args: [...args] };
      const id = jobId(task, data);
      let e = entries.get(id);
      if (!e || e.state === "done") {
        // A job already collected (the same parameters submitted again after it finished) runs again: results are
        // not kept once handed over, so that a long run's memory does not grow with its finished jobs.
        e ??= { id, task, data, state: "queued", busy: false, waiters: [] };
        e.state = "queued";
        entries.set(id, e);
        if (batch.length === 0) queueMicrotask(flush);
        batch.push(e);
        changed();
      }
      const entry = e;
      return new Promise((resolve, reject) => {
        if (entry.state === "failed") reject(fatal ?? new GradtraceError("E_QUEUE", `job ${task} failed`));
        else entry.waiters.push({ resolve, reject });
      });
    },
    status: counts,
    async cancelPending() {
      const cancelled = new GradtraceError("E_QUEUE", "cancelled: another job of the run failed");
      const waiting = [...entries.values()].filter((e) => e.state === "queued");
      for (const e of waiting) settle(e, "failed", cancelled, true);
      // Removing them needs Redis; with Redis gone they simply expire with the queue's data.
      if (connected && queue) {
        const remove = Promise.all(waiting.map(async (e) => (await queue!.getJob(e.id))?.remove())).catch(
          () => {},
        );
        await bounded(remove, 5000);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      // A job whose result is being collected as the run closes (its caller stopped on another job's failure) still
      // settles, and counts in the final record.
      if (connected) await bounded(Promise.all(collecting), 2000);
      endState = finalState(counts(), fatal?.message ?? firstError);
      // The last word on the run for the dashboard; with Redis gone it stays "running" and turns stale there.
      const published = publisher.finish();
      if (connected) await bounded(published, 2000);
      await bounded(
        Promise.all([events?.close(), queue?.close()]).catch(() => {}),
        2000,
      );
      events?.disconnect().catch(() => {});
      queue?.disconnect().catch(() => {});
      redis.disconnect();
    },
  };
}
