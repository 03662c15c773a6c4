/** @file The queue monitor end to end on a real redis-server with a `gradtrace worker`: what a submitter publishes
 * about its run (publish.ts) and what the monitor (`readQueueOverview`) and the dashboard's `/api/queue` read back
 * match the submitter's own final QueueStatus — a finished run is done with done = total, a failing run is failed
 * with its job's message, a submitter killed mid-run (a `gradtrace lab spiked --sweep --queue` process, SIGKILL)
 * turns stale, its label is the command's; serve keeps serving while Redis is down and the view reconnects; no
 * response shows the password. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMany } from "../../src/lab/index.ts";
import { type QueueOverview, type QueueStatus, readQueueOverview } from "../../src/parallel/index.ts";
import type { ApiError } from "../../src/serve/api-types.ts";
import { traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { spawnCli } from "../dist.ts";
import { rawGet } from "../serve/http.ts";
import {
  HAVE_REDIS,
  NO_REDIS_MESSAGE,
  REDIS_PASSWORD,
  startRedis,
  startWorker,
  type TestRedis,
  type TestWorker,
} from "./redis.ts";

if (!HAVE_REDIS) console.warn(NO_REDIS_MESSAGE);

/** Tiny configurations (a few ms each): the test is about the bookkeeping, not the lab. */
const CONFIGS = Array.from({ length: 12 }, (_, i) => ({ n: 20, d: 10, m: 8, steps: 1, nu: 0.1, seed: i }));

/** The first defined value of `probe`, polled every 100 ms for up to 30 s (throws `why()` after). */
async function eventually<T>(probe: () => Promise<T | undefined>, why: () => string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 100));
  }
}

const countsOf = (s: QueueStatus): QueueStatus => ({
  total: s.total,
  queued: s.queued,
  running: s.running,
  done: s.done,
  failed: s.failed,
});

describe.skipIf(!HAVE_REDIS)("the queue monitor (published runs, /api/queue)", () => {
  let redis: TestRedis;
  let worker: TestWorker;
  let server: RunningServer;
  let dir: string;

  const apiQueue = async () => {
    const res = await rawGet(server.port, "/api/queue");
    return {
      status: res.status,
      text: res.body.toString("utf8"),
      json: res.json<QueueOverview & ApiError>(),
    };
  };

  beforeAll(async () => {
    redis = await startRedis();
    worker = await startWorker(redis.url);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-queue-monitor-"));
    server = await startServer({ path: dir, webDir: null, engine: traceEngine, queue: { url: redis.url } });
  });

  afterAll(async () => {
    await server?.close();
    await worker?.kill();
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a finished run is published as done with the submitter's final counts, in the monitor and /api/queue", async () => {
    let last: QueueStatus | null = null;
    await runMany(CONFIGS, {
      queue: {
        url: redis.url,
        pollMs: 200,
        label: "monitor test: 12 configurations",
        onStatus: (s) => (last = s),
      },
    });
    expect(last).not.toBeNull();
    const final = countsOf(last!);
    expect(final).toEqual({ total: 12, queued: 0, running: 0, done: 12, failed: 0 });

    const overview = await readQueueOverview(redis.url);
    const run = overview.runs.find((r) => r.label === "monitor test: 12 configurations")!;
    expect(run).toBeDefined();
    expect(countsOf(run)).toEqual(final);
    expect(run).toMatchObject({
      state: "done",
      stale: false,
      error: null,
      submitter: `${os.hostname()}:${process.pid}`,
    });
    expect(run.updated).toBeGreaterThanOrEqual(run.started);
    expect(run.elapsedMs).toBe(run.updated - run.started);
    // The worker names itself host:pid in its log; the monitor lists it under that name.
    const name = /worker (\S+): taking jobs/.exec(worker.log())![1];
    expect(overview.workers.map((w) => w.name)).toEqual([name]);
    expect(overview.queue).toBe(`redis://127.0.0.1:${redis.port}`);
    // Collected jobs are deleted by the submitter before it hands their results over: nothing left waiting, running,
    // failed or completed once the run has returned.
    expect(overview.jobs).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 });

    const res = await apiQueue();
    expect(res.status).toBe(200);
    const served = res.json.runs.find((r) => r.id === run.id)!;
    expect(countsOf(served)).toEqual(final);
    expect(served.state).toBe("done");
    expect(res.json.workers.map((w) => w.name)).toEqual([name]);
    expect(res.text).not.toContain(REDIS_PASSWORD);
    const info = await rawGet(server.port, "/api/server");
    expect(info.json()).toEqual({ queue: `redis://127.0.0.1:${redis.port}` });
  });

  it("a failing run is published as failed with its job's message", async () => {
    let last: QueueStatus | null = null;
    const err = await runMany([CONFIGS[0], { ...CONFIGS[1], n: 0 }], {
      queue: { url: redis.url, pollMs: 200, label: "monitor test: bad data", onStatus: (s) => (last = s) },
    }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const { json } = await apiQueue();
    const run = json.runs.find((r) => r.label === "monitor test: bad data")!;
    expect(run.state).toBe("failed");
    expect(run.error).toMatch(/config\.n must be a positive integer/);
    expect(run.error).toBe((err as Error).message);
    expect(countsOf(run)).toEqual(countsOf(last!));
    expect(run.failed).toBeGreaterThanOrEqual(1);
  });

  it("a submitter killed mid-run stays 'running' in Redis and is shown stale; its label is the command's", async () => {
    // With no worker the jobs wait, so the run is certainly unfinished when its submitter dies.
    await worker.kill();
    const out = path.join(dir, "sweep-out");
    const cli = spawnCli([
      "lab",
      "spiked",
      "--sweep",
      "nu=0,0.1,0.2",
      "--n",
      "20",
      "--d",
      "10",
      "--m",
      "8",
      "--steps",
      "1",
      "--queue",
      redis.url,
      "--out",
      out,
    ]);
    const label = `lab spiked --sweep nu=0,0.1,0.2 --seeds 1 --out ${out}`;
    const run = await eventually(
      async () => (await readQueueOverview(redis.url)).runs.find((r) => r.label === label && r.total === 3),
      () => `no run published (submitter exit ${cli.child.exitCode}):\n${cli.err()}`,
    );
    cli.child.kill("SIGKILL");
    await cli.exited;
    expect(run).toMatchObject({
      state: "running",
      queued: 3,
      done: 0,
      submitter: `${os.hostname()}:${cli.child.pid}`,
    });
    // Judged 40 s later (a moved clock): past the 30 s threshold, its record has not moved.
    const later = await readQueueOverview(redis.url, { now: () => Date.now() + 40_000 });
    const stale = later.runs.find((r) => r.id === run.id)!;
    expect(stale).toMatchObject({ state: "running", stale: true, updated: run.updated });
    expect(stale.sinceUpdateMs).toBeGreaterThanOrEqual(40_000);
    // The finished runs are not stale however old.
    expect(later.runs.filter((r) => r.state !== "running").every((r) => !r.stale)).toBe(true);
    expect(later.workers).toEqual([]);
  });

  it("Redis down: /api/queue answers 503 E_QUEUE naming the queue without its password, the rest is served; it recovers", async () => {
    await redis.stop();
    try {
      const res = await apiQueue();
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("E_QUEUE");
      expect(res.json.error.message).toContain(`redis://127.0.0.1:${redis.port}`);
      expect(res.text).not.toContain(REDIS_PASSWORD);
      expect((await rawGet(server.port, "/api/runs")).status).toBe(200);
    } finally {
      await redis.start();
    }
    const back = await eventually(
      async () => ((await apiQueue()).status === 200 ? true : undefined),
      () => "/api/queue did not recover after Redis came back",
    );
    expect(back).toBe(true);
  });

  it("a server started without --queue answers /api/queue with a clear 404", async () => {
    const plain = await startServer({ path: dir, webDir: null, engine: traceEngine });
    try {
      const res = await rawGet(plain.port, "/api/queue");
      expect(res.status).toBe(404);
      expect(res.json<ApiError>().error.message).toMatch(/--queue redis:\/\/HOST:PORT/);
      expect((await rawGet(plain.port, "/api/server")).json()).toEqual({ queue: null });
    } finally {
      await plain.close();
    }
  });
});
