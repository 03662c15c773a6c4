import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnalysisResult, analyze, analyzeWithSeries } from "../../src/analysis/index.ts";
import { createSketch, tensorSketchSeed } from "../../src/core/index.ts";
import { openTrace } from "../../src/trace/index.ts";
import { writeTrace } from "./driftingTrace.ts";

/** |a − b| ≤ tol·max(1, |b|), NaN equal to NaN. */
function expectClose(a: number, b: number, tol = 1e-9): void {
  if (Number.isNaN(b)) expect(a).toBeNaN();
  else expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
}

const PREDICTORS = ["zero", "last", "linear", "ema0.5", "ema0.9", "ar2", "ar3", "lowrank2w8", "lowrank3w40"];

function expectAgreement(exact: AnalysisResult, streaming: AnalysisResult): void {
  expect(exact.mode).toBe("exact");
  expect(streaming.mode).toBe("streaming");
  expect(streaming.trace.steps).toBe(exact.trace.steps);
  const pairs = [
    ...exact.tensors.map((t, i) => [t, streaming.tensors[i]] as const),
    [exact.total, streaming.total] as const,
  ];
  for (const [e, s] of pairs) {
    expect(s.name).toBe(e.name);
    for (const id of PREDICTORS) {
      // κ identical to 1e-9 (relative), path lengths likewise.
      expect(Math.abs(s.kappa[id] - e.kappa[id])).toBeLessThanOrEqual(1e-9 * Math.max(1, e.kappa[id]));
      expect(Math.abs(s.pathLength[id] - e.pathLength[id])).toBeLessThanOrEqual(1e-9 * e.gradNormSq);
      expectClose(s.cosinePredicted[id], e.cosinePredicted[id]);
      // Bootstrap intervals resample the same series with the same seed.
      expectClose(s.kappaCI![id][0], e.kappaCI![id][0]);
      expectClose(s.kappaCI![id][1], e.kappaCI![id][1]);
      expect(s.windows!.kappa[id].length).toBe(e.windows!.kappa[id].length);
      for (const [w, v] of s.windows!.kappa[id].entries()) expectClose(v, e.windows!.kappa[id][w]);
    }
    expect(s.gradNormSq).toBeCloseTo(e.gradNormSq, 6);
    expectClose(s.cosineConsecutive, e.cosineConsecutive);
    expect(s.windows!.starts).toEqual(e.windows!.starts);
    expect(s.windows!.predictableRank).toEqual(e.windows!.predictableRank);
    // Whole-run spectra: the exact r*(ε) lies inside the stated FD interval, and the sketch's singular values
    // are below the exact ones by at most Δ (σᵢ² ∈ [μᵢ, μᵢ + Δ]).
    // The gradients' spectrum is sketched for the whole model only.
    if (s.name !== "total") expect(s.gradients.singularValues).toEqual([]);
    const spectra = [[s.increments, e.increments] as const];
    if (s.name === "total") spectra.push([s.gradients, e.gradients] as const);
    for (const [sSpec, eSpec] of spectra) {
      const bound = sSpec.bound!;
      expect(bound.kind).toBe("fd");
      for (const [eps, [lo, hi]] of Object.entries(bound.predictableRank)) {
        expect(eSpec.predictableRank[eps]).toBeGreaterThanOrEqual(lo);
        expect(eSpec.predictableRank[eps]).toBeLessThanOrEqual(hi);
        expect(sSpec.predictableRank[eps]).toBe(hi);
      }
      sSpec.singularValues.forEach((sv, i) => {
        const exactSq = eSpec.singularValues[i] ** 2;
        expect(sv ** 2).toBeLessThanOrEqual(exactSq * (1 + 1e-9) + 1e-12);
        expect(exactSq).toBeLessThanOrEqual(sv ** 2 + bound.delta + 1e-9 * exactSq);
      });
      expect(eSpec.stableRank).toBeGreaterThanOrEqual(bound.stableRank[0] * (1 - 1e-9));
      expect(eSpec.stableRank).toBeLessThanOrEqual(bound.stableRank[1] * (1 + 1e-9));
    }
  }
}

describe("streaming mode", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-stream-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("agrees with the exact mode: κ of every predictor to 1e-9, windows exactly, r*(ε) inside the FD bound", async () => {
    const file = path.join(dir, "a.gtrace");
    writeTrace(file, 150, { w: [6, 8], b: [10] }, 1, 37);
    const reader = openTrace(file);
    const base = { predictors: PREDICTORS, window: 24, seed: 3, matrixGeometry: false } as const;
    const exact = await analyzeWithSeries(reader, { ...base, mode: "exact" });
    const streaming = await analyzeWithSeries(reader, { ...base, mode: "streaming", fdRows: 8 });
    reader.close();
    expect(
      exact.result.trace.problems.some((p) => p.kind === "nonfinite" && p.message.includes("NaN/Inf")),
    ).toBe(true);
    expect(streaming.result.trace.problems).toEqual(exact.result.trace.problems);
    expect(streaming.stepIndices).toEqual(exact.stepIndices);
    expectAgreement(exact.result, streaming.result);
    // The per-step series behind --csv and the dashboard agree too.
    const e = exact.series.get("total")!;
    const s = streaming.series.get("total")!;
    for (const [t, v] of e.error.ar2.entries()) {
      expect(Math.abs(s.error.ar2[t] - v)).toBeLessThanOrEqual(1e-9 * e.gradNormSq[t]);
    }
  });

  it("runs shorter than the window get the same single window, and fdRows ≥ rank makes the spectra exact", async () => {
    const file = path.join(dir, "b.gtrace");
    writeTrace(file, 30, { v: [40] }, 2);
    const reader = openTrace(file);
    const base = { predictors: PREDICTORS, window: 64, seed: 1 } as const;
    const exact = await analyze(reader, { ...base, mode: "exact" });
    const streaming = await analyze(reader, { ...base, mode: "streaming", fdRows: 40 });
    reader.close();
    expectAgreement(exact, streaming);
    expect(streaming.total.increments.bound!.delta).toBe(0);
    for (const [eps, r] of Object.entries(exact.total.increments.predictableRank)) {
      expect(streaming.total.increments.bound!.predictableRank[eps]).toEqual([r, r]);
    }
  });

  it("--sketch: both modes sketch the whole model as the tensors' sketches side by side (brute force), and agree", async () => {
    const file = path.join(dir, "s.gtrace");
    const shapes = { w: [4, 10], b: [24] };
    writeTrace(file, 60, shapes, 5);
    const reader = openTrace(file);
    const base = {
      predictors: ["zero", "last", "ema0.9", "ar2"],
      window: 12,
      seed: 9,
      sketch: "countsketch:16",
    };
    const exact = await analyze(reader, { ...base, mode: "exact", matrixGeometry: false });
    const streaming = await analyze(reader, { ...base, mode: "streaming", fdRows: 4 });
    // Brute force: sketch each tensor with its name-derived seed, concatenate, κ(last) = Σ‖x_t − x_{t−1}‖² / Σ‖x_t‖².
    const names = Object.keys(shapes);
    const sketches = names.map((name) =>
      createSketch({
        kind: "countsketch",
        k: 16,
        seed: tensorSketchSeed(9, name),
        dim: reader.info.tensors.find((t) => t.name === name)!.numel,
      }),
    );
    let num = 0;
    let den = 0;
    let prev: Float64Array | null = null;
    for (let t = 0; t < 60; t++) {
      const x = new Float64Array(16 * names.length);
      names.forEach((name, i) => {
        sketches[i].accumulate(reader.readTensor(t, name), 0, x.subarray(16 * i, 16 * (i + 1)));
      });
      for (let j = 0; j < x.length; j++) {
        den += x[j] ** 2;
        num += (x[j] - (prev ? prev[j] : 0)) ** 2;
      }
      prev = x;
    }
    reader.close();
    expect(Math.abs(exact.total.kappa.last - num / den)).toBeLessThanOrEqual(1e-9 * (num / den));
    for (const [e, s] of [
      ...exact.tensors.map((t, i) => [t, streaming.tensors[i]] as const),
      [exact.total, streaming.total] as const,
    ]) {
      for (const id of base.predictors) {
        expect(Math.abs(s.kappa[id] - e.kappa[id])).toBeLessThanOrEqual(1e-9 * Math.max(1, e.kappa[id]));
      }
      const { measuredError: sm, ...sRest } = s.sketch!;
      const {
        measuredError: em,
        // The sketch's consequences for P_T, κ and r* need the sketched Gram: the exact mode states them only.
        pathLengthBound,
        kappaBound,
        windowKappaBound,
        predictableRankLowerBound,
        ...eRest
      } = e.sketch!;
      expect(pathLengthBound).toBeDefined();
      expect(sRest).toEqual(eRest);
      expect(sm === undefined).toBe(em === undefined);
      for (const id of Object.keys(em ?? {})) expect(Math.abs(sm![id] - em![id])).toBeLessThanOrEqual(1e-9);
    }
    // The whole model's bound covers all tensors' sketches at once (union bound): above one tensor's.
    expect(exact.total.sketch!.errorBound).toBeGreaterThan(exact.tensors[0].sketch!.errorBound);
    // The measured error on the first steps is reported in both modes (the same figure: the predictors are causal).
    expect(Object.keys(streaming.total.sketch!.measuredError!)).toEqual(base.predictors);
  });

  it("auto picks exact up to exactMaxSteps and streaming beyond, and says so", async () => {
    const file = path.join(dir, "c.gtrace");
    writeTrace(file, 20, { v: [16] }, 3);
    const reader = openTrace(file);
    const auto = await analyze(reader, { predictors: ["zero", "last"], bootstrap: false });
    const low = await analyze(reader, { predictors: ["zero", "last"], bootstrap: false, exactMaxSteps: 10 });
    reader.close();
    expect(auto.mode).toBe("exact");
    expect(auto.options).toMatchObject({ mode: "auto", exactMaxSteps: 2000 });
    expect(low.mode).toBe("streaming");
    expect(low.options).toMatchObject({ mode: "auto", exactMaxSteps: 10, fdRows: 16 });
    expect(low.total.kappa.last).toBeCloseTo(auto.total.kappa.last, 9);
  });

  it("refuses what streaming cannot do with a clear message", async () => {
    const file = path.join(dir, "d.gtrace");
    writeTrace(file, 12, { v: [16] }, 4);
    const reader = openTrace(file);
    await expect(analyze(reader, { mode: "streaming", sketch: "fd:8" })).rejects.toThrow(
      /Frequent Directions over the coordinates/,
    );
    await expect(analyze(reader, { mode: "streaming", memoryBytes: 1000 })).rejects.toThrow(
      /over the 0 MiB budget/,
    );
    await expect(analyze(reader, { mode: "sideways" as "auto" })).rejects.toThrow(
      /expected auto, exact or streaming/,
    );
    reader.close();
  });
});
