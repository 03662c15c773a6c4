/** @file Names and defaults shared by the queue's submitters, workers and monitor. */
import * as fs from "node:fs";
import * as os from "node:os";

/** The BullMQ queue (and Redis key prefix) gradtrace uses. */
export const QUEUE_NAME = "jobs";
export const KEY_PREFIX = "gradtrace";

/** Redis key of a job's encoded result; results expire after RESULT_TTL_S if their submitter never collects them. */
export function resultKey(jobId: string): string {
  return `${KEY_PREFIX}:result:${jobId}`;
}
export const RESULT_TTL_S = 24 * 3600;

/** Redis hash of a submitter's run (its label, submitter, job counts and state; runRecord.ts), refreshed while the
 * run lasts and kept RUN_TTL_S after its last update, so the dashboard can show runs that finished lately. */
export function runKey(runId: string): string {
  return `${KEY_PREFIX}:run:${runId}`;
}
/** Sorted set of run ids, scored by their last update (ms): the index the monitor reads runs from. */
export const RUNS_KEY = `${KEY_PREFIX}:runs`;
export const RUN_TTL_S = RESULT_TTL_S;

/** How a process names itself on the queue (workers and submitters alike): `host:pid`. */
export function processName(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** Defaults of the failure handling (docs/distributed.md, "Failures"). */
export const QUEUE_DEFAULTS = Object.freeze({
  /** Attempts per job (a worker that dies mid-job does not count one; a failed attempt does). */
  attempts: 3,
  /** Wait before a failed job is tried again, ms. */
  backoffMs: 1000,
  /** A worker holds a job for this long without renewing its lock before the job counts as stalled (renewed every
   * half of it while the job runs), ms. */
  lockDurationMs: 30_000,
  /** How often workers look for stalled jobs, ms. */
  stalledIntervalMs: 30_000,
  /** Times a job may stall (its worker died or froze) before it fails. */
  maxStalledCount: 2,
  /** How long a submitter waits for a lost Redis connection to come back before it fails the run, ms. */
  reconnectTimeoutMs: 60_000,
  /** How often a submitter checks its jobs' states besides listening to the queue's events, ms. */
  pollMs: 2000,
  /** A submitter writes its run's record at most this often while jobs change state, ms. */
  publishMs: 500,
  /** … and at least this often while the run lasts (a heartbeat: the monitor can tell a live submitter from a dead
   * one even while no job changes state), ms. */
  heartbeatMs: 5000,
  /** A running run whose record has not been updated for this long is shown as stale (its submitter died or lost
   * Redis), ms: several heartbeats, so a busy submitter is not flagged. */
  staleMs: 30_000,
});

/** The version of this package, which submitters put on their jobs and workers check. */
export const PACKAGE_VERSION: string = (
  JSON.parse(fs.readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
