/** @file The submitter's side of the queue monitor: keeps a run's record (runRecord.ts) in Redis for the dashboard
 * (`gradtrace serve --queue`, monitor.ts). Writes are throttled — at most one per `publishMs` however fast jobs
 * change state, at least one per `heartbeatMs` while the run lasts — and one write is in flight at a time (a write
 * waiting for a reconnection holds back the next ones instead of piling them up). Publishing is best effort: a
 * failed write is dropped (the next one carries the whole record again), never the run's failure. */
import type { Redis } from "ioredis";
import { QUEUE_DEFAULTS, RUN_TTL_S, RUNS_KEY, runKey } from "./names.ts";
import { type QueueRunRecord, runRecordFields } from "./runRecord.ts";

export interface RunPublisher {
  /** The record changed: write it soon (throttled). */
  touch(): void;
  /** Writes it if the last write is older than the heartbeat period (call it periodically). */
  heartbeat(): void;
  /** Stops the timers and writes the record one last time (when anything was written before); resolves when the
   * write is done or failed. */
  finish(): Promise<void>;
}

export interface PublisherOptions {
  readonly publishMs?: number;
  readonly heartbeatMs?: number;
}

/** Publishes `snapshot()` (stamped with the time of each write as `updated`) under run `id`. */
export function runPublisher(
  redis: Redis,
  snapshot: () => Omit<QueueRunRecord, "updated">,
  { publishMs = QUEUE_DEFAULTS.publishMs, heartbeatMs = QUEUE_DEFAULTS.heartbeatMs }: PublisherOptions = {},
): RunPublisher {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | null = null;
  let dirty = false;
  let finished = false;

  const write = (): Promise<void> => {
    if (writing) {
      dirty = true;
      return writing;
    }
    dirty = false;
    last = Date.now();
    const record: QueueRunRecord = { ...snapshot(), updated: last };
    const key = runKey(record.id);
    writing = redis
      .multi()
      .hset(key, runRecordFields(record))
      .expire(key, RUN_TTL_S)
      .zadd(RUNS_KEY, record.updated, record.id)
      .exec()
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        writing = null;
        if (dirty && !finished) touch();
      });
    return writing;
  };

  function touch(): void {
    if (finished) return;
    dirty = true;
    if (timer || writing) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        void write();
      },
      Math.max(0, last + publishMs - Date.now()),
    );
  }

  return {
    touch,
    heartbeat() {
      if (last > 0 && Date.now() - last >= heartbeatMs) touch();
    },
    async finish() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      timer = undefined;
      if (last === 0 && !dirty) return; // nothing was ever published: an empty run leaves no record
      await writing;
      await write();
    },
  };
}
