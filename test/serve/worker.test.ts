/** @file The analysis worker: results computed in the worker thread equal those of the in-thread engine (the
 * structured clone keeps NaN and every number), a live state's checkpoint assembled there equals the streaming
 * analysis, errors keep their GradtraceError code, and closing the engine stops the worker. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { IncrementalAnalysis } from "../../src/analysis/index.ts";
import { GradtraceError } from "../../src/core/errors.ts";
import { traceEngine, workerEngine } from "../../src/serve/engine.ts";
import { openTrace } from "../../src/trace/index.ts";
import { SMALL_MODEL, writeTrace } from "./traces.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-worker-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("analyzes (and assembles checkpoints) in a worker thread with results identical to the main thread's", async () => {
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
    // A live state's checkpoint (typed arrays and all) goes to the worker and comes back as the result that
    // analyze() would give in streaming mode.
    const streaming = { ...options, mode: "streaming" as const };
    const reader = openTrace(file);
    const live = new IncrementalAnalysis(reader, { ...streaming, matrixGeometry: true });
    live.advance();
    const assembled = await engine.assemble(file, live.checkpoint());
    reader.close();
    expect(assembled).toEqual(await traceEngine.analyze(file, streaming));
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
