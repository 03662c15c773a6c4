/** @file The Redis job queue's cost (docs/distributed.md): a 40-configuration spiked sweep (10 values of ν × 4 seeds)
 * through the queue with two `gradtrace worker` processes (one job at a time each: this machine's 2 cores) against
 * the same sweep on the local worker pool (2 threads), both from the compiled package (dist/), measured in this run,
 * alternating, the faster of two passes each. The workers are long-lived (started once and warmed by one small run,
 * as on a cluster); the local pool starts its threads on every sweep, as `gradtrace lab spiked --sweep` does.
 * - Overhead per job, for each: the time the 2 slots spend outside the configurations' own computation (each
 *   result's `seconds`, timed where it ran), per job: (2 · T_wall − Σ seconds) / 40. For the queue that is the
 *   queue's cost (round trips, serialization, waiting for the next job); for the pool, its start-up and hand-offs.
 *   It does not depend on how fast each side computed, which varies under load.
 * - A row times 40 near-empty configurations through the queue: almost all queue round trips.
 * - The streaming mode in step ranges: a long trace (2,000 steps × 6,144 float32 coordinates, two tensors) analyzed
 *   locally (one pass, this process) and through the queue cut into 2 and 8 step ranges (each range replays the steps
 *   before it: docs/distributed.md), wall times and their ratio to the local pass; κ is checked equal bit for bit.
 * Needs redis-server and a built dist/ (`npm run build`). GRADTRACE_BENCH_QUICK=1: smaller configurations, one pass. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO, requireBuilt } from "../test/dist.ts";
import { startRedis, startWorker, type TestRedis, type TestWorker } from "../test/parallel/redis.ts";
import type { BenchRow } from "./types.ts";

const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
const JOBS = 40;
/** A few tenths of a second each here (the paper's size takes 1–3 s: the queue's share is smaller there). */
const SIZE = quick ? { n: 80, d: 60, m: 80, steps: 2 } : { n: 150, d: 100, m: 150, steps: 3 };
const NUS = Array.from({ length: 10 }, (_, i) => i * 0.05);
const TRIVIAL = { n: 8, d: 4, m: 4, steps: 1 };

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** A timed sweep: its wall time and the sum of its configurations' own times, s. */
interface Timed {
  wall: number;
  compute: number;
}

/** ms per job the 2 slots spend outside the configurations. */
const overhead = (t: Timed) => ((2 * t.wall - t.compute) * 1000) / JOBS;

/** A drifting gradient trace for the streaming rows: a few slowly rotating directions plus noise, float32. */
function writeLongTrace(lib: typeof import("../src/index.ts"), file: string, steps: number): void {
  const shapes = { w: [64, 64], b: [2048] };
  let s = 12345;
  const noise = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const w = lib.createGtraceWriter(file, {
    tensors: Object.entries(shapes).map(([name, shape]) => ({ name, shape })),
    fsync: "none",
  });
  for (let t = 0; t < steps; t++) {
    const step: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const g = new Float32Array(n);
      for (let i = 0; i < n; i++)
        g[i] = Math.cos(0.01 * t + (i % 7)) + Math.sin(0.003 * t * (i % 3)) + 0.3 * noise();
      step[name] = g;
    }
    w.append(t, step);
  }
  w.close();
}

async function streamingRows(
  lib: typeof import("../src/index.ts"),
  queue: { url: string },
): Promise<BenchRow[]> {
  const steps = quick ? 600 : 2000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-queue-stream-"));
  try {
    const file = path.join(dir, "long.gtrace");
    writeLongTrace(lib, file, steps);
    const options = { mode: "streaming", bootstrap: false, matrixGeometry: false } as const;
    let local: Awaited<ReturnType<typeof lib.analyze>> | null = null;
    const localWall = await seconds(async () => {
      local = await lib.analyze(file, options);
    });
    const rows: BenchRow[] = [
      {
        name: `queue: streaming analysis of ${steps} steps × 6,144 coordinates, one local pass`,
        value: localWall,
        unit: "s",
        note: `window ${local!.options.window}, ℓ = ${local!.options.fdRows}`,
      },
    ];
    for (const ranges of [2, 8]) {
      let queued: Awaited<ReturnType<typeof lib.analyze>> | null = null;
      const wall = await seconds(async () => {
        queued = await lib.analyze(file, { ...options, queue, stepRanges: ranges });
      });
      if (JSON.stringify(queued!.total.kappa) !== JSON.stringify(local!.total.kappa)) {
        throw new Error(`streaming on the queue (${ranges} ranges): κ differs from the local pass`);
      }
      rows.push({
        name: `queue: the same streaming analysis, ${ranges} step ranges, 2 workers × 1`,
        value: wall,
        unit: "s",
        ratio: localWall / wall,
        reference: "one local pass",
        note: "κ equal bit for bit; each range replays the steps before it",
      });
    }
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  requireBuilt();
  const lib = (await import(
    pathToFileURL(path.join(REPO, "dist", "index.js")).href
  )) as typeof import("../src/index.ts");
  type Options = Parameters<typeof lib.runSweep>[0];
  const sweep = (base: Options["base"], values: number[], seeds: number, more: Partial<Options>) =>
    lib.runSweep({ base, sweep: { param: "nu", values }, seeds, ...more });
  let redis: TestRedis | null = null;
  const workers: TestWorker[] = [];
  try {
    redis = await startRedis();
    // Production lock settings (the test helper's short ones would add lock traffic).
    const flags = ["--lock-duration", "30000", "--stalled-interval", "30000", "--concurrency", "1"];
    workers.push(...(await Promise.all([startWorker(redis.url, flags), startWorker(redis.url, flags)])));
    const queue = { url: redis.url };
    await sweep({ ...TRIVIAL, seed: 500 }, [0, 0.1], 2, { queue }); // loads the task module in the workers' threads
    const timed = async (more: Partial<Options>): Promise<Timed> => {
      const t0 = performance.now();
      const r = await sweep(SIZE, NUS, JOBS / NUS.length, more);
      return { wall: (performance.now() - t0) / 1000, compute: r.runs.reduce((a, x) => a + x.seconds, 0) };
    };
    let pool: Timed = { wall: Number.POSITIVE_INFINITY, compute: 0 };
    let queued: Timed = { wall: Number.POSITIVE_INFINITY, compute: 0 };
    for (let pass = 0; pass < (quick ? 1 : 2); pass++) {
      const p = await timed({ jobs: 2 });
      if (p.wall < pool.wall) pool = p;
      const q = await timed({ queue });
      if (q.wall < queued.wall) queued = q;
    }
    const trivial = await seconds(() => sweep({ ...TRIVIAL, seed: 700 }, NUS, JOBS / NUS.length, { queue }));
    const size = `n ${SIZE.n}, d ${SIZE.d}, m ${SIZE.m}, ${SIZE.steps} steps`;
    const streaming = await streamingRows(lib, queue);
    return [
      {
        name: `queue: ${JOBS}-configuration spiked sweep, local pool (2 threads)`,
        value: pool.wall,
        unit: "s",
        note: `${size}; ${((pool.compute * 1000) / JOBS).toFixed(0)} ms per configuration; outside them ${overhead(pool).toFixed(1)} ms per job (start-up included)`,
      },
      {
        name: `queue: ${JOBS}-configuration spiked sweep, Redis queue (2 workers × 1)`,
        value: queued.wall,
        unit: "s",
        ratio: pool.wall / queued.wall,
        reference: "local pool, same sweep",
        note: `${((queued.compute * 1000) / JOBS).toFixed(0)} ms per configuration; outside them ${overhead(queued).toFixed(1)} ms per job`,
      },
      {
        name: "queue: overhead per job, Redis queue",
        value: overhead(queued),
        unit: "ms",
        note: `(2 · T_wall − Σ configuration seconds) / ${JOBS}; local pool: ${overhead(pool).toFixed(1)} ms`,
      },
      {
        name: `queue: ${JOBS} near-empty configurations through the queue`,
        value: (trivial * 2 * 1000) / JOBS,
        unit: "ms/job",
        note: "n 8, d 4, m 4, 1 step: wall · 2 slots / 40, almost all queue round trips",
      },
      ...streaming,
    ];
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.dispose();
  }
}
