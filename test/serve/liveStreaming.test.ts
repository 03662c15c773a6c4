/** @file Live mode on the streaming state: a run grows past `exactMaxSteps` while watched. Its `live` events carry
 * per-tensor numbers — κ per predictor, ‖g_t‖ and κ / r*(ε) of the windows that closed — equal to a direct
 * `analyze()` of the trace so far (κ to 1e-9), the server reads only the appended steps, and once the run streams
 * its next result is assembled from the live state (the engine is not called again) and equals `analyze()`. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnalysisResult, analyzeWithSeries } from "../../src/analysis/index.ts";
import type { LiveStepsEvent, LiveTrack } from "../../src/serve/api-types.ts";
import { type AnalysisEngine, type ServeAnalyzeOptions, traceEngine } from "../../src/serve/engine.ts";
import { RunStore } from "../../src/serve/store.ts";
import { openTrace } from "../../src/trace/index.ts";
import { countingOpen, SMALL_MODEL, writeTrace } from "./traces.ts";

const OPTIONS: ServeAnalyzeOptions = {
  predictors: ["zero", "last", "ema0.9", "linear", "ar2"],
  window: 8,
  exactMaxSteps: 40,
};
const ID = "grow-gtrace";
let dir: string;
let file: string;
let trace: ReturnType<typeof writeTrace>;
let store: RunStore;
let engineCalls = 0;
const reads: number[] = [];
const events: LiveStepsEvent[] = [];
const readsAtEvent: number[][] = [];
let unsubscribe = () => {};

/** The direct analysis of the trace as it is now, with the server's options, through JSON as served. */
async function direct(): Promise<{ result: AnalysisResult; stepIndices: number[] }> {
  const reader = openTrace(file);
  try {
    const out = await analyzeWithSeries(reader, { ...OPTIONS, matrixGeometry: true });
    return JSON.parse(JSON.stringify({ result: out.result, stepIndices: out.stepIndices }));
  } finally {
    reader.close();
  }
}

const closeTo = (a: number | null, b: number | null, tol = 1e-9) =>
  a === null || b === null ? a === b : Math.abs(a - b) <= tol * Math.max(1e-300, Math.abs(b));

async function waitFor(pred: () => boolean, what: string, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every number of the event against the direct analysis of the same steps. */
function expectEventMatches(event: LiveStepsEvent, want: { result: AnalysisResult; stepIndices: number[] }) {
  const r = want.result;
  expect(event.steps).toBe(r.trace.steps);
  expect(event.stepIndices).toEqual(want.stepIndices.slice(event.from));
  const tracks: [LiveTrack | LiveStepsEvent, AnalysisResult["total"]][] = [
    ...r.tensors.map((t, i) => [event.tensors[i], t] as [LiveTrack, typeof t]),
    [event, r.total],
  ];
  expect(event.tensors.map((t) => t.name)).toEqual(r.tensors.map((t) => t.name));
  const w = r.total.windows!;
  // The windows carried are the result's windows ending after `from`, with their logged first step.
  const wanted = w.starts.map((s, k) => [s, k]).filter(([s]) => s + w.size > event.from);
  expect(event.windows.size).toBe(w.size);
  expect(event.windows.starts).toEqual(wanted.map(([s]) => s));
  expect(event.windows.firstStep).toEqual(wanted.map(([s]) => want.stepIndices[s]));
  for (const [got, t] of tracks) {
    for (const id of OPTIONS.predictors!) {
      if (!closeTo(got.kappa[id], t.kappa[id]))
        expect([t.name, id, got.kappa[id]]).toEqual([t.name, id, t.kappa[id]]);
      got.windowKappa[id].forEach((v, j) => {
        expect(closeTo(v, t.windows!.kappa[id][wanted[j][1]]), `${t.name} ${id} window ${j}`).toBe(true);
      });
    }
    for (const eps of r.options.eps) {
      expect(got.windowRank[String(eps)]).toEqual(
        wanted.map(([, k]) => t.windows!.predictableRank[String(eps)][k]),
      );
    }
    got.gradNorm.forEach((v, j) => {
      expect(closeTo(v, t.gradNorm[event.from + j], 1e-12)).toBe(true);
    });
    expect(got.gradNorm).toHaveLength(event.steps - event.from);
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-livestream-"));
  file = path.join(dir, "grow.gtrace");
  trace = writeTrace(file, { tensors: SMALL_MODEL, seed: 21 }, 30, { keepOpen: true });
  const engine: AnalysisEngine = {
    analyze(absPath, options) {
      engineCalls++;
      return traceEngine.analyze(absPath, options);
    },
  };
  store = new RunStore({
    root: dir,
    engine,
    analyzeOptions: OPTIONS,
    pollMs: 20,
    liveQuietMs: 80,
    liveMaxWaitMs: 2000,
    openLiveReader: countingOpen(reads),
  });
  await store.idle();
  unsubscribe = store.subscribe(
    ID,
    () => {},
    (e) => {
      events.push(e);
      // What had been read when the event went out (a result assembled later reads its geometry samples).
      readsAtEvent.push([...reads]);
    },
  );
});

afterAll(async () => {
  unsubscribe();
  trace?.writer.close();
  await store?.idle();
  store?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("live mode across exactMaxSteps", () => {
  it("short run: per-tensor live numbers equal analyze() (exact mode), and the exact re-analysis still runs", async () => {
    expect((await store.result(ID)).cached.result.mode).toBe("exact");
    expect(engineCalls).toBe(1);
    for (let s = 30; s < 36; s++) trace.writer.append(s, trace.grad(s));
    await waitFor(() => events.some((e) => e.steps === 36), "the catch-up event");
    const first = events.find((e) => e.steps === 36)!;
    expect(first.from).toBe(0); // a catch-up of a short run carries every step
    expect(first.added).toBe(36);
    expectEventMatches(first, await direct());
    await waitFor(() => store.entry(ID).steps === 36, "the exact result of 36 steps");
    expect((await store.result(ID)).cached.result.mode).toBe("exact");
    expect(engineCalls).toBe(2);
  });

  it("crossing exactMaxSteps: reads only the new steps, and the next result comes from the live state", async () => {
    const v0 = store.entry(ID).version;
    reads.length = 0;
    const grads = (s: number) => {
      const g = trace.grad(s);
      if (s === 41) g["conv1.bias"][1] = Number.NaN; // dropped: accepted steps skip it
      return g;
    };
    for (let s = 36; s < 48; s++) trace.writer.append(s, grads(s));
    await waitFor(() => events.some((e) => e.steps === 47), "the live event of steps 36–47");
    const next = events.find((e) => e.steps === 47)!;
    expect(next.from).toBe(36);
    expect(next.added).toBe(11);
    // 3 tensors × the 12 appended positions (the NaN one is read, then skipped), nothing before them.
    expect([...readsAtEvent[events.indexOf(next)]].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 36 }, (_, i) => 36 + Math.floor(i / 3)),
    );
    expect(next.stepIndices).toEqual([36, 37, 38, 39, 40, 42, 43, 44, 45, 46, 47]);
    const want = await direct();
    expect(want.result.mode).toBe("streaming");
    expectEventMatches(next, want);

    await waitFor(() => store.entry(ID).version > v0 && store.entry(ID).steps === 47, "the streaming result");
    const { cached } = await store.result(ID);
    expect(engineCalls).toBe(2); // assembled from the live state: no engine call, no pass over the trace
    expect(cached.result.mode).toBe("streaming");
    expect(cached.stepIndices).toEqual(want.stepIndices);
    expect(cached.result).toEqual(want.result);

    // Growing further stays on the streaming path.
    for (let s = 48; s < 52; s++) trace.writer.append(s, trace.grad(s));
    await waitFor(() => store.entry(ID).steps === 51, "the result of 51 steps");
    expect(engineCalls).toBe(2);
    const last = events[events.length - 1];
    expect(last.from).toBe(47);
    expectEventMatches(last, await direct());
    expect((await store.result(ID)).cached.result).toEqual((await direct()).result);
  });
});
