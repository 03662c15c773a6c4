/** @file The analysis worker: results computed in the worker thread equal those of the in-thread engine (the
 * structured clone keeps NaN and every number), errors keep their GradtraceError code, and closing the engine
 * stops the worker. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { traceEngine, workerEngine } from "../../src/serve/engine.ts";
import { SMALL_MODEL, writeTrace } from "./traces.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-worker-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("analyzes in a worker thread with results identical to the main thread's", async () => {
  const file = path.join(dir, "w.gtrace");
  writeTrace(file, { tensors: SMALL_MODEL, seed: 9 }, 24);
  const logs: string[] = [];
  const engine = workerEngine({ log: (m) => logs.push(m) });
  try {
    const options = { predictors: ["zero", "last", "ema0.9"], window: 6 };
    const inWorker = await engine.analyze(file, options);
    expect(logs).toEqual([]);
    expect(engine.mode()).toBe("worker");
    expect(inWorker).toEqual(await traceEngine.analyze(file, options));
    const missing = await engine.analyze(path.join(dir, "nope.gtrace"), {}).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GradtraceError);
    expect((missing as GradtraceError).code).toBe("E_NOT_FOUND");
  } finally {
    await engine.close();
  }
  expect(engine.mode()).toBe("main-thread");
});

it("falls back to the main thread, with the same results, when the worker does not start in time", async () => {
  const file = path.join(dir, "fallback.gtrace");
  writeTrace(file, { tensors: SMALL_MODEL, seed: 4 }, 12);
  const logs: string[] = [];
  // No worker thread starts (and loads the analysis modules) within 0 ms.
  const engine = workerEngine({ startTimeoutMs: 0, log: (m) => logs.push(m) });
  try {
    const out = await engine.analyze(file, { window: 4 });
    expect(engine.mode()).toBe("main-thread");
    expect(logs).toEqual(["serve: analyzing in the main thread (the analysis worker did not start in time)"]);
    expect(out).toEqual(await traceEngine.analyze(file, { window: 4 }));
  } finally {
    await engine.close();
  }
});
