/** @file The run store's live mode: the event listeners (one run's, or all runs'), and the incremental path of
 * watched runs: when a watched trace grows, a `LiveRun` (live.ts) reads only the appended steps and their numbers
 * are pushed to the run's listeners at once, never waiting for a re-analysis; the same live state gives the run's
 * next result when `analyze()` would stream it (policy: store.ts). */
import type { StreamingCheckpoint } from "../analysis/index.ts";
import type { TraceReader } from "../trace/index.ts";
import type { LiveStepsEvent, RunListEntry } from "./api-types.ts";
import type { ServeAnalyzeOptions } from "./engine.ts";
import { LiveRun } from "./live.ts";
import type { RunState } from "./runState.ts";

export type RunListener = (entry: RunListEntry) => void;
export type LiveListener = (event: LiveStepsEvent) => void;

interface Listener {
  readonly run: string | null;
  readonly fn: RunListener;
  readonly onLive?: LiveListener;
}

/** One run's incremental state; absent until its watched trace first grows. */
interface LiveSlot {
  live: LiveRun | null;
  /** The incremental path failed or the layout has none: this run uses the debounced full re-analysis. */
  off: boolean;
  /** Every use of the live run (advance, output, close) in order, one at a time: they share its reader and state. */
  chain: Promise<void>;
  /** An `advance()` is queued and has not started: a further growth needs no second one. */
  queued: boolean;
}

export interface LiveModeOptions {
  /** The run's analysis options (the server's). */
  readonly analyzeOptions?: ServeAnalyzeOptions;
  /** Opens a trace for the incremental path (tests wrap the reader to count what is read). */
  readonly openLiveReader?: (absPath: string) => TraceReader;
  readonly log: (message: string) => void;
}

export class LiveMode {
  private readonly listeners = new Set<Listener>();
  private readonly slots = new Map<string, LiveSlot>();
  private closed = false;

  constructor(private readonly o: LiveModeOptions) {}

  /** Adds a listener of one run (id) or of all runs (null); the returned function removes it and says whether
   * it was still there. */
  listen(run: string | null, fn: RunListener, onLive?: LiveListener): () => boolean {
    const l: Listener = { run, fn, onLive };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Whether someone watches the overview (all runs). */
  overviewWatched(): boolean {
    return [...this.listeners].some((l) => l.run === null);
  }

  /** Sends a run's listed state to its listeners and the overview's. */
  emit(entry: RunListEntry): void {
    for (const l of this.listeners) {
      if (l.run === null || l.run === entry.id) {
        try {
          l.fn(entry);
        } catch {
          // a broken listener (closed stream) must not stop the others
        }
      }
    }
  }

  /** Whether the run follows its trace incrementally (and so waits longer for its next result). */
  incremental(id: string): boolean {
    const slot = this.slots.get(id);
    return slot !== undefined && slot.live !== null && !slot.off;
  }

  /** Runs `fn` after every earlier use of the slot's live run. */
  private serial<T>(slot: LiveSlot, fn: () => Promise<T>): Promise<T> {
    const next = slot.chain.then(fn);
    slot.chain = next.then(
      () => {},
      () => {},
    );
    return next;
  }

  /** The incremental path: reads the steps appended to a watched run's trace and pushes them to its listeners. */
  advance(s: RunState): Promise<void> {
    const id = s.found.id;
    let slot = this.slots.get(id);
    if (!slot) {
      slot = { live: null, off: false, chain: Promise.resolve(), queued: false };
      this.slots.set(id, slot);
    }
    if (slot.off || this.closed || slot.queued) return slot.chain;
    slot.queued = true;
    const sl = slot;
    return this.serial(sl, async () => {
      sl.queued = false;
      // Nobody watches any more (stop() ran meanwhile): no state to build.
      if (sl.off || this.closed || s.watchers === 0) return;
      try {
        sl.live ??= new LiveRun({
          absPath: s.found.absPath,
          analyzeOptions: this.o.analyzeOptions,
          open: this.o.openLiveReader,
        });
        const update = await sl.live.advance();
        if (!update) return;
        const event: LiveStepsEvent = { run: id, version: s.version, ...update };
        for (const l of this.listeners) {
          if (l.run !== id || !l.onLive) continue;
          try {
            l.onLive(event);
          } catch {
            // a broken listener (closed stream) must not stop the others
          }
        }
      } catch (err) {
        this.fail(s, sl, err);
      }
    });
  }

  /** The live state of the run as data for its next result (no pass over the trace), or null when there is none
   * to give: no live state, or a run `analyze()` would not stream (then the engine analyzes it). */
  checkpoint(s: RunState): Promise<StreamingCheckpoint | null> {
    const slot = this.slots.get(s.found.id);
    if (!slot) return Promise.resolve(null);
    return this.serial(slot, async () => {
      if (slot.off || !slot.live) return null;
      try {
        return slot.live.checkpoint();
      } catch (err) {
        this.fail(s, slot, err);
        return null;
      }
    });
  }

  /** No incremental path for this run any more (layout without refresh, a reader error, options the streaming
   * state refuses): full re-analyses only. */
  private fail(s: RunState, slot: LiveSlot, err: unknown): void {
    this.o.log(
      `serve: ${s.found.relPath}: live mode falls back to full re-analysis: ${(err as Error).message}`,
    );
    slot.off = true;
    slot.live?.close();
    slot.live = null;
  }

  /** Nobody watches the run any more: frees its reader and state (after what is in flight). */
  stop(id: string): void {
    const slot = this.slots.get(id);
    if (!slot?.live) return;
    const live = slot.live;
    slot.live = null;
    void this.serial(slot, async () => live.close());
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    for (const id of this.slots.keys()) this.stop(id);
  }
}
