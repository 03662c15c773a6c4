/** @file The run store's parts on their own: the analysis queue (one analysis at a time, urgent runs first, one job
 * per run however often it is asked for) and live mode's listener routing (a run's listeners see that run, the
 * overview sees all, a broken listener does not stop the others). */
import { describe, expect, it } from "vitest";
import { AnalysisQueue } from "../../src/serve/analysisQueue.ts";
import type { RunListEntry } from "../../src/serve/api-types.ts";
import { LiveMode } from "../../src/serve/liveMode.ts";

describe("AnalysisQueue", () => {
  it("runs one analysis at a time, urgent runs first, one job per run", async () => {
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const gates = new Map<string, () => void>();
    const queue = new AnalysisQueue(async (id) => {
      running++;
      most = Math.max(most, running);
      order.push(id);
      await new Promise<void>((r) => gates.set(id, r));
      running--;
    });
    queue.enqueue("a", false); // starts at once
    queue.enqueue("b", false);
    queue.enqueue("c", false);
    queue.enqueue("d", true); // jumps the queue
    queue.enqueue("c", true); // already queued: moved to the front, same job
    const jobC = queue.job("c");
    queue.enqueue("c", false);
    expect(queue.job("c")).toBe(jobC);
    expect(queue.job("zzz")).toBeNull();
    for (const id of ["a", "c", "d", "b"]) {
      await new Promise((r) => setTimeout(r, 0));
      gates.get(id)!();
    }
    await jobC;
    await queue.idle();
    expect(order).toEqual(["a", "c", "d", "b"]);
    expect(most).toBe(1);
    expect(queue.job("c")).toBeNull();
  });

  it("starts nothing once closed", async () => {
    const seen: string[] = [];
    const queue = new AnalysisQueue(async (id) => {
      seen.push(id);
    });
    queue.close();
    queue.enqueue("a", false);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
  });
});

describe("LiveMode listeners", () => {
  const entry = (id: string) => ({ id }) as RunListEntry;

  it("routes a run's entry to its listeners and the overview's, past a broken listener", () => {
    const live = new LiveMode({ log: () => {} });
    const got: string[] = [];
    live.listen("x", () => {
      throw new Error("closed stream");
    });
    const offX = live.listen("x", (e) => got.push(`x:${e.id}`));
    live.listen("y", (e) => got.push(`y:${e.id}`));
    expect(live.overviewWatched()).toBe(false);
    live.listen(null, (e) => got.push(`all:${e.id}`));
    expect(live.overviewWatched()).toBe(true);
    live.emit(entry("x"));
    live.emit(entry("y"));
    expect(got).toEqual(["x:x", "all:x", "y:y", "all:y"]);
    expect(offX()).toBe(true);
    expect(offX()).toBe(false);
    live.emit(entry("x"));
    expect(got.slice(4)).toEqual(["all:x"]);
    expect(live.incremental("x")).toBe(false);
  });
});
