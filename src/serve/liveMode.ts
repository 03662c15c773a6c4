/** @file The run store's live mode: the event listeners (one run's, or all runs'), and the incremental path of
 * watched runs: when a watched trace grows, a `LiveRun` (live.ts) reads only the appended steps and their numbers
 * are pushed to the run's listeners at once, never waiting for the exact re-analysis (policy: store.ts). */
import type { TraceReader } from "../trace/index.ts";
import type { LiveStepsEvent, RunListEntry } from "./api-types.ts";
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
  /** An `advance()` in flight, and whether the trace grew again meanwhile. */
  busy: boolean;
  again: boolean;
}

export interface LiveModeOptions {
  /** Predictors for a run whose headline does not name them yet. */
  readonly predictors?: readonly string[];
  /** Opens a trace for the incremental path (tests wrap the reader to count what is read). */
  readonly openLiveReader?: (absPath: string) => TraceReader;
  readonly log: (message: string) => void;
}

export class LiveMode {
  private readonly listeners = new Set<Listener>();
  private readonly slots = new Map<string, LiveSlot>();
  /** Live runs dropped while their `advance()` was in flight: closed when it returns. */
  private readonly closeAfterAdvance = new Set<LiveRun>();
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

  /** Whether the run follows its trace incrementally (and so waits longer for its exact re-analysis). */
  incremental(id: string): boolean {
    const slot = this.slots.get(id);
    return slot !== undefined && slot.live !== null && !slot.off;
  }

  /** The incremental path: reads the steps appended to a watched run's trace and pushes them to its listeners. */
  async advance(s: RunState): Promise<void> {
    const id = s.found.id;
    let slot = this.slots.get(id);
    if (!slot) {
      slot = { live: null, off: false, busy: false, again: false };
      this.slots.set(id, slot);
    }
    if (slot.off || this.closed) return;
    if (slot.busy) {
      slot.again = true;
      return;
    }
    let live = slot.live;
    try {
      if (!live) {
        const predictors = s.headline?.kappa ? Object.keys(s.headline.kappa) : this.o.predictors;
        live = new LiveRun({ absPath: s.found.absPath, predictors, open: this.o.openLiveReader });
        slot.live = live;
      }
      slot.busy = true;
      const update = await live.advance();
      if (update && slot.live === live) {
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
      this.o.log(
        `serve: ${s.found.relPath}: live mode falls back to full re-analysis: ${(err as Error).message}`,
      );
      slot.off = true;
      if (slot.live === live) slot.live = null;
      live?.close();
    } finally {
      slot.busy = false;
      if (live && this.closeAfterAdvance.delete(live)) live.close();
    }
    if (slot.again && slot.live) {
      slot.again = false;
      void this.advance(s);
    }
  }

  /** Nobody watches the run any more: frees its reader and accumulator. */
  stop(id: string): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    const live = slot.live;
    slot.live = null;
    slot.again = false;
    if (live && !slot.busy) live.close();
    else if (live) this.closeAfterAdvance.add(live);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    for (const id of this.slots.keys()) this.stop(id);
  }
}
