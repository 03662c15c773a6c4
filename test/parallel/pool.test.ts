/** @file The worker pool (src/parallel): results equal the in-process computation, errors keep their code or
 * name, transferables move both ways, tasks really run in parallel, aborting stops a running task, and a task
 * module is resolved beside its caller with the caller's extension. */
import { threadId } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/index.ts";
import { createPool, siblingModule } from "../../src/parallel/index.ts";
import * as tasks from "./tasks.ts";

type Tasks = typeof import("./tasks.ts");
const pool = createPool<Tasks>({ module: new URL("./tasks.ts", import.meta.url), threads: 2 });
afterAll(() => pool.close());

describe("createPool", () => {
  it("runs a task in a worker thread with the in-process result, NaN and -0 kept", async () => {
    const x = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3);
    expect(await pool.run("sumSquares", [x])).toBe(tasks.sumSquares(x));
    const values = [1.5, Number.NaN, -0, Number.POSITIVE_INFINITY, 1e-310];
    const out = await pool.run("scaled", [values, -1]);
    expect(out).toEqual(await tasks.scaled(values, -1));
    expect(Object.is(out[2], 0)).toBe(true);
  });

  it("rejects with a GradtraceError keeping its code, and other errors keeping their name", async () => {
    const coded = await pool.run("failCoded", [7]).catch((e: unknown) => e);
    expect(coded).toBeInstanceOf(GradtraceError);
    expect((coded as GradtraceError).code).toBe("E_NUMERIC");
    expect((coded as GradtraceError).message).toBe("step 7: gradient has NaN");
    const plain = await pool.run("failPlain", []).catch((e: unknown) => e);
    expect(plain).not.toBeInstanceOf(GradtraceError);
    expect((plain as Error).name).toBe("RangeError");
    expect((plain as Error).message).toBe("plain failure");
    const missing = await pool.run("nope" as "failPlain", []).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/no exported function "nope"/);
  });

  it("moves transferables to the worker and back", async () => {
    const x = new Float64Array([3, 4]);
    const sum = await pool.run("sumSquares", [x], { transfer: [x.buffer] });
    expect(sum).toBe(25);
    expect(x.byteLength).toBe(0); // moved, not copied
    const r = await pool.run("makeBuffer", [5]);
    expect([...r.values]).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(r.threadId).not.toBe(threadId);
  });

  it("runs `threads` tasks at the same time, in different threads", async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const [a, b] = await Promise.all([
      pool.run("rendezvous", [counter, 2]),
      pool.run("rendezvous", [counter, 2]),
    ]);
    expect(a.met && b.met).toBe(true);
    expect(a.threadId).not.toBe(b.threadId);
  });

  it("aborting stops a running task; the pool keeps working", async () => {
    const ac = new AbortController();
    const running = pool.run("spin", [60_000], { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(), 200);
    const err = (await running) as Error;
    expect(err.name).toBe("AbortError");
    expect(await pool.run("sumSquares", [new Float64Array([2])])).toBe(4);
  });

  it("ready() rejects when the task module cannot load; a closed pool refuses work", async () => {
    const broken = createPool({ module: new URL("./does-not-exist.ts", import.meta.url) });
    await expect(broken.ready()).rejects.toThrow(/does-not-exist/);
    await broken.close();
    const p = createPool<Tasks>({ module: new URL("./tasks.ts", import.meta.url) });
    await p.ready();
    await p.close();
    await expect(p.run("sumSquares", [new Float64Array(1)])).rejects.toThrow(/closed/);
    expect(() => createPool({ module: new URL("./tasks.ts", import.meta.url), threads: 0 })).toThrow(
      /threads/,
    );
  });

  it("siblingModule keeps the caller's extension", () => {
    expect(siblingModule("file:///a/dist/serve/engine.js", "analysisWorker").href).toBe(
      "file:///a/dist/serve/analysisWorker.js",
    );
    expect(siblingModule("file:///a/src/serve/engine.ts", "analysisWorker").href).toBe(
      "file:///a/src/serve/analysisWorker.ts",
    );
  });
});
