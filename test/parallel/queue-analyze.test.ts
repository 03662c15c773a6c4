/** @file analyze, the spiked sweep and both reproductions (low-rank-gradients opt-in) on the Redis queue, on a real redis-server with two `gradtrace worker`
 * processes, compared with local runs bit for bit: the exact pass's per-tensor Grams (coordinate ranges' Grams added
 * in range order, two ranges for the large tensor, a NaN step) and the sketched pass's, the analysis JSON written by
 * the CLI, and a `lab spiked --sweep` output. A job naming a trace the workers cannot read fails after its bounded
 * attempts with an error naming the path and the worker; the analyses that run on one machine only refuse --queue.
 * The streaming mode runs in step ranges whose series equal the local pass's bit for bit. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze, analyzeWithSeries } from "../../src/analysis/index.ts";
import { TASK_COORDINATES } from "../../src/analysis/gramPass.ts";
import { main } from "../../src/cli/main.ts";
import { reproduceLowRankGradients, reproducePredictableManifolds } from "../../src/reproduce/index.ts";
import { GradtraceError } from "../../src/core/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { openQueueRun, queueTaskName } from "../../src/parallel/index.ts";
import { createGtraceWriter } from "../../src/trace/index.ts";
import { modeDescription } from "../../src/report/index.ts";
import { writeTrace } from "../analysis/driftingTrace.ts";
import {
  HAVE_REDIS,
  NO_REDIS_MESSAGE,
  startRedis,
  startWorker,
  type TestRedis,
  type TestWorker,
} from "./redis.ts";

if (!HAVE_REDIS) console.warn(NO_REDIS_MESSAGE);

const STEPS = 7;
const NAN_STEP = 3;
/** `big` spans two coordinate ranges (two exact-pass jobs); the others one each. */
const SHAPES: Record<string, number[]> = { big: [TASK_COORDINATES + 777], mat: [11, 13], one: [1] };

/** Bytes of a Float64Array, for bit-for-bit comparisons (−0 and NaN included). */
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.skipIf(!HAVE_REDIS)("analyze and lab spiked --sweep on the Redis queue", () => {
  let redis: TestRedis;
  const workers: TestWorker[] = [];
  let dir: string;
  let trace: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-queue-analyze-"));
    trace = path.join(dir, "run.gtrace");
    const rng = createRng(5);
    const w = createGtraceWriter(trace, {
      tensors: Object.entries(SHAPES).map(([name, shape]) => ({ name, shape })),
      fsync: "none",
    });
    for (let t = 0; t < STEPS; t++) {
      const step: Record<string, Float32Array> = {};
      for (const [name, shape] of Object.entries(SHAPES)) {
        step[name] = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
      }
      if (t === NAN_STEP) step.big[TASK_COORDINATES + 3] = Number.NaN;
      w.append(t, step);
    }
    w.close();
    redis = await startRedis();
    workers.push(...(await Promise.all([startWorker(redis.url), startWorker(redis.url)])));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the exact and the sketched pass on the queue give the local numbers bit for bit", async () => {
    for (const sketch of [undefined, "countsketch:16"]) {
      const options = { gram: true, bootstrap: false, ...(sketch ? { sketch } : {}) } as const;
      const local = await analyzeWithSeries(trace, { ...options, threads: 1 });
      const queued = await analyzeWithSeries(trace, { ...options, queue: { url: redis.url, pollMs: 200 } });
      for (const [name, k] of local.gram!.tensors)
        expect(bits(queued.gram!.tensors.get(name)!.data), name).toEqual(bits(k.data));
      expect(bits(queued.gram!.total.data)).toEqual(bits(local.gram!.total.data));
      expect(JSON.stringify(queued.result)).toBe(JSON.stringify(local.result));
      expect(queued.stepIndices).toEqual([0, 1, 2, 4, 5, 6]); // the NaN step is reported and left out, as locally
    }
    // The ranges ran as jobs on the workers (not on this process).
    expect(workers.map((w) => w.log()).join("")).toMatch(/blockWorker#gramTask \w+: done/);
  });

  it("`gradtrace analyze --queue` writes the same JSON as a local run; what cannot be handed over refuses --queue", async () => {
    const local = path.join(dir, "local.json");
    const queued = path.join(dir, "queued.json");
    expect(
      await main(["node", "gradtrace", "analyze", trace, "--threads", "1", "--json", local, "--quiet"]),
    ).toBe(0);
    expect(
      await main(["node", "gradtrace", "analyze", trace, "--queue", redis.url, "--json", queued, "--quiet"]),
    ).toBe(0);
    expect(fs.readFileSync(queued, "utf8")).toBe(fs.readFileSync(local, "utf8"));
    // The streaming mode cut into step ranges refuses predictors whose state cannot be handed over, before any work.
    const err = await analyze(trace, {
      mode: "streaming",
      window: 4,
      predictors: ["ar8"],
      queue: { url: redis.url },
    }).catch((e: unknown) => e);
    expect((err as GradtraceError).code).toBe("E_UNSUPPORTED");
    expect((err as Error).message).toMatch(
      /run\.gtrace: --queue with the streaming mode: predictor ar8 looks back 9 steps/,
    );
    // A queue job cannot name this machine's folders.
    const refused = await reproducePredictableManifolds({
      outDir: path.join(dir, "pm"),
      budget: "smoke",
      workDir: dir,
      queue: { url: redis.url },
    }).catch((e: unknown) => e);
    expect((refused as GradtraceError).code).toBe("E_ARG");
    expect((refused as Error).message).toMatch(/workDir \/ keepTraces name folders of this machine/);
  });

  it("the streaming mode in step ranges on the queue: the local series and κ bit for bit, spectra inside the merged bound", async () => {
    const long = path.join(dir, "long.gtrace");
    writeTrace(long, 120, { w: [9, 7], b: [5] }, 3, [40, 79]);
    const options = {
      mode: "streaming",
      window: 8,
      fdRows: 2,
      predictors: ["last", "ema0.9", "ema0.9z", "ar2", "lowrank2w8"],
      bootstrap: false,
      matrixGeometry: false,
    } as const;
    const local = await analyzeWithSeries(long, options);
    const queued = await analyzeWithSeries(long, {
      ...options,
      stepRanges: 3,
      queue: { url: redis.url, pollMs: 200 },
    });
    for (const [name, s] of local.series) {
      const q = queued.series.get(name)!;
      expect(bits(q.gradNormSq), name).toEqual(bits(s.gradNormSq));
      for (const id of options.predictors)
        expect(bits(q.error[id]), `${name} ${id}`).toEqual(bits(s.error[id]));
    }
    const pairs = [
      ...local.result.tensors.map((t, i) => [t, queued.result.tensors[i]] as const),
      [local.result.total, queued.result.total] as const,
    ];
    for (const [l, q] of pairs) {
      expect(q.kappa).toEqual(l.kappa);
      expect(q.cosinePredicted).toEqual(l.cosinePredicted);
      expect(q.cosineConsecutive).toBe(l.cosineConsecutive);
      expect(q.windows).toEqual(l.windows);
      // Whole-run spectra: two sketches of the same increments, each inside its stated bound, so their
      // certified r*(ε) intervals overlap.
      for (const [eps, [lo, hi]] of Object.entries(q.increments.bound!.predictableRank)) {
        const [llo, lhi] = l.increments.bound!.predictableRank[eps];
        expect(lo <= lhi && llo <= hi, `${l.name} r*(${eps})`).toBe(true);
      }
    }
    expect(queued.stepIndices).toEqual(local.stepIndices);
    expect(queued.result.mode).toBe("streaming");
    expect(queued.result.options.stepRanges).toBe(3);
    expect(local.result.options.stepRanges).toBeUndefined();
    expect(modeDescription(queued.result)).toMatch(
      /streaming mode \(T = 118, requested\): 3 step ranges on the job queue/,
    );
    // Three range jobs ran on the workers.
    expect(
      workers
        .map((w) => w.log())
        .join("")
        .match(/blockWorker#streamTask \w+: done/g),
    ).toHaveLength(3);
  });

  it("a job whose trace the workers cannot read fails after its bounded attempts, naming the path and the worker", async () => {
    const run = openQueueRun({ url: redis.url, pollMs: 200 });
    const missing = path.join(dir, "not-shared", "run.gtrace");
    try {
      const name = queueTaskName(new URL("../../src/analysis/blockWorker.ts", import.meta.url), "gramTask");
      const task = { tensor: "mat", offset: 0, count: 143, width: 143, positions: [0, 1], kernel: "js" };
      const err = await run
        .submit(name, [{ path: missing, format: "gtrace", steps: [0, 1] }, task])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GradtraceError);
      expect((err as GradtraceError).code).toBe("E_NOT_FOUND");
      const message = (err as Error).message;
      expect(message).toContain(missing);
      expect(message).toMatch(
        new RegExp(`on worker ${os.hostname()}:\\d+ \\(every worker must see the inputs at the same path`),
      );
      expect(message).toMatch(/failed after 3 attempts\)$/);
      // A relative path is refused at once by the task's validator (a worker runs in another directory).
      const relative = await run
        .submit(name, [{ path: "run.gtrace", format: "gtrace", steps: [0, 1] }, task])
        .catch((e: unknown) => e);
      expect((relative as GradtraceError).code).toBe("E_ARG");
      expect((relative as Error).message).toMatch(
        /the trace path must be absolute.*failed after 1 attempt\)$/s,
      );
    } finally {
      await run.close();
    }
  });

  it("`gradtrace lab spiked --sweep … --queue` writes the local pool's numbers", async () => {
    const argv = [
      "node",
      "gradtrace",
      "lab",
      "spiked",
      "--n",
      "40",
      "--d",
      "30",
      "--m",
      "36",
      "--steps",
      "3",
    ];
    const sweep = ["--sweep", "nu=0:0.1:0.3", "--quiet"];
    const localDir = path.join(dir, "sweep-local");
    const queuedDir = path.join(dir, "sweep-queued");
    expect(await main([...argv, ...sweep, "--jobs", "2", "--out", localDir])).toBe(0);
    expect(await main([...argv, ...sweep, "--queue", redis.url, "--out", queuedDir])).toBe(0);
    const runs = (d: string) =>
      (
        JSON.parse(fs.readFileSync(path.join(d, "sweep-nu.json"), "utf8")) as { runs: { seconds?: number }[] }
      ).runs.map(({ seconds: _, ...rest }) => rest);
    expect(runs(queuedDir)).toHaveLength(4);
    expect(runs(queuedDir)).toEqual(runs(localDir));
  });

  /** Records without wall times (`seconds`, the one thing that differs between runs). */
  const strip = (x: unknown) => JSON.parse(JSON.stringify(x, (k, v) => (k === "seconds" ? undefined : v)));

  it("`reproduce predictable-manifolds` (smoke budget) on the queue gives the local pool's records and verdicts", async () => {
    const local = await reproducePredictableManifolds({
      outDir: path.join(dir, "pm-local"),
      budget: "smoke",
      jobs: 2,
    });
    const queued = await reproducePredictableManifolds({
      outDir: path.join(dir, "pm-queued"),
      budget: "smoke",
      queue: { url: redis.url, pollMs: 200 },
    });
    expect(queued.runs).toHaveLength(local.runs.length);
    expect(strip(queued.runs)).toEqual(strip(local.runs));
    expect(queued.verdicts).toEqual(local.verdicts);
    expect(workers.map((w) => w.log()).join("")).toMatch(/predictable-manifolds\/runTask#runPlan \w+: done/);
  }, 120_000);

  // Its jobs are spiked-lab configurations, the sweep's task tested above; ~40 s here, so opt-in.
  it.runIf(process.env.GRADTRACE_TEST_QUEUE_REPRODUCE === "1")(
    "`reproduce low-rank-gradients` (smoke budget) on the queue gives the local pool's records and verdicts (opt-in: GRADTRACE_TEST_QUEUE_REPRODUCE=1)",
    async () => {
      const local = await reproduceLowRankGradients({
        outDir: path.join(dir, "lrg-local"),
        budget: "smoke",
        jobs: 2,
      });
      const queued = await reproduceLowRankGradients({
        outDir: path.join(dir, "lrg-queued"),
        budget: "smoke",
        queue: { url: redis.url, pollMs: 200 },
      });
      expect(strip(queued.records)).toEqual(strip(local.records));
      expect(queued.verdicts).toEqual(local.verdicts);
    },
    240_000,
  );
});
