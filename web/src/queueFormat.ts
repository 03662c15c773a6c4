/** @file The queue view's texts, as pure functions of the `/api/queue` numbers (tested without a browser):
 * durations, a run's progress and its state, and the sums over the listed runs. */
import type { QueueRunView } from "../../src/serve/api-types.ts";

/** A run's job counts (QueueStatus of src/parallel). */
type Counts = Pick<QueueRunView, "total" | "queued" | "running" | "done" | "failed">;

/** "0 s", "42 s", "3 min 5 s", "2 h 5 min", "1 d 3 h": two units at most, rounded down. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** "12 / 40": jobs done of the run's total. */
export function progressText(s: Counts): string {
  return `${s.done} / ${s.total}`;
}

/** Shares of the bar: done, running and failed jobs as fractions of the total (0 when the run has no jobs). */
export function progressShares(s: Counts): { done: number; running: number; failed: number } {
  const t = s.total > 0 ? s.total : 1;
  return { done: s.done / t, running: s.running / t, failed: s.failed / t };
}

/** The state column: "running", "stale: no update for 2 min 5 s", "done", "failed", "abandoned". */
export function stateText(r: Pick<QueueRunView, "state" | "stale" | "sinceUpdateMs">): string {
  return r.stale ? `stale: no update for ${durationText(r.sinceUpdateMs)}` : r.state;
}

/** Job counts summed over runs. */
export function totals(runs: readonly Counts[]): Counts {
  const t = { total: 0, queued: 0, running: 0, done: 0, failed: 0 };
  for (const r of runs) {
    t.total += r.total;
    t.queued += r.queued;
    t.running += r.running;
    t.done += r.done;
    t.failed += r.failed;
  }
  return t;
}
