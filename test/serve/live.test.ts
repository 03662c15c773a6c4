/** @file Live mode's incremental path, end to end over HTTP: a writer appends steps to a real gtrace while the run's
 * event stream is open; the `live` SSE events must carry the right per-step numbers (checked against the core's
 * exact pathLengthsFromGram on a brute-force Gram of the same vectors) and, after the first catch-up, the server
 * must read only the appended steps (counted through a wrapped reader). The exact re-analysis still follows. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathLengthsFromGram } from "../../src/core/pathLength.ts";
import type { LiveStepsEvent } from "../../src/serve/api-types.ts";
import { type AnalysisEngine, traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { RunStore } from "../../src/serve/store.ts";
import { openTrace } from "../../src/trace/index.ts";
import { gramOf } from "../core/predictorsReference.ts";
import { openSse } from "./http.ts";
import { countingOpen, SMALL_MODEL, writeTrace } from "./traces.ts";

const PREDICTORS = ["zero", "last", "ema0.9", "linear"];
let dir: string;
let webDir: string;
let server: RunningServer;
let live: ReturnType<typeof writeTrace>;
/** Step positions read through readTensor by the live path, in order. */
const reads: number[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-live-"));
  webDir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-live-web-"));
  fs.writeFileSync(path.join(webDir, "index.html"), "<!doctype html><title>gradtrace</title>");
  live = writeTrace(path.join(dir, "grow.gtrace"), { tensors: SMALL_MODEL, seed: 11 }, 10, {
    keepOpen: true,
  });
  server = await startServer({
    path: dir,
    webDir,
    engine: traceEngine,
    analyzeOptions: { predictors: PREDICTORS },
    openLiveReader: countingOpen(reads),
  });
  await server.store.idle();
});

afterAll(async () => {
  live?.writer.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(webDir, { recursive: true, force: true });
});

/** Brute force: the whole model's Gram of steps 0..n−1 in float64 from the vectors in the file (a separate,
 * uncounted reader; the writer's generator cannot replay its noise), through the core's exact predictors. */
function reference(n: number) {
  const reader = openTrace(path.join(dir, "grow.gtrace"));
  const vectors = Array.from({ length: n }, (_, s) =>
    SMALL_MODEL.flatMap((t) => Array.from(reader.readTensor(s, t.name))),
  );
  reader.close();
  const k = gramOf(vectors);
  return pathLengthsFromGram(k, PREDICTORS);
}

const close = (a: number, b: number, rel = 1e-6) => Math.abs(a - b) <= rel * Math.max(1e-12, Math.abs(b));

function expectMatches(event: LiveStepsEvent, n: number) {
  const ref = reference(n);
  expect(event.steps).toBe(n);
  expect(event.stepIndices).toEqual(Array.from({ length: n - event.from }, (_, i) => event.from + i));
  event.gradNorm.forEach((v, i) => {
    expect(close(v, Math.sqrt(ref.gradNormSq[event.from + i]))).toBe(true);
  });
  expect(Object.keys(event.error).sort()).toEqual([...PREDICTORS].sort());
  const totalG = ref.gradNormSq.reduce((a, b) => a + b, 0);
  for (const id of PREDICTORS) {
    const want = ref.series[id].error;
    expect(event.error[id]).toHaveLength(n - event.from);
    event.error[id].forEach((v, i) => {
      if (!close(v, want[event.from + i], 1e-5))
        expect([id, event.from + i, v]).toEqual([id, event.from + i, want[event.from + i]]);
    });
    const wantKappa = want.reduce((a, b) => a + b, 0) / totalG;
    expect(close(event.kappa[id]!, wantKappa, 1e-5)).toBe(true);
  }
}

describe("live mode, incremental path", () => {
  it("pushes the appended steps' numbers over SSE, reads only the new steps, then the exact result", async () => {
    const sse = openSse(server.port, "/api/runs/grow-gtrace/events");
    await sse.ready;
    const v0 = JSON.parse((await sse.next((e) => e.event === "status")).data).run.version as number;

    // First growth: the live run catches up once on the steps already there, then reports all of them.
    for (let s = 10; s < 14; s++) live.writer.append(s, live.grad(s));
    const first = JSON.parse((await sse.next((e) => e.event === "live", 5000)).data) as LiveStepsEvent;
    expect(first.run).toBe("grow-gtrace");
    expect(first.from).toBe(0);
    expectMatches(first, 14);

    // Later growth: only the appended step positions are read.
    reads.length = 0;
    const t0 = Date.now();
    for (let s = 14; s < 17; s++) live.writer.append(s, live.grad(s));
    const next = JSON.parse(
      (await sse.next((e) => e.event === "live" && JSON.parse(e.data).from === 14, 5000)).data,
    ) as LiveStepsEvent;
    const latency = Date.now() - t0;
    expect(next.from).toBe(14);
    expectMatches(next, 17);
    expect([...reads].sort((a, b) => a - b)).toEqual([14, 14, 14, 15, 15, 15, 16, 16, 16]); // 3 tensors × 3 steps
    expect(latency).toBeLessThan(3000); // loose: bench/dashboard.bench.ts measures the latency

    // The exact re-analysis follows once the trace is quiet, with every step.
    const upd = await sse.next((e) => e.event === "update" && JSON.parse(e.data).run.steps === 17, 8000);
    expect(JSON.parse(upd.data).run.version).toBeGreaterThan(v0);
    sse.close();
  });
});

describe("live mode, incremental path vs the exact analysis", () => {
  it("pushes new steps while an exact re-analysis is still running (the fast path never waits for it)", async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-live-block-"));
    const w = writeTrace(path.join(d, "run.gtrace"), { tensors: SMALL_MODEL, seed: 12 }, 6, {
      keepOpen: true,
    });
    let exactCalls = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    // The first analysis is real; every later one hangs until released.
    const engine: AnalysisEngine = {
      async analyze(absPath, options) {
        exactCalls++;
        if (exactCalls > 1) await released;
        return traceEngine.analyze(absPath, options);
      },
    };
    const store = new RunStore({ root: d, engine, pollMs: 20, liveQuietMs: 40, liveMaxWaitMs: 200 });
    try {
      await store.idle();
      const events: LiveStepsEvent[] = [];
      const unsubscribe = store.subscribe(
        "run-gtrace",
        () => {},
        (e) => events.push(e),
      );
      const waitFor = async (pred: () => boolean) => {
        const deadline = Date.now() + 5000;
        while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        expect(pred()).toBe(true);
      };
      for (let s = 6; s < 8; s++) w.writer.append(s, w.grad(s));
      await waitFor(() => events.some((e) => e.steps === 8));
      await waitFor(() => exactCalls === 2); // the exact re-analysis of 8 steps started, and hangs
      for (let s = 8; s < 11; s++) w.writer.append(s, w.grad(s));
      await waitFor(() => events.some((e) => e.steps === 11));
      const last = events[events.length - 1];
      expect(last.from).toBe(8);
      expect(last.gradNorm).toHaveLength(3);
      expect(store.entry("run-gtrace").steps).toBe(6); // the exact result is still the first one
      release();
      await waitFor(() => store.entry("run-gtrace").steps === 11);
      unsubscribe();
    } finally {
      release();
      w.writer.close();
      await store.idle();
      store.close();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
