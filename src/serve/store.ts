/** @file The run store: every run found under the served directory, its analysis state, the cache, and live mode.
 *
 * Live mode policy (documented in docs/dashboard.md): requests never touch the traces. A poller stats the traces
 * of runs someone is watching (an open `/events` stream) every `pollMs`, and all runs every `rescanMs` while an
 * overview stream is open.
 * - Incremental path: when a watched run's trace grows and its layout can be re-scanned (`refresh()`), the run gets
 *   a `LiveRun` (an open reader and a live accumulator; the first growth catches up on the steps already there,
 *   once) and every later growth reads only the appended steps and pushes their numbers to the run's listeners at
 *   once — it never waits for an exact analysis.
 * - Exact path: the run is re-analysed as a whole with `analyze()` (spectra, r*(ε), bootstrap CIs, windowed ranks)
 *   in the engine's worker. For a run on the incremental path that happens after `liveQuietMs` without growth, or
 *   at the latest `liveMaxWaitMs` after the first growth not yet analysed; for other runs (a layout without
 *   refresh, no watcher) a change is debounced (`debounceMs` of quiet, at most `maxWaitMs`) as before.
 * Meanwhile the previous exact result keeps being served. Analyses run one at a time (the machine may be small);
 * watched and requested runs go first. */
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import type { LabListEntry, LabResponse, LiveStepsEvent, RunListEntry, RunStatus } from "./api-types.ts";
import {
  CACHE_DIR_NAME,
  CACHE_VERSION,
  type CachedResult,
  type CacheKey,
  type Headline,
  headlineOf,
  ResultCache,
} from "./cache.ts";
import { type Discovery, discover, type FoundLab, type FoundRun, fingerprint } from "./discover.ts";
import type { AnalysisEngine, ServeAnalyzeOptions } from "./engine.ts";
import { type LabData, readLab } from "./lab.ts";
import { LiveRun } from "./live.ts";

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
  /** …or at the latest this long after the first growth not yet analysed. */
  readonly liveMaxWaitMs?: number;
  /** Opens a trace for the incremental path (tests wrap the reader to count what is read). */
  readonly openLiveReader?: (absPath: string) => TraceReader;
  /** Parsed results kept in memory (others are re-read from the cache on demand). */
  readonly memoryResults?: number;
  readonly log?: (message: string) => void;
}

interface RunState {
  found: FoundRun;
  /** Last fingerprint seen by the poller. */
  seen: string | null;
  status: RunStatus;
  error: string | null;
  version: number;
  headline: Headline | null;
  analyzedAt: string | null;
  /** Fingerprint the current result was computed from. */
  resultKey: CacheKey | null;
  cached: CachedResult | null;
  lastUsed: number;
  job: Promise<void> | null;
  queued: boolean;
  dirtySince: number | null;
  lastChange: number;
  watchers: number;
  /** Incremental live state (see the file comment); null until the watched trace first grows. */
  live: LiveRun | null;
  /** The incremental path failed or the layout has none: this run uses the debounced full re-analysis. */
  liveOff: boolean;
  /** An `advance()` in flight, and whether the trace grew again meanwhile. */
  liveBusy: boolean;
  liveAgain: boolean;
}

export type RunListener = (entry: RunListEntry) => void;
export type LiveListener = (event: LiveStepsEvent) => void;

export class RunStore {
  readonly root: string;
  readonly cacheDir: string;
  /** Directory that run paths are relative to (the root, or the folder holding a single trace). */
  private readonly displayBase: string;
  private readonly engine: AnalysisEngine;
  private readonly analyzeOptions: ServeAnalyzeOptions;
  private readonly optionsKey: string;
  private readonly cache: ResultCache;
  private readonly pollMs: number;
  private readonly rescanMs: number;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly liveQuietMs: number;
  private readonly liveMaxWaitMs: number;
  private readonly openLiveReader: ((absPath: string) => TraceReader) | undefined;
  private readonly memoryResults: number;
  private readonly log: (message: string) => void;
  private runs = new Map<string, RunState>();
  private labs = new Map<string, FoundLab>();
  private labCache = new Map<string, { key: string; data: LabData }>();
  private queue: string[] = [];
  private working = false;
  private listeners = new Set<{ run: string | null; fn: RunListener; onLive?: LiveListener }>();
  private timer: NodeJS.Timeout | null = null;
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
    this.root = path.resolve(root);
    this.engine = engine;
    this.analyzeOptions = analyzeOptions;
    this.optionsKey = JSON.stringify(analyzeOptions, Object.keys(analyzeOptions).sort());
    const found = discover(this.root);
    // A single trace (file or trace directory) keeps its cache next to it, not inside a trace directory.
    const single = found.runs.length === 1 && found.runs[0].absPath === this.root;
    this.displayBase = single ? path.dirname(this.root) : this.root;
    this.cacheDir = cacheDir ?? path.join(this.displayBase, CACHE_DIR_NAME);
    this.cache = new ResultCache(this.cacheDir);
    this.pollMs = pollMs;
    this.rescanMs = rescanMs;
    this.debounceMs = debounceMs;
    this.maxWaitMs = maxWaitMs;
    this.liveQuietMs = liveQuietMs;
    this.liveMaxWaitMs = liveMaxWaitMs;
    this.openLiveReader = openLiveReader;
    this.memoryResults = memoryResults;
    this.log = log;
    this.apply(found);
    this.lastRescan = Date.now();
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  /** Adds runs and labs newly found; runs whose trace disappeared are kept with an error. */
  private apply(found: Discovery): void {
    for (const f of found.runs) {
      if (this.runs.has(f.id)) continue;
      const seen = fingerprint(f.absPath, f.isDirectory);
      const state: RunState = {
        found: f,
        seen,
        status: "pending",
        error: null,
        version: 0,
        headline: null,
        analyzedAt: null,
        resultKey: null,
        cached: null,
        lastUsed: 0,
        job: null,
        queued: false,
        dirtySince: null,
        lastChange: 0,
        watchers: 0,
        live: null,
        liveOff: false,
        liveBusy: false,
        liveAgain: false,
      };
      const key = seen === null ? null : { fingerprint: seen, optionsKey: this.optionsKey };
      const meta = key ? this.cache.readMeta(f.id, key) : null;
      if (meta && key) {
        state.status = "ready";
        state.version = 1;
        state.headline = meta.headline;
        state.analyzedAt = meta.analyzedAt;
        state.resultKey = key;
      }
      this.runs.set(f.id, state);
      if (!meta) this.enqueue(f.id, false);
    }
    for (const l of found.labs) this.labs.set(l.id, l);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
    for (const s of this.runs.values()) this.stopLive(s);
  }

  // ---- listing ------------------------------------------------------------------------------------------------

  entry(id: string): RunListEntry {
    const s = this.state(id);
    const h = s.headline;
    return {
      id,
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
      analyzedAt: s.analyzedAt,
    };
  }

  list(): RunListEntry[] {
    return [...this.runs.keys()].map((id) => this.entry(id));
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
      const before = this.runs.size;
      this.apply(discover(this.root));
      for (const id of [...this.runs.keys()].slice(before)) this.emit(id);
    } catch (err) {
      this.log(`serve: rescan failed: ${(err as Error).message}`);
    }
  }

  labList(): LabListEntry[] {
    const out: LabListEntry[] = [];
    for (const id of this.labs.keys()) {
      try {
        const d = this.lab(id);
        out.push({ id, path: d.path, title: d.title, parameter: d.parameter, points: d.values.length });
      } catch {
        // not a lab file after all (discovery goes by name); leave it out of the list
      }
    }
    return out;
  }

  lab(id: string): LabResponse {
    const found = this.labs.get(id);
    if (!found) throw new GradtraceError("E_NOT_FOUND", `lab ${JSON.stringify(id)}: no such lab result`);
    const key = fingerprint(found.absPath, false);
    const hit = this.labCache.get(id);
    if (hit && hit.key === key) return { ...hit.data, id, path: found.relPath };
    const data = readLab(found.absPath, found.relPath);
    this.labCache.set(id, { key: key ?? "", data });
    return { ...data, id, path: found.relPath };
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  private state(id: string): RunState {
    const s = this.runs.get(id);
    if (!s) throw new GradtraceError("E_NOT_FOUND", `run ${JSON.stringify(id)}: no such run`);
    return s;
  }

  // ---- results ------------------------------------------------------------------------------------------------

  /** The run's current result: from memory, else from the cache file, else analysed now (ahead of the queue). */
  async result(id: string): Promise<{ cached: CachedResult; version: number }> {
    const s = this.state(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (s.cached) {
        s.lastUsed = Date.now();
        return { cached: s.cached, version: s.version };
      }
      if (s.resultKey) {
        const full = this.cache.readResult(id, s.resultKey);
        if (full) {
          this.remember(s, full);
          continue;
        }
        // The meta file outlived its result (cache deleted under us): analyse again.
        s.resultKey = null;
        if (s.status === "ready") s.status = "pending";
      }
      if (s.status === "error" && !s.job) {
        throw new GradtraceError("E_FORMAT", `run ${id}: analysis failed: ${s.error}`);
      }
      this.enqueue(id, true);
      await s.job;
      if (s.status === "error" && !s.cached)
        throw new GradtraceError("E_FORMAT", `run ${id}: analysis failed: ${s.error}`);
    }
    if (s.cached) return { cached: s.cached, version: s.version };
    throw new GradtraceError("E_FORMAT", `run ${id}: no result could be produced`);
  }

  private metaOf(c: CachedResult) {
    return {
      cacheVersion: CACHE_VERSION,
      fingerprint: c.fingerprint,
      optionsKey: c.optionsKey,
      analyzedAt: c.analyzedAt,
      headline: headlineOf(c.result),
    };
  }

  private remember(s: RunState, full: CachedResult): void {
    s.cached = full;
    s.lastUsed = Date.now();
    const inMemory = [...this.runs.values()].filter((r) => r.cached && r.watchers === 0 && r !== s);
    if (inMemory.length >= this.memoryResults) {
      inMemory.sort((a, b) => a.lastUsed - b.lastUsed);
      for (const r of inMemory.slice(0, inMemory.length - this.memoryResults + 1)) r.cached = null;
    }
  }

  // ---- analysis queue -----------------------------------------------------------------------------------------

  private enqueue(id: string, urgent: boolean): void {
    const s = this.state(id);
    if (!s.job) {
      s.job = new Promise<void>((resolve) => {
        this.waiters.set(id, resolve);
      });
    }
    if (s.queued) {
      if (urgent) this.queue = [id, ...this.queue.filter((x) => x !== id)];
    } else {
      s.queued = true;
      if (urgent) this.queue.unshift(id);
      else this.queue.push(id);
    }
    void this.pump();
  }

  private waiters = new Map<string, () => void>();

  private async pump(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const id = this.queue.shift()!;
        const s = this.runs.get(id);
        if (!s) continue;
        s.queued = false;
        await this.analyzeNow(s);
        const done = this.waiters.get(id);
        this.waiters.delete(id);
        s.job = null;
        done?.();
      }
    } finally {
      this.working = false;
    }
  }

  private async analyzeNow(s: RunState): Promise<void> {
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
      this.emit(id);
    }
    const started = Date.now();
    try {
      const { result, stepIndices } = await this.engine.analyze(s.found.absPath, this.analyzeOptions);
      // JSON round trip: the served result is exactly what the cache holds (NaN → null), first run or not.
      const full = JSON.parse(
        JSON.stringify({
          cacheVersion: CACHE_VERSION,
          fingerprint: fp,
          optionsKey: this.optionsKey,
          analyzedAt: new Date().toISOString(),
          stepIndices,
          result,
        }),
      ) as CachedResult;
      const problems = full.result.trace.problems.map((p) => this.redact(p));
      (full.result.trace as { problems: string[] }).problems = problems;
      try {
        this.cache.write(id, full, this.metaOf(full));
      } catch (err) {
        this.log(`serve: cache write for ${id} failed: ${(err as Error).message}`);
      }
      s.resultKey = { fingerprint: fp, optionsKey: this.optionsKey };
      s.headline = headlineOf(full.result);
      s.analyzedAt = full.analyzedAt;
      s.status = "ready";
      s.error = null;
      s.version++;
      this.remember(s, full);
      this.log(
        `serve: analysed ${s.found.relPath} (${result.trace.steps} steps) in ${Date.now() - started} ms`,
      );
    } catch (err) {
      this.fail(s, err instanceof Error ? err.message : String(err));
    }
    this.emit(id);
  }

  /** The served directory's absolute path replaced by "." in text shown to clients (errors, trace problems). */
  redact(text: string): string {
    const base = this.displayBase;
    return text.split(`${base}${path.sep}`).join("").split(base).join(".");
  }

  private fail(s: RunState, message: string): void {
    s.error = this.redact(message);
    // A run that already has a result keeps it (e.g. a trace caught mid-write): the error says why it is stale.
    if (!s.headline) s.status = "error";
    this.log(`serve: ${s.found.relPath}: ${message}`);
  }

  // ---- live mode ----------------------------------------------------------------------------------------------

  /** Listen to changes of one run (id) or of all runs (null). Returns the unsubscribe function. */
  subscribe(run: string | null, fn: RunListener, onLive?: LiveListener): () => void {
    const l = { run, fn, onLive };
    this.listeners.add(l);
    const s = run === null ? null : this.state(run);
    if (s) {
      s.watchers++;
      this.check(s, Date.now()); // a run just opened must not wait a poll period to notice it grew
    }
    return () => {
      if (!this.listeners.delete(l)) return;
      if (s) {
        s.watchers--;
        if (s.watchers === 0) this.stopLive(s); // nobody looks: free the reader and the accumulator
      }
    };
  }

  private stopLive(s: RunState): void {
    const live = s.live;
    s.live = null;
    s.liveAgain = false;
    if (live && !s.liveBusy) live.close();
    else if (live) this.closeAfterAdvance.add(live);
  }

  /** Live runs dropped while their `advance()` was in flight: closed when it returns. */
  private readonly closeAfterAdvance = new Set<LiveRun>();

  /** The incremental path: reads the steps appended to a watched run's trace and pushes them to its listeners. */
  private async advanceLive(s: RunState): Promise<void> {
    if (s.liveOff || this.closed) return;
    if (s.liveBusy) {
      s.liveAgain = true;
      return;
    }
    const id = s.found.id;
    let live = s.live;
    try {
      if (!live) {
        const predictors = s.headline?.kappa ? Object.keys(s.headline.kappa) : this.analyzeOptions.predictors;
        live = new LiveRun({ absPath: s.found.absPath, predictors, open: this.openLiveReader });
        s.live = live;
      }
      s.liveBusy = true;
      const update = await live.advance();
      if (update && s.live === live) {
        const event: LiveStepsEvent = { run: id, version: s.version, ...update };
        for (const l of this.listeners) {
          if (l.run !== id || !l.onLive) continue;
          try {
            l.onLive(event);
          } catch {
            // a broken listener (closed stream) must not stop the others
          }
        }
      }
    } catch (err) {
      // No incremental path for this run (layout without refresh, a reader error): full re-analyses only.
      this.log(
        `serve: ${s.found.relPath}: live mode falls back to full re-analysis: ${(err as Error).message}`,
      );
      s.liveOff = true;
      if (s.live === live) s.live = null;
      live?.close();
    } finally {
      s.liveBusy = false;
      if (live && this.closeAfterAdvance.delete(live)) live.close();
    }
    if (s.liveAgain && s.live) {
      s.liveAgain = false;
      void this.advanceLive(s);
    }
  }

  private emit(id: string): void {
    const entry = this.entry(id);
    for (const l of this.listeners) {
      if (l.run === null || l.run === id) {
        try {
          l.fn(entry);
        } catch {
          // a broken listener (closed stream) must not stop the others
        }
      }
    }
  }

  private check(s: RunState, now: number): void {
    const fp = fingerprint(s.found.absPath, s.found.isDirectory);
    if (fp !== s.seen) {
      s.seen = fp;
      s.lastChange = now;
      s.dirtySince ??= now;
      // Only a run that has been analysed once is worth following step by step (its predictors are known).
      if (s.watchers > 0 && fp !== null && s.headline !== null) void this.advanceLive(s);
    }
  }

  private tick(): void {
    if (this.closed) return;
    const now = Date.now();
    const global = [...this.listeners].some((l) => l.run === null);
    const rescan = global && now - this.lastRescan >= this.rescanMs;
    if (rescan) this.rescan(now);
    for (const s of this.runs.values()) {
      if (s.watchers > 0 || rescan) this.check(s, now);
      if (s.dirtySince === null || s.queued || s.job) continue;
      if (s.status === "pending" || s.status === "analyzing") continue; // first analysis already on its way
      const incremental = s.live !== null && !s.liveOff;
      const quiet = incremental ? this.liveQuietMs : this.debounceMs;
      const maxWait = incremental ? this.liveMaxWaitMs : this.maxWaitMs;
      if (now - s.lastChange >= quiet || now - s.dirtySince >= maxWait) {
        this.enqueue(s.found.id, s.watchers > 0);
      }
    }
  }

  /** Resolves once no analysis is queued or running (tests, and `serve --prewarm`). */
  async idle(): Promise<void> {
    while (this.working || this.queue.length > 0) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
