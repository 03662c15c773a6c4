/** The streaming pass cut into step ranges (the queue's streaming mode, run here in process) against one pass over
 * all the steps: the per-step series, cosines and windows bit for bit — including EMAs (bank and zero-initialised),
 * ar<p>'s whole-history normal equations, NaN steps next to range boundaries, and sketched steps (the JavaScript
 * kernel) — and the merged Frequent Directions sketches' spectra within their stated bound of the exact spectra. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessRunner } from "../../src/analysis/taskRunner.ts";
import { streamSteps } from "../../src/analysis/streamPass.ts";
import { replayPlan, type StreamRangePass } from "../../src/analysis/streamRangeTask.ts";
import { stepRangeBounds, streamInRanges } from "../../src/analysis/streamRanges.ts";
import {
  type FdSpectrum,
  GradtraceError,
  mat,
  mergeStreamingRanges,
  type StreamingSnapshot,
  symmetricEigen,
} from "../../src/core/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter, openTrace, type TraceReader } from "../../src/trace/index.ts";
import { writeTrace } from "./driftingTrace.ts";

const STEPS = 200;
const SHAPES = { a: [12, 9], b: [41], c: [3] };
/** NaN steps right at and next to the boundaries of four ranges (50, 100, 150). */
const NAN_AT = [49, 100, 151];
const PREDICTORS = [
  "zero",
  "last",
  "linear",
  "ema0.5",
  "ema0.9",
  "ema0.99",
  "ema0.9z",
  "ar2",
  "ar3",
  "lowrank2w8",
];

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");

function expectSameBits(merged: StreamingSnapshot, single: StreamingSnapshot): void {
  expect(merged.steps).toBe(single.steps);
  expect(merged.skippedSteps).toEqual(single.skippedSteps);
  const pairs = [
    ...merged.tensors.map((t, i) => [t, single.tensors[i]] as const),
    [merged.total, single.total] as const,
  ];
  for (const [m, s] of pairs) {
    expect(m.name).toBe(s.name);
    expect(bits(m.gradNormSq)).toBe(bits(s.gradNormSq));
    for (const id of PREDICTORS) {
      expect(bits(m.error[id]), `${m.name} ${id}`).toBe(bits(s.error[id]));
      expect(Object.is(m.cosinePredicted[id], s.cosinePredicted[id]), `${m.name} ${id} cosine`).toBe(true);
    }
    expect(Object.is(m.cosineConsecutive, s.cosineConsecutive)).toBe(true);
    expect(m.windows).toEqual(s.windows);
  }
}

/** Exact squared singular values (descending) of the matrix whose rows are `rows`. */
function exactSigmaSq(rows: readonly Float64Array[]): number[] {
  const n = rows.length;
  const k = mat(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < rows[i].length; c++) s += rows[i][c] * rows[j][c];
      k.data[i * n + j] = s;
    }
  }
  return [...symmetricEigen(k, { vectors: false }).values];
}

/** μ_i ≤ σ_i² ≤ μ_i + Δ for the sketch's values against the exact ones, and ‖H‖_F² exact. */
function expectWithinFdBound(fd: FdSpectrum, exact: readonly number[]): void {
  const scale = exact[0];
  expect(fd.delta).toBeGreaterThanOrEqual(0);
  expect(Math.abs(fd.frobeniusSq - exact.reduce((a, b) => a + Math.max(0, b), 0))).toBeLessThan(
    1e-9 * scale * exact.length,
  );
  for (let i = 0; i < fd.rows; i++) {
    const mu = fd.sigmaSq[i] ?? 0;
    const sigma = Math.max(0, exact[i] ?? 0);
    expect(mu).toBeLessThanOrEqual(sigma + 1e-9 * scale);
    expect(sigma).toBeLessThanOrEqual(mu + fd.delta + 1e-9 * scale);
  }
}

describe("streaming step ranges (in process)", () => {
  let dir: string;
  let reader: TraceReader;
  const pass: StreamRangePass = {
    tensors: Object.keys(SHAPES),
    predictors: PREDICTORS,
    eps: [0.1, 0.5],
    windowSize: 10,
    fdRows: 3,
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-stream-ranges-"));
    const file = path.join(dir, "run.gtrace");
    writeTrace(file, STEPS, SHAPES, 11, NAN_AT);
    reader = openTrace(file);
  });
  afterAll(() => {
    reader.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("plans the replay: the predictors carrying the whole history, the warm-up, four ranges here", () => {
    const plan = replayPlan(PREDICTORS, 10);
    if (typeof plan === "string") throw new Error(plan);
    expect(plan.ids).toEqual(["ema0.5", "ema0.9", "ema0.99", "ema0.9z", "ar2", "ar3"]);
    expect(plan.window).toBe(4); // ar3 looks back 4 steps
    expect(plan.warmUp).toBe(11);
    expect(stepRangeBounds(STEPS, 4, plan.warmUp)).toEqual([
      [0, 50],
      [50, 100],
      [100, 150],
      [150, 200],
    ]);
    // Fewer ranges when the run is short: each at least four warm-ups long.
    expect(stepRangeBounds(100, 8, plan.warmUp)).toHaveLength(2);
    expect(replayPlan(["ar12"], 8)).toMatch(/raise --window to 13/);
  });

  it("merges into the single pass's series, cosines and windows bit for bit, with NaN steps at the boundaries", async () => {
    const single = streamSteps(reader, pass);
    const ranged = await streamInRanges(reader, pass, inProcessRunner(reader), { ranges: 4 });
    expect(ranged.nonFiniteSteps).toEqual(NAN_AT);
    expect(single.nonFiniteSteps).toEqual(NAN_AT);
    expectSameBits(ranged.snapshot, single.snapshot);

    // Whole-run spectra of the total: the merged sketches bound the exact spectra (the single pass's are a different
    // sketch of the same matrices, inside their own bound).
    const kept = Array.from({ length: STEPS }, (_, p) => p).filter((p) => !NAN_AT.includes(p));
    const grads = kept.map((p) => {
      const parts = pass.tensors.map((name) => reader.readTensor(p, name));
      const g = new Float64Array(parts.reduce((s, x) => s + x.length, 0));
      let o = 0;
      for (const x of parts) {
        g.set(x, o);
        o += x.length;
      }
      return g;
    });
    const increments = grads.slice(1).map((g, i) => g.map((v, c) => v - grads[i][c]));
    const total = ranged.snapshot.total;
    expectWithinFdBound(total.gradients!, exactSigmaSq(grads));
    expectWithinFdBound(total.increments!, exactSigmaSq(increments));
    expect(total.increments!.count).toBe(kept.length - 1);
    expect(total.gradients!.count).toBe(kept.length);
    // Merging adds the ranges' shrinkage: a bound at least the single pass's order, stated, not hidden.
    expect(total.increments!.delta).toBeGreaterThan(0);
  });

  it("does the same on sketched steps (float64 rows: the JavaScript kernel)", async () => {
    const sketched: StreamRangePass = { ...pass, sketch: { kind: "countsketch", k: 16, seed: 3 } };
    const single = streamSteps(reader, sketched);
    const ranged = await streamInRanges(reader, sketched, inProcessRunner(reader), { ranges: 3 });
    expectSameBits(ranged.snapshot, single.snapshot);
  });

  it("does the same with the momentum predictor: its buffers (one NaN at a boundary) decide which steps count", async () => {
    const file = path.join(dir, "momentum.gtrace");
    const w = createGtraceWriter(file, { tensors: [{ name: "w", shape: [20] }], fsync: "none" });
    const rng = createRng(4);
    const buf = new Float32Array(20);
    for (let t = 0; t < 120; t++) {
      const g = Float32Array.from({ length: 20 }, (_, i) => Math.sin(0.2 * t + i) + 0.2 * rng.normal());
      for (let i = 0; i < 20; i++) buf[i] = 0.9 * buf[i] + g[i];
      const logged = Float32Array.from(buf);
      if (t === 60) logged[5] = Number.NaN;
      w.append(t, { w: g }, { momentum: { w: logged } });
    }
    w.close();
    const r = openTrace(file);
    try {
      const momentumPass: StreamRangePass = {
        tensors: ["w"],
        predictors: ["last", "momentum", "ema0.9"],
        eps: [0.1],
        windowSize: 6,
        fdRows: 2,
        momentum: true,
      };
      const single = streamSteps(r, momentumPass);
      const ranged = await streamInRanges(r, momentumPass, inProcessRunner(r), { ranges: 4 });
      expect(single.nonFiniteSteps).toEqual([60]);
      expect(ranged.nonFiniteSteps).toEqual([60]);
      expect(ranged.snapshot.total.error.momentum).toHaveLength(119);
      const bitsOf = (x: StreamingSnapshot) =>
        ["last", "momentum", "ema0.9"].map((id) => bits(x.total.error[id])).join("|");
      expect(bitsOf(ranged.snapshot)).toBe(bitsOf(single.snapshot));
      expect(ranged.snapshot.total.windows).toEqual(single.snapshot.total.windows);
    } finally {
      r.close();
    }
  });

  it("refuses ranges out of order", async () => {
    const parts = await Promise.all(
      [
        [0, 50],
        [50, 100],
      ].map(([from, to]) => inProcessRunner(reader).stream({ pass, from, to })),
    );
    expect(() => mergeStreamingRanges([parts[1].range, parts[0].range])).toThrow(GradtraceError);
    expect(() => mergeStreamingRanges([parts[1].range, parts[0].range])).toThrow(/range 0 starts at step 49/);
  });
});
