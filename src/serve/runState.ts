/** @file One run's state in the run store (store.ts), shared by its parts: the listing creates it, the results
 * fill it in, the poller marks it dirty, live mode counts its watchers. */
import type { RunListEntry, RunStatus } from "./api-types.ts";
import type { CachedResult, CacheKey, Headline } from "./cache.ts";
import type { FoundRun } from "./discover.ts";

export interface RunState {
  readonly found: FoundRun;
  /** Last fingerprint seen by the poller. */
  seen: string | null;
  status: RunStatus;
  error: string | null;
  version: number;
  headline: Headline | null;
  analyzedAt: string | null;
  /** Fingerprint the current result was computed from. */
  resultKey: CacheKey | null;
  /** The parsed result, while it is kept in memory. */
  cached: CachedResult | null;
  lastUsed: number;
  /** When the trace first changed since the last analysis (null: unchanged), and when it last changed. */
  dirtySince: number | null;
  lastChange: number;
  /** Open event streams on this run. */
  watchers: number;
  /** How long the run's last result took to produce (analysis or assembly, JSON and cache write): results of a
   * run that keeps growing are spaced by a multiple of it (store.ts). */
  lastAnalysisMs: number;
}

export function newRunState(found: FoundRun, seen: string | null): RunState {
  return {
    found,
    seen,
    status: "pending",
    error: null,
    version: 0,
    headline: null,
    analyzedAt: null,
    resultKey: null,
    cached: null,
    lastUsed: 0,
    dirtySince: null,
    lastChange: 0,
    watchers: 0,
    lastAnalysisMs: 0,
  };
}

/** The run as `/api/runs` lists it. */
export function runEntry(s: RunState): RunListEntry {
  const h = s.headline;
  return {
    id: s.found.id,
    path: s.found.relPath,
    status: s.status,
    error: s.error,
    version: s.version,
    format: h?.format ?? null,
    steps: h?.steps ?? null,
    tensors: h?.tensors ?? null,
    kappa: h?.kappa ?? null,
    kappaCI: h?.kappaCI ?? null,
    predictableRank: h?.predictableRank ?? null,
    effectiveRank: h?.effectiveRank ?? null,
    stableRank: h?.stableRank ?? null,
    corruptSteps: h?.corruptSteps ?? null,
    analyzedAt: s.analyzedAt,
  };
}
