/** @file Sweeps, the worker pool, training bookkeeping, the CLI and the trace output of the spiked lab, at tiny
 * sizes: sweep specs parse to the intended grids, mean ± sd equal those recomputed from the individual runs, the
 * process pool returns exactly what in-process runs return, one GD step moves W by −lr·G, and `--trace` stores the
 * gradients of the updates. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { GradtraceError } from "../../src/core/errors.ts";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng, deriveSeed } from "../../src/core/rng.ts";
import { resolveActivation } from "../../src/lab/spiked/activations.ts";
import { generateSpikedData, STREAM } from "../../src/lab/spiked/data.ts";
import { defaultAnalyzeSteps, runSpiked, sampleRows } from "../../src/lab/spiked/experiment.ts";
import { initNetwork } from "../../src/lab/spiked/model.ts";
import { runMany } from "../../src/lab/spiked/pool.ts";
import { parseSweep, runSweep, sweepCsv } from "../../src/lab/spiked/sweep.ts";
import { openTrace } from "../../src/trace/index.ts";
import { gradientFloat64 } from "./spikedTestUtils.ts";

const tiny = { n: 40, d: 30, m: 36, gemm: "float64" as const, topK: 4 };
const dir = mkdtempSync(join(tmpdir(), "spiked-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseSweep", () => {
  it.each([
    ["nu=0:0.05:0.2", "nu", [0, 0.05, 0.1, 0.15, 0.2]],
    ["alpha=0,0.5556, 0.8889", "alpha", [0, 0.5556, 0.8889]],
    ["weight-decay=0:0.01:0.03", "weightDecay", [0, 0.01, 0.02, 0.03]],
    ["activation=relu,tanh", "activation", ["relu", "tanh"]],
    ["dependent-reading=renormalised,scaled", "dependentReading", ["renormalised", "scaled"]],
    ["bulk-normalise=mean1,none", "bulkNormalise", ["mean1", "none"]],
    ["nu=0.1:0.1:0.1", "nu", [0.1]],
  ])("%s", (text, param, values) => {
    expect(parseSweep(text)).toEqual({ param, values });
  });
  it.each(["nu", "nu=", "foo=1,2", "nu=0:0:1", "nu=1:0.1:0", "alpha=a,b"])("rejects %s", (text) => {
    expect(() => parseSweep(text)).toThrow(/--sweep/);
  });
});

describe("training bookkeeping", () => {
  it("one full-batch step is W ← W − lr·∇L, and lossCurve[1] is the loss at the new W", async () => {
    const lr = 0.3;
    const got = await runSpiked({ ...tiny, nu: 0.2, steps: 1, lr, weightDecay: 0.01, analyzeSteps: [0, 1] });
    const data = generateSpikedData({ n: 40, d: 30, nu: 0.2 });
    const net = initNetwork({ m: 36, d: 30 });
    const act = resolveActivation("relu");
    const g0 = gradientFloat64(data, net, act, { weightDecay: 0.01 });
    expect(got.lossCurve[0]).toBeCloseTo(g0.loss, 12);
    for (let t = 0; t < net.w.data.length; t++) net.w.data[t] -= lr * g0.grad.data[t];
    const g1 = gradientFloat64(data, net, act, { weightDecay: 0.01 });
    expect(got.lossCurve[1]).toBeCloseTo(g1.loss, 12);
    expect(got.records[1].dataLoss).toBeCloseTo(g1.dataLoss, 12);
    expect(got.records.map((r) => r.step)).toEqual([0, 1]);
  });

  it("a mini-batch update is the gradient over the sampled rows (distinct, from the batches stream)", async () => {
    const grads: Mat[] = [];
    await runSpiked(
      { ...tiny, nu: 0.2, steps: 2, lr: 0.1, batchSize: 7, analyzeSteps: [0] },
      { onUpdate: (_, g) => grads.push(g) },
    );
    const data = generateSpikedData({ n: 40, d: 30, nu: 0.2 });
    const net = initNetwork({ m: 36, d: 30 });
    const rng = createRng(deriveSeed(0, STREAM.batches));
    const act = resolveActivation("relu");
    for (let step = 0; step < 2; step++) {
      const rows = sampleRows(rng, 40, 7);
      expect(new Set(rows).size).toBe(7);
      const x = mat(7, 30);
      rows.forEach((r, i) => {
        x.data.set(data.x.data.subarray(r * 30, (r + 1) * 30), i * 30);
      });
      const y = Float64Array.from(rows, (r) => data.y[r]);
      const g = gradientFloat64({ x, y }, net, act);
      for (let t = 0; t < g.grad.data.length; t++)
        expect(grads[step].data[t]).toBeCloseTo(g.grad.data[t], 12);
      for (let t = 0; t < net.w.data.length; t++) net.w.data[t] -= 0.1 * g.grad.data[t];
    }
  });

  it("small-lr gradient descent decreases the loss at every step", async () => {
    const got = await runSpiked({
      ...tiny,
      nu: 0.1,
      steps: 8,
      lr: 0.2,
      analyzeSteps: [8],
      fullSpectrum: false,
    });
    for (let i = 1; i < got.lossCurve.length; i++)
      expect(got.lossCurve[i]).toBeLessThan(got.lossCurve[i - 1]);
  });

  it("default analysis steps: 0, log-spaced, and the last step", () => {
    expect(defaultAnalyzeSteps(0)).toEqual([0]);
    const s = defaultAnalyzeSteps(100);
    expect(s[0]).toBe(0);
    expect(s[s.length - 1]).toBe(100);
    expect(new Set(s).size).toBe(s.length);
  });
});

describe("runSweep and the pool", () => {
  it("mean ± sd per point equal the values recomputed from the individual runs; CSV and SVG are written", async () => {
    const out = join(dir, "sweep");
    const res = await runSweep({
      base: { ...tiny, fullSpectrum: false },
      sweep: parseSweep("nu=0,0.3"),
      series: [
        { label: "relu", config: { activation: "relu" } },
        { label: "tanh", config: { activation: "tanh" } },
      ],
      seeds: 3,
      jobs: 1,
      outDir: out,
      name: "t",
    });
    expect(res.points.length).toBe(4);
    const p = res.points.find((q) => q.series === "tanh" && q.x === 0.3)!;
    const direct = await Promise.all(
      [0, 1, 2].map((seed) => runSpiked({ ...tiny, fullSpectrum: false, nu: 0.3, activation: "tanh", seed })),
    );
    const xs = direct.map((r) => r.s1Norm);
    const mean = xs.reduce((s, v) => s + v, 0) / 3;
    const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / 2);
    expect(p.mean.s1Norm).toBeCloseTo(mean, 12);
    expect(p.sd.s1Norm).toBeCloseTo(sd, 12);
    const csv = sweepCsv(res).trim().split("\n");
    expect(csv.length).toBe(5);
    expect(csv[0].startsWith("series,nu,seeds,sigma1_mean,sigma1_sd")).toBe(true);
    expect(readFileSync(join(out, "t.svg"), "utf8")).toMatch(/^<svg /);
    expect(JSON.parse(readFileSync(join(out, "t.json"), "utf8")).points.length).toBe(4);
  });

  it("two worker threads return exactly the in-process results", async () => {
    const configs = [0, 0.2, 0.4].map((nu) => ({ ...tiny, nu, fullSpectrum: false }));
    const pooled = await runMany(configs, { jobs: 2 });
    const local = await runMany(configs, { jobs: 1 });
    expect(pooled.map((r) => r.singularValues)).toEqual(local.map((r) => r.singularValues));
    expect(pooled.map((r) => r.cosResidue)).toEqual(local.map((r) => r.cosResidue));
  });

  it("a configuration that fails in a worker thread rejects with the same GradtraceError as in-process", async () => {
    const configs = [
      { ...tiny, fullSpectrum: false },
      { ...tiny, n: 0 },
    ];
    const inThread = await runMany(configs, { jobs: 1 }).catch((e: unknown) => e);
    const pooled = await runMany(configs, { jobs: 2 }).catch((e: unknown) => e);
    expect(inThread).toBeInstanceOf(GradtraceError);
    expect(pooled).toBeInstanceOf(GradtraceError);
    expect((pooled as GradtraceError).code).toBe((inThread as GradtraceError).code);
    expect((pooled as GradtraceError).message).toBe((inThread as GradtraceError).message);
  });
});

describe("gradtrace lab spiked", () => {
  it("--json writes the documented fields, equal to runSpiked's", async () => {
    const file = join(dir, "one.json");
    const argv = ["node", "gradtrace", "lab", "spiked", "--n", "40", "--d", "30", "--m", "36", "--nu", "0.3"];
    const code = await main([...argv, "--gemm", "float64", "--top-k", "4", "--json", file, "--quiet"]);
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(file, "utf8"));
    const direct = await runSpiked({ ...tiny, nu: 0.3 });
    for (const key of [
      "singularValues",
      "cosResidue",
      "cosSpike",
      "energyInSpan",
      "effectiveRank",
      "stableRank",
      "s1Norm",
      "s2Norm",
      "errNorm",
    ]) {
      expect(json[key]).toEqual(direct[key as keyof typeof direct]);
    }
    expect(json.config).toMatchObject({ n: 40, d: 30, m: 36, nu: 0.3, activation: "relu", scaling: "ntk" });
    expect(await main([...argv, "--json", file, "--quiet"])).toBe(4); // exists, no --force
    expect(await main([...argv, "--activation", "swish"])).toBe(2);
  });

  it("--trace stores ∇W of every update (readable by the trace layer)", async () => {
    const traceDir = join(dir, "trace");
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
      "--gemm",
      "float64",
    ];
    expect(await main([...argv, "--steps", "3", "--lr", "0.5", "--trace", traceDir, "--quiet"])).toBe(0);
    const grads: Mat[] = [];
    await runSpiked({ ...tiny, steps: 3, lr: 0.5 }, { onUpdate: (_, g) => grads.push(g) });
    const reader = openTrace(join(traceDir, "spiked.gtrace"));
    expect(reader.info.steps).toEqual([0, 1, 2]);
    for (let s = 0; s < 3; s++) {
      const stored = reader.readTensor(s, "W");
      expect(stored.length).toBe(36 * 30);
      let err = 0;
      for (let t = 0; t < stored.length; t++) err = Math.max(err, Math.abs(stored[t] - grads[s].data[t]));
      expect(err).toBeLessThan(1e-6 * Math.max(...Array.from(grads[s].data, Math.abs)));
    }
  });
});
