/** @file Names and defaults shared by the queue's submitters and workers. */
import * as fs from "node:fs";

/** The BullMQ queue (and Redis key prefix) gradtrace uses. */
export const QUEUE_NAME = "jobs";
export const KEY_PREFIX = "gradtrace";

/** Redis key of a job's encoded result; results expire after RESULT_TTL_S if their submitter never collects them. */
export function resultKey(jobId: string): string {
  return `${KEY_PREFIX}:result:${jobId}`;
}
export const RESULT_TTL_S = 24 * 3600;

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
});

/** The version of this package, which submitters put on their jobs and workers check. */
export const PACKAGE_VERSION: string = (
  JSON.parse(fs.readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
