/** @file The results cache: one JSON file per run under `<dir>/.gradtrace-cache/`, keyed by the trace's
 * fingerprint (size + mtime, see discover.ts) and the analysis options, so a directory of hundreds of runs opens
 * instantly and the cache can be deleted at any time (it is rebuilt from the traces). Each run has a small
 * `<id>.meta.json` (the headline numbers `/api/runs` lists, read at start-up) and a full `<id>.json` (the analysis
 * result, read on first use). Files are written atomically (temp file + rename), the full file before the meta
 * file, so a meta file never points at a missing or half-written result.
 *
 * NaN policy: JSON has no NaN, so NaN values of the analysis are stored (and served) as null. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { AnalysisResult } from "../analysis/index.ts";
import { writeFileAtomic } from "../io/index.ts";

/** Bumped whenever the cached result's shape changes, so older files read as stale and are re-analyzed: 2 = the
 * per-window r*(ε) is part of the analysis result (`windows.predictableRank`), no longer a separate cached table;
 * 3 = `stepIndices` are the logged step numbers also when steps were dropped (they were positions then);
 * 4 = problems are objects with a kind (schemaVersion 2) and the headline counts steps excluded as corrupt. */
export const CACHE_VERSION = 4;
export const CACHE_DIR_NAME = ".gradtrace-cache";
/** Cache files are ours to replace; the directory appears on first write. */
const CACHE_WRITE = { force: true, mkdir: true, what: "serve cache" } as const;

/** Whole-model headline numbers of a run (what the overview table shows). */
export interface Headline {
  readonly format: string;
  readonly steps: number;
  readonly tensors: number;
  readonly kappa: Record<string, number | null>;
  readonly kappaCI: Record<string, [number | null, number | null]> | null;
  readonly predictableRank: Record<string, number>;
  readonly effectiveRank: number | null;
  readonly stableRank: number | null;
  /** Steps excluded because their data failed a checksum (the dashboard's corruption badge). */
  readonly corruptSteps: number;
}

export interface CacheKey {
  readonly fingerprint: string;
  readonly optionsKey: string;
}

export interface CachedMeta extends CacheKey {
  readonly cacheVersion: number;
  readonly analyzedAt: string;
  readonly headline: Headline;
}

export interface CachedResult extends CacheKey {
  readonly cacheVersion: number;
  readonly analyzedAt: string;
  /** Step index (as logged) of each step position of the result. */
  readonly stepIndices: number[];
  readonly result: AnalysisResult;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null; // missing or corrupt: the caller re-analyzes
  }
}

function matches(value: unknown, key: CacheKey): boolean {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<CachedMeta>;
  return (
    v.cacheVersion === CACHE_VERSION && v.fingerprint === key.fingerprint && v.optionsKey === key.optionsKey
  );
}

export class ResultCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  private file(id: string, suffix: string): string {
    return path.join(this.dir, `${id}${suffix}`);
  }

  /** The headline of `id` if cached for exactly this key, else null. */
  readMeta(id: string, key: CacheKey): CachedMeta | null {
    const v = readJson(this.file(id, ".meta.json"));
    return matches(v, key) ? (v as CachedMeta) : null;
  }

  readResult(id: string, key: CacheKey): CachedResult | null {
    const v = readJson(this.file(id, ".json"));
    return matches(v, key) ? (v as CachedResult) : null;
  }

  /** Writes a run's full result (a CachedResult, or its JSON text when the caller has it already: a long run's
   * result is tens of MB) and then its meta file. */
  write(id: string, full: CachedResult | string, meta: CachedMeta): void {
    writeFileAtomic(
      this.file(id, ".json"),
      typeof full === "string" ? full : JSON.stringify(full),
      CACHE_WRITE,
    );
    writeFileAtomic(this.file(id, ".meta.json"), JSON.stringify(meta), CACHE_WRITE);
  }
}

const finiteOrNull = (x: number | undefined): number | null =>
  typeof x === "number" && Number.isFinite(x) ? x : null;

export function headlineOf(result: AnalysisResult): Headline {
  const t = result.total;
  const kappa: Record<string, number | null> = {};
  for (const [id, v] of Object.entries(t.kappa)) kappa[id] = finiteOrNull(v);
  let kappaCI: Record<string, [number | null, number | null]> | null = null;
  if (t.kappaCI) {
    kappaCI = {};
    for (const [id, [lo, hi]] of Object.entries(t.kappaCI))
      kappaCI[id] = [finiteOrNull(lo), finiteOrNull(hi)];
  }
  return {
    format: result.trace.format,
    steps: result.trace.steps,
    tensors: result.trace.tensors,
    kappa,
    kappaCI,
    predictableRank: { ...t.predictableRank },
    effectiveRank: finiteOrNull(t.effectiveRank),
    stableRank: finiteOrNull(t.stableRank),
    corruptSteps: result.trace.excludedSteps?.corrupt ?? 0,
  };
}
