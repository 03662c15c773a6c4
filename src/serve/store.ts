/** @file The run store: every run found under the served directory, its analysis state, the cache, and live mode,
 * put together from one module per job (runListing.ts, runResults.ts, analysisQueue.ts, liveMode.ts); this file
 * holds the poller that ties them to the traces on disk.
 *
 * Live mode policy (documented in docs/dashboard.md): requests never touch the traces. A poller stats the traces
 * of runs someone is watching (an open `/events` stream) every `pollMs`, and all runs every `rescanMs` while an
 * overview stream is open.
 * - Incremental path: when a watched run's trace grows and its layout can be re-scanned (`refresh()`), the run gets
 *   a `LiveRun` (an open reader and the streaming analysis state of `analyze()`'s streaming mode; the first growth
 *   catches up on the steps already there, once) and every later growth reads only the appended steps and pushes
 *   their numbers (per tensor and whole model) to the run's listeners at once — it never waits for a result.
 * - Results: after `liveQuietMs` without growth, or at the latest `liveMaxWaitMs` after the first growth not yet in
 *   a result, a run on the incremental path gets a new result. When `analyze()` would stream it (more than
 *   `exactMaxSteps` steps in auto mode, with the live state's window), the live state's checkpoint is assembled
 *   into that result by the engine (in its worker) — no pass over the trace, so a 100,000-step run is not re-read;
 *   otherwise (a short run in auto mode: the exact T × T analysis) the engine analyzes the trace in its worker.
 *   Other runs (a layout without refresh, no watcher) are re-analyzed by the engine after a change is debounced
 *   (`debounceMs` of quiet, at most `maxWaitMs`).
 * A run that keeps growing gets a new result at most every RESULT_SPACING × the time its last result took (and at
 * most every `liveMaxWaitMs` / `maxWaitMs`). Meanwhile the previous result keeps being served. Analyses run one at
 * a time (the machine may be small); watched and requested runs go first. */
import * as path from "node:path";
import type { AdviseResult } from "../analysis/index.ts";
import { GradtraceError } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { AnalysisQueue } from "./analysisQueue.ts";
import type { LabListEntry, LabResponse, RunListEntry } from "./api-types.ts";
import { CACHE_DIR_NAME, type CachedResult, ResultCache } from "./cache.ts";
import { type Discovery, fingerprint } from "./discover.ts";
import { type AnalysisEngine, type ServeAnalyzeOptions, traceEngine } from "./engine.ts";
import { type LiveListener, LiveMode, type RunListener } from "./liveMode.ts";
import { RunListing } from "./runListing.ts";
import { RunResults } from "./runResults.ts";
import type { RunState } from "./runState.ts";

export type { LiveListener, RunListener } from "./liveMode.ts";

/** While a run keeps growing, its results are at least this many times their own duration apart. */
const RESULT_SPACING = 4;

export interface RunStoreOptions {
  /** A trace, or a directory holding traces (any depth) and spiked-lab JSON files. */
  readonly root: string;
  readonly engine: AnalysisEngine;
  readonly analyzeOptions?: ServeAnalyzeOptions;
  /** Default `<root>/.gradtrace-cache` (next to the trace when root is one trace). */
  readonly cacheDir?: string;
  readonly pollMs?: number;
  readonly rescanMs?: number;
  readonly debounceMs?: number;
  readonly maxWaitMs?: number;
  /** Exact re-analysis of a run on the incremental path: after this much quiet… */
  readonly liveQuietMs?: number;
  /** …or at the latest this long after the first growth not yet analyzed. */
  readonly liveMaxWaitMs?: number;
  /** Opens a trace for the incremental path (tests wrap the reader to count what is read). */
  readonly openLiveReader?: (absPath: string) => TraceReader;
  /** Parsed results kept in memory (others are re-read from the cache on demand). */
  readonly memoryResults?: number;
  readonly log?: (message: string) => void;
}

export class RunStore {
  readonly root: string;
  readonly cacheDir: string;
  private readonly listing: RunListing;
  private readonly results: RunResults;
  private readonly queue: AnalysisQueue;
  private readonly live: LiveMode;
  private readonly rescanMs: number;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly liveQuietMs: number;
  private readonly liveMaxWaitMs: number;
  private readonly log: (message: string) => void;
  private timer: NodeJS.Timeout | null = null;
  private readonly engine: AnalysisEngine;
  private readonly analyzeOptions: ServeAnalyzeOptions;
  /** GaLore advice per run, version and target: computed on request (SVDs per refresh), kept while it is current. */
  private readonly advice = new Map<string, Promise<AdviseResult>>();
  private lastRescan = 0;
  private closed = false;

  constructor({
    root,
    engine,
    analyzeOptions = {},
    cacheDir,
    pollMs = 200,
    rescanMs = 2000,
    debounceMs = 100,
    maxWaitMs = 500,
    liveQuietMs = 1000,
    liveMaxWaitMs = 10_000,
    openLiveReader,
    memoryResults = 8,
    log = () => {},
  }: RunStoreOptions) {
    this.listing = new RunListing(root);
    this.root = this.listing.root;
    this.engine = engine;
    this.analyzeOptions = analyzeOptions;
    this.cacheDir = cacheDir ?? path.join(this.listing.displayBase, CACHE_DIR_NAME);
    this.rescanMs = rescanMs;
    this.debounceMs = debounceMs;
    this.maxWaitMs = maxWaitMs;
    this.liveQuietMs = liveQuietMs;
    this.liveMaxWaitMs = liveMaxWaitMs;
    this.log = log;
    this.results = new RunResults({
      cache: new ResultCache(this.cacheDir),
      engine,
      analyzeOptions,
      memoryResults,
      runs: () => this.listing.states(),
      redact: (text) => this.listing.redact(text),
      changed: (s) => this.emit(s.found.id),
      log,
    });
    this.queue = new AnalysisQueue((id) => {
      const s = this.listing.state(id);
      // A run followed live gets its result from the live state when analyze() would stream it (no trace pass).
      return this.results.analyze(s, this.live.incremental(id) ? () => this.live.checkpoint(s) : undefined);
    });
    this.live = new LiveMode({ analyzeOptions, openLiveReader, log });
    this.add(this.listing.initial);
    this.lastRescan = Date.now();
    this.timer = setInterval(() => this.tick(), pollMs);
    this.timer.unref();
  }

  /** Lists runs and labs newly found; a run without a valid cached result is queued for analysis. */
  private add(found: Discovery): string[] {
    return this.listing.add(found, (s) => {
      if (!this.results.restore(s)) this.queue.enqueue(s.found.id, false);
    });
  }

  close(): void {
    this.closed = true;
    this.queue.close();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.live.close();
  }

  // ---- listing ------------------------------------------------------------------------------------------------

  entry(id: string): RunListEntry {
    return this.listing.entry(id);
  }

  list(): RunListEntry[] {
    return this.listing.list();
  }

  /** Looks for runs added to the directory, at most once per `rescanMs` (called by `/api/runs`). */
  rediscover(): void {
    const now = Date.now();
    if (now - this.lastRescan < this.rescanMs) return;
    this.rescan(now);
  }

  private rescan(now: number): void {
    this.lastRescan = now;
    try {
      for (const id of this.add(this.listing.discover())) this.emit(id);
    } catch (err) {
      this.log(`serve: rescan failed: ${(err as Error).message}`);
    }
  }

  labList(): LabListEntry[] {
    return this.listing.labList();
  }

  lab(id: string): LabResponse {
    return this.listing.lab(id);
  }

  has(id: string): boolean {
    return this.listing.has(id);
  }

  /** The served directory's absolute path replaced by "." in text shown to clients (errors, trace problems). */
  redact(text: string): string {
    return this.listing.redact(text);
  }

  // ---- results ------------------------------------------------------------------------------------------------

  /** The run's current result: from memory, else from the cache file, else analyzed now (ahead of the queue). */
  async result(id: string): Promise<{ cached: CachedResult; version: number }> {
    const s = this.listing.state(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const cached = this.results.current(s);
      if (cached) return { cached, version: s.version };
      if (s.status === "error" && !this.queue.job(id)) {
        throw new GradtraceError("E_FORMAT", `run ${id}: analysis failed: ${s.error}`);
      }
      this.queue.enqueue(id, true);
      await this.queue.job(id);
      if (s.status === "error" && !s.cached)
        throw new GradtraceError("E_FORMAT", `run ${id}: analysis failed: ${s.error}`);
    }
    if (s.cached) return { cached: s.cached, version: s.version };
    throw new GradtraceError("E_FORMAT", `run ${id}: no result could be produced`);
  }

  /** GaLore advice for the run's trace at its current version (the engine's worker when it has one). Tensors are
   * selected as the dashboard's analysis selects them; the trace path in the result is shown relative. */
  async adviseRun(id: string, target: number): Promise<AdviseResult> {
    const s = this.listing.state(id);
    const key = `${id}\u0000${s.version}\u0000${target}`;
    let p = this.advice.get(key);
    if (!p) {
      for (const k of this.advice.keys()) if (k.startsWith(`${id}\u0000`)) this.advice.delete(k);
      const { include, exclude } = this.analyzeOptions;
      const options = { target, ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) };
      p = (this.engine.advise ?? traceEngine.advise)(s.found.absPath, options).then((r) => ({
        ...r,
        traces: [s.found.relPath],
      }));
      // A failed computation is not kept: the next request tries again.
      p.catch(() => this.advice.delete(key));
      this.advice.set(key, p);
    }
    try {
      return await p;
    } catch (err) {
      if (err instanceof GradtraceError) throw new GradtraceError(err.code, this.redact(err.message));
      throw err;
    }
  }

  // ---- live mode ----------------------------------------------------------------------------------------------

  /** Listen to changes of one run (id) or of all runs (null). Returns the unsubscribe function. */
  subscribe(run: string | null, fn: RunListener, onLive?: LiveListener): () => void {
    const s = run === null ? null : this.listing.state(run);
    const remove = this.live.listen(run, fn, onLive);
    if (s) {
      s.watchers++;
      this.check(s, Date.now()); // a run just opened must not wait a poll period to notice it grew
    }
    return () => {
      if (!remove()) return;
      if (s) {
        s.watchers--;
        if (s.watchers === 0) this.live.stop(s.found.id); // nobody looks: free the reader and the accumulator
      }
    };
  }

  private emit(id: string): void {
    this.live.emit(this.listing.entry(id));
  }

  // ---- the poller ---------------------------------------------------------------------------------------------

  /** Notices a change of the run's trace; a watched run that has been analyzed once follows it step by step. */
  private check(s: RunState, now: number): void {
    const fp = fingerprint(s.found.absPath, s.found.isDirectory);
    if (fp !== s.seen) {
      s.seen = fp;
      s.lastChange = now;
      s.dirtySince ??= now;
      // Only a run that has been analyzed once is worth following step by step (its predictors are known).
      if (s.watchers > 0 && fp !== null && s.headline !== null) void this.live.advance(s);
    }
  }

  private tick(): void {
    if (this.closed) return;
    const now = Date.now();
    const rescan = this.live.overviewWatched() && now - this.lastRescan >= this.rescanMs;
    if (rescan) this.rescan(now);
    for (const s of this.listing.states()) {
      if (s.watchers > 0 || rescan) this.check(s, now);
      if (s.dirtySince === null || this.queue.job(s.found.id)) continue;
      if (s.status === "pending" || s.status === "analyzing") continue; // first analysis already on its way
      const incremental = this.live.incremental(s.found.id);
      const quiet = incremental ? this.liveQuietMs : this.debounceMs;
      // A run that keeps growing gets a result at most every RESULT_SPACING × what its last one took: a long run's
      // result (seconds of assembly, JSON and cache write) never occupies the server most of the time.
      const maxWait = Math.max(
        incremental ? this.liveMaxWaitMs : this.maxWaitMs,
        RESULT_SPACING * s.lastAnalysisMs,
      );
      if (now - s.lastChange >= quiet || now - s.dirtySince >= maxWait) {
        this.queue.enqueue(s.found.id, s.watchers > 0);
      }
    }
  }

  /** Resolves once no analysis is queued or running (tests, and `serve --prewarm`). */
  async idle(): Promise<void> {
    await this.queue.idle();
  }
}
