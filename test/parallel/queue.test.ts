/** @file The Redis job queue end to end (src/parallel/queue, `gradtrace worker`), on a real redis-server with two
 * worker processes: results equal the local run bit for bit even when a worker is killed mid-job (its job is retried
 * on the other); a job with bad data fails at its first attempt with the task's own error; a worker that cannot
 * read an input retries a bounded number of times, then the submitter gets a clear error; Redis restarted without
 * its data mid-run → the submitter adds the lost jobs again and completes, identically; Redis gone for good → a
 * clear E_QUEUE error after the reconnection timeout; the password never appears in a message. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/index.ts";
import { runMany, type SpikedResult } from "../../src/lab/index.ts";
import { openQueueRun, queueTaskName } from "../../src/parallel/index.ts";
import {
  HAVE_REDIS,
  NO_REDIS_MESSAGE,
  REDIS_PASSWORD,
  redisKeys,
  startRedis,
  startWorker,
  type TestRedis,
  type TestWorker,
} from "./redis.ts";

if (!HAVE_REDIS) console.warn(NO_REDIS_MESSAGE);

/** Small configurations (about half a second each here), distinct seeds and spikes. */
const CONFIGS = Array.from({ length: 6 }, (_, i) => ({
  n: 100,
  d: 60,
  m: 50,
  steps: 5,
  nu: 0.05 * i,
  seed: i,
}));

/** The results without their wall times (the only field that may differ between runs). */
function numbers(results: readonly SpikedResult[]) {
  return results.map(({ seconds: _, ...rest }) => rest);
}

describe.skipIf(!HAVE_REDIS)("the Redis queue with two gradtrace workers", () => {
  let redis: TestRedis;
  const workers: TestWorker[] = [];
  let local: SpikedResult[];

  beforeAll(async () => {
    redis = await startRedis();
    workers.push(await startWorker(redis.url), await startWorker(redis.url));
    local = await runMany(CONFIGS, { jobs: 2 }); // the local worker pool
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.dispose();
  });

  it("a sweep equals the local run bit for bit, with one worker killed mid-job (its job runs again elsewhere)", async () => {
    const statuses: string[] = [];
    const queued = runMany(CONFIGS, {
      queue: { url: redis.url, pollMs: 200, onStatus: (s) => statuses.push(`${s.done}/${s.total}`) },
    });
    const [victim, survivor] = workers;
    await victim.waitFor(/started/);
    const killedJob = /runConfig (\w+): started/.exec(victim.log())![1];
    await victim.kill("SIGKILL");
    const results = await queued;
    expect(numbers(results)).toEqual(numbers(local));
    // The killed worker's job was put back by the stalled-job check and completed by the other worker.
    expect(survivor.log()).toMatch(new RegExp(`${killedJob}: done`));
    expect(victim.log()).not.toMatch(new RegExp(`${killedJob}: done`));
    expect(statuses.at(-1)).toBe(`${CONFIGS.length}/${CONFIGS.length}`);
    // Nothing computed twice into the output: each job completed once (the killed attempt never stored a result),
    // the run never counted more jobs than configurations, and every stored result was collected and deleted.
    const completions = workers.map((w) => w.log().match(/runConfig \w+: done/g)?.length ?? 0);
    expect(completions.reduce((a, b) => a + b, 0)).toBe(CONFIGS.length);
    expect(statuses.every((s) => Number(s.split("/")[1]) <= CONFIGS.length)).toBe(true);
    expect(await redisKeys(redis.url, "gradtrace:result:*")).toEqual([]);
    workers[0] = await startWorker(redis.url);
  });

  it("a job with bad data fails at its first attempt with the task's own error code and message", async () => {
    const err = await runMany([{ n: 0 }], { queue: { url: redis.url, pollMs: 200 } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GradtraceError);
    expect((err as GradtraceError).code).toBe("E_ARG");
    expect((err as Error).message).toMatch(/config\.n must be a positive integer.*failed after 1 attempt\)/s);
  });

  it("the same job submitted twice, before and after it finished, resolves every time with the same result", async () => {
    const run = openQueueRun({ url: redis.url, pollMs: 200 });
    try {
      const name = queueTaskName(
        new URL("../../src/lab/spiked/sweepWorker.ts", import.meta.url),
        "runConfig",
      );
      const [a, b] = (await Promise.all([
        run.submit(name, [CONFIGS[1]]),
        run.submit(name, [CONFIGS[1]]),
      ])) as SpikedResult[];
      const c = (await run.submit(name, [CONFIGS[1]])) as SpikedResult;
      expect(numbers([a, b, c])).toEqual(numbers([local[1], local[1], local[1]]));
    } finally {
      await run.close();
    }
  });

  it("a job naming a task the workers do not have fails at once, naming the task", async () => {
    const run = openQueueRun({ url: redis.url, pollMs: 200 });
    try {
      const name = queueTaskName(new URL("../../src/core/index.ts", import.meta.url), "mat");
      const err = await run.submit(name, [2, 2]).catch((e: unknown) => e);
      expect((err as GradtraceError).code).toBe("E_ARG");
      expect((err as Error).message).toMatch(/core\/index#mat.*this worker has no such task/);
    } finally {
      await run.close();
    }
  });

  it("Redis restarted without its data mid-run: the lost jobs are added again and the run completes identically", async () => {
    const logs: string[] = [];
    let running!: () => void;
    const someRunning = new Promise<void>((r) => {
      running = r;
    });
    const queued = runMany(CONFIGS, {
      queue: {
        url: redis.url,
        pollMs: 200,
        log: (m) => logs.push(m),
        onStatus: (s) => {
          if (s.running > 0 && s.done < s.total) running();
        },
      },
    });
    await someRunning;
    await redis.stop();
    await new Promise((r) => setTimeout(r, 300));
    await redis.start();
    const results = await queued;
    expect(numbers(results)).toEqual(numbers(local));
    expect(logs.join("\n")).toMatch(/missing \(Redis restarted without its data\?\); adding them again/);
  });

  it("Redis gone for good: the run fails with E_QUEUE after the reconnection timeout; no message shows the password", async () => {
    const logs: string[] = [];
    let submitted!: () => void;
    const inQueue = new Promise<void>((r) => {
      submitted = r;
    });
    const queued = runMany(CONFIGS, {
      queue: {
        url: redis.url,
        pollMs: 100,
        reconnectTimeoutMs: 1500,
        log: (m) => logs.push(m),
        onStatus: (s) => {
          if (s.total === CONFIGS.length) submitted();
        },
      },
    }).catch((e: unknown) => e);
    await inQueue;
    await redis.stop();
    const err = await queued;
    await redis.start();
    expect((err as GradtraceError).code).toBe("E_QUEUE");
    expect((err as Error).message).toMatch(
      /the queue at redis:\/\/127\.0\.0\.1:\d+ has not answered for 2 s/,
    );
    for (const text of [(err as Error).message, ...logs]) expect(text).not.toContain(REDIS_PASSWORD);
    const wrong = openQueueRun({ url: `redis://:wrong-password@127.0.0.1:${redis.port}` });
    const refused = await wrong.ready().catch((e: unknown) => e);
    await wrong.close();
    expect((refused as GradtraceError).code).toBe("E_QUEUE");
    expect((refused as Error).message).toMatch(/refused the password/);
    expect((refused as Error).message).not.toContain("wrong-password");
  });
});
