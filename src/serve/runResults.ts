/** @file The run store's results: a run is analyzed by the engine into the cache (one JSON file per run, the
 * result served exactly as cached), read back from memory or the cache file, and at most `memoryResults` parsed
 * results of unwatched runs stay in memory. A run that fails keeps its previous result, if any. */

import { CACHE_VERSION, type CachedResult, type CacheKey, headlineOf, type ResultCache } from "./cache.ts";
import { fingerprint } from "./discover.ts";
import type { StreamingCheckpoint } from "../analysis/index.ts";
import { type AnalysisEngine, type ServeAnalyzeOptions, traceEngine } from "./engine.ts";
import type { RunState } from "./runState.ts";

export interface RunResultsOptions {
  readonly cache: ResultCache;
  readonly engine: AnalysisEngine;
  readonly analyzeOptions: ServeAnalyzeOptions;
  readonly memoryResults: number;
  /** Every run's state (memory is bounded across runs). */
  readonly runs: () => Iterable<RunState>;
  /** Text shown to clients without the served directory's absolute path. */
  readonly redact: (text: string) => string;
  /** A run's listed state changed (status, version, error). */
  readonly changed: (s: RunState) => void;
  readonly log: (message: string) => void;
}

export class RunResults {
  /** The analysis options as part of the cache key. */
  readonly optionsKey: string;

  constructor(private readonly o: RunResultsOptions) {
    const options = o.analyzeOptions;
    this.optionsKey = JSON.stringify(options, Object.keys(options).sort());
  }

  /** Takes the headline of a cached result still valid for the run's trace; false when there is none. */
  restore(s: RunState): boolean {
    const key: CacheKey | null =
      s.seen === null ? null : { fingerprint: s.seen, optionsKey: this.optionsKey };
    const meta = key ? this.o.cache.readMeta(s.found.id, key) : null;
    if (!meta || !key) return false;
    s.status = "ready";
    s.version = 1;
    s.headline = meta.headline;
    s.analyzedAt = meta.analyzedAt;
    s.resultKey = key;
    return true;
  }

  /** The run's current result from memory or the cache file; null when it has to be analyzed (again). */
  current(s: RunState): CachedResult | null {
    if (s.cached) {
      s.lastUsed = Date.now();
      return s.cached;
    }
    if (!s.resultKey) return null;
    const full = this.o.cache.readResult(s.found.id, s.resultKey);
    if (full) {
      this.remember(s, full);
      return full;
    }
    // The meta file outlived its result (cache deleted under us): analyze again.
    s.resultKey = null;
    if (s.status === "ready") s.status = "pending";
    return null;
  }

  /** Analyzes the run now: engine → cache → memory; failures are recorded in its state, never thrown. With
   * `fromLive` (a watched run on the incremental path), the live state's checkpoint, when it has one, is assembled
   * by the engine instead of a pass over the trace. */
  async analyze(s: RunState, fromLive?: () => Promise<StreamingCheckpoint | null>): Promise<void> {
    const id = s.found.id;
    const fp = fingerprint(s.found.absPath, s.found.isDirectory);
    s.seen = fp;
    s.dirtySince = null;
    if (fp === null) {
      this.fail(s, `trace ${s.found.relPath} is gone`);
      return;
    }
    if (s.status === "pending") {
      s.status = "analyzing";
      this.o.changed(s);
    }
    try {
      // The fingerprint above was taken first: a result covering more steps than it is re-checked, never stale.
      const checkpoint = fromLive ? await fromLive() : null;
      // Timed from here: waiting for the live state (e.g. its first catch-up) is not this result's cost.
      const started = Date.now();
      const engine = this.o.engine;
      const { result, stepIndices } = checkpoint
        ? await (engine.assemble ?? traceEngine.assemble)(s.found.absPath, checkpoint)
        : await engine.analyze(s.found.absPath, this.o.analyzeOptions);
      const analyzedAt = new Date().toISOString();
      // The served result is exactly what the cache holds (NaN → null, through the very text written), with the
      // served directory's path left out of its problems.
      const text = JSON.stringify({
        cacheVersion: CACHE_VERSION,
        fingerprint: fp,
        optionsKey: this.optionsKey,
        analyzedAt,
        stepIndices,
        result: {
          ...result,
          trace: {
            ...result.trace,
            problems: result.trace.problems.map((p) => ({
              ...p,
              message: this.o.redact(p.message),
              ...(p.file !== undefined ? { file: this.o.redact(p.file) } : {}),
            })),
          },
        },
      });
      const full = JSON.parse(text) as CachedResult;
      const headline = headlineOf(full.result);
      try {
        this.o.cache.write(id, text, {
          cacheVersion: CACHE_VERSION,
          fingerprint: fp,
          optionsKey: this.optionsKey,
          analyzedAt,
          headline,
        });
      } catch (err) {
        this.o.log(`serve: cache write for ${id} failed: ${(err as Error).message}`);
      }
      s.resultKey = { fingerprint: fp, optionsKey: this.optionsKey };
      s.headline = headline;
      s.analyzedAt = analyzedAt;
      s.status = "ready";
      s.error = null;
      s.version++;
      s.lastAnalysisMs = Date.now() - started;
      this.remember(s, full);
      this.o.log(
        `serve: ${checkpoint ? "result assembled from the live state of" : "analyzed"} ${s.found.relPath} (${result.trace.steps} steps, ${result.mode}) in ${s.lastAnalysisMs} ms`,
      );
    } catch (err) {
      this.fail(s, err instanceof Error ? err.message : String(err));
    }
    this.o.changed(s);
  }

  private fail(s: RunState, message: string): void {
    s.error = this.o.redact(message);
    // A run that already has a result keeps it (e.g. a trace caught mid-write): the error says why it is stale.
    if (!s.headline) s.status = "error";
    this.o.log(`serve: ${s.found.relPath}: ${message}`);
  }

  /** Keeps `full` in memory, dropping the least recently used results of unwatched runs beyond the bound. */
  private remember(s: RunState, full: CachedResult): void {
    s.cached = full;
    s.lastUsed = Date.now();
    const inMemory = [...this.o.runs()].filter((r) => r.cached && r.watchers === 0 && r !== s);
    if (inMemory.length >= this.o.memoryResults) {
      inMemory.sort((a, b) => a.lastUsed - b.lastUsed);
      for (const r of inMemory.slice(0, inMemory.length - this.o.memoryResults + 1)) r.cached = null;
    }
  }
}
