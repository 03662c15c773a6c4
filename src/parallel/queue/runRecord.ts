/** @file A submitter's run as the queue's monitor sees it: the record a `QueueRun` keeps in Redis (a hash of strings,
 * `gradtrace:run:<id>`) and what a reader derives from it at a given time — how long it has run and whether its
 * submitter still updates it. Pure functions, so the encoding and the staleness rule are tested without Redis. */
import type { QueueStatus } from "./submit.ts";

/** running: the submitter is working on it; done: every job finished; failed: a job failed for good (or the queue
 * was lost), see `error`; abandoned: closed before its jobs finished (interrupted). */
export type QueueRunState = "running" | "done" | "failed" | "abandoned";

const STATES: readonly QueueRunState[] = ["running", "done", "failed", "abandoned"];
const COUNTS = ["total", "queued", "running", "done", "failed"] as const;

/** What a submitter publishes about its run. */
export interface QueueRunRecord extends QueueStatus {
  readonly id: string;
  /** What the run is (`lab spiked --sweep nu=0:0.1:0.4`, `analyze /shared/big.gtrace`). */
  readonly label: string;
  /** The submitting process, `host:pid`. */
  readonly submitter: string;
  /** Unix time, ms. */
  readonly started: number;
  readonly updated: number;
  readonly state: QueueRunState;
  /** The first failure's message (a job's error, or the lost queue), else null. */
  readonly error: string | null;
}

/** A run as the monitor shows it at time `now`. */
export interface QueueRunView extends QueueRunRecord {
  /** Still "running" but not updated for `staleMs`: its submitter died, hangs, or cannot reach Redis. */
  readonly stale: boolean;
  /** Since it started, ms: until now while it runs, until its last update once it ended. */
  readonly elapsedMs: number;
  /** Since its last update, ms. */
  readonly sinceUpdateMs: number;
}

/** Longest error message kept in a record (a run's record stays small). */
export const MAX_ERROR_CHARS = 500;

/** "2 running, 5 queued[, 1 failed]": a run's job counts besides done / total (the CLI's progress bar, the
 * dashboard's queue view). */
export function queueStatusText(s: QueueStatus): string {
  return `${s.running} running, ${s.queued} queued${s.failed ? `, ${s.failed} failed` : ""}`;
}

/** The record as Redis hash fields. */
export function runRecordFields(r: QueueRunRecord): Record<string, string> {
  return {
    label: r.label,
    submitter: r.submitter,
    started: String(r.started),
    updated: String(r.updated),
    state: r.state,
    error: r.error === null ? "" : r.error.slice(0, MAX_ERROR_CHARS),
    ...Object.fromEntries(COUNTS.map((k) => [k, String(r[k])])),
  };
}

const count = (text: string | undefined): number | null => {
  const n = Number(text);
  return text !== undefined && text !== "" && Number.isInteger(n) && n >= 0 ? n : null;
};

/** The record of run `id` from its hash fields; null when the hash is gone (expired) or not a run's record. */
export function parseRunRecord(id: string, fields: Readonly<Record<string, string>>): QueueRunRecord | null {
  const started = count(fields.started);
  const updated = count(fields.updated);
  const state = fields.state as QueueRunState;
  if (started === null || updated === null || !STATES.includes(state)) return null;
  const counts: Partial<Record<(typeof COUNTS)[number], number>> = {};
  for (const k of COUNTS) {
    const n = count(fields[k]);
    if (n === null) return null;
    counts[k] = n;
  }
  return {
    id,
    label: fields.label ?? "",
    submitter: fields.submitter ?? "",
    started,
    updated,
    state,
    error: fields.error ? fields.error : null,
    ...(counts as Record<(typeof COUNTS)[number], number>),
  };
}

/** The run as seen at `now` with staleness threshold `staleMs`. */
export function viewRun(r: QueueRunRecord, now: number, staleMs: number): QueueRunView {
  const sinceUpdateMs = Math.max(0, now - r.updated);
  const running = r.state === "running";
  return {
    ...r,
    stale: running && sinceUpdateMs >= staleMs,
    elapsedMs: Math.max(0, (running ? now : r.updated) - r.started),
    sinceUpdateMs,
  };
}

/** The state a closing run ends in: failed when a job failed for good or the queue was lost (`error`), done when
 * every job finished, abandoned otherwise (closed with jobs still waiting or running, or cancelled). */
export function finalState(status: QueueStatus, error: string | null): QueueRunState {
  if (error !== null) return "failed";
  return status.total > 0 && status.done === status.total ? "done" : "abandoned";
}
