import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { LiveAccumulator } from "../../src/core/live.ts";
import type { Vec } from "../../src/core/matrix.ts";
import { cosineSeries, kappa, meanFinite, pathLengthsFromGram } from "../../src/core/pathLength.ts";
import { resolvePredictor } from "../../src/core/predictors/index.ts";
import { driftingSequence, expectRelClose, gramOf } from "./predictorsReference.ts";

const IDS = [
  "zero",
  "last",
  "ema0.5",
  "ema0.9",
  "ema0.99",
  "linear",
  "ar2",
  "lowrank3w6",
  "lowrank2w4",
  "ema0.7",
  "ema0.9z",
];
const TENSORS = [
  { name: "a", numel: 5 },
  { name: "b", numel: 17 },
  { name: "c", numel: 40 },
];

function makeSteps(steps: number, seed: number): Record<string, Float64Array>[] {
  const seqs = TENSORS.map((t, i) => driftingSequence(steps, t.numel, seed + i));
  return Array.from({ length: steps }, (_, s) =>
    Object.fromEntries(TENSORS.map((t, i) => [t.name, seqs[i][s]])),
  );
}

function concat(step: Record<string, Vec>): Float64Array {
  const out = new Float64Array(TENSORS.reduce((s, t) => s + t.numel, 0));
  let o = 0;
  for (const t of TENSORS) {
    out.set(step[t.name], o);
    o += t.numel;
  }
  return out;
}

function checkAgainstExact(steps: Record<string, Vec>[], acc: LiveAccumulator, window: number): void {
  const snap = acc.snapshot();
  expect(snap.steps).toBe(steps.length);
  const check = (seq: ArrayLike<number>[], got: (typeof snap)["total"], label: string) => {
    const k = gramOf(seq);
    const exact = pathLengthsFromGram(k, IDS);
    expectRelClose(got.gradNormSqSeries, exact.gradNormSq, 1e-12, `${label} ‖g‖²`);
    for (const id of IDS) {
      expectRelClose(got.error[id], exact.series[id].error, 1e-9, `${label} ${id}`);
      expect(got.kappa[id]).toBeCloseTo(kappa(exact.series[id].error, exact.gradNormSq), 9);
    }
    const cos = cosineSeries(k, exact);
    expect(got.cosineConsecutive).toBeCloseTo(meanFinite(cos.consecutive), 12);
    for (const id of IDS) {
      const want = meanFinite(cos.predicted[id]);
      if (Number.isNaN(want)) expect(got.cosinePredicted[id]).toBeNaN();
      else expect(got.cosinePredicted[id]).toBeCloseTo(want, 9);
    }
    const n = Math.min(window, seq.length);
    expect(got.windowSteps).toEqual(Array.from({ length: n }, (_, a) => seq.length - n + a));
    const wk = gramOf(seq.slice(seq.length - n));
    expectRelClose(got.windowGram.data, wk.data, 1e-12, `${label} window Gram`);
  };
  TENSORS.forEach((t, i) => {
    check(
      steps.map((s) => s[t.name]),
      snap.tensors[i],
      t.name,
    );
  });
  check(steps.map(concat), snap.total, "total");
}

describe("LiveAccumulator equals exact mode on the same sequence", () => {
  it("window large enough: lagged predictors run from the window Gram", () => {
    const steps = makeSteps(30, 100);
    const acc = new LiveAccumulator({ tensors: TENSORS, predictors: IDS, window: 8 });
    for (const s of steps) acc.observe(s);
    const snap = acc.snapshot();
    expect(snap.modes.ar2).toEqual({ tensor: "window-gram", total: "window-gram" });
    expect(snap.modes["ema0.9"]).toEqual({ tensor: "vector", total: "sum" });
    checkAgainstExact(steps, acc, 8);
  });

  it("small window: ar/lowrank fall back to explicit vectors, the total to a concatenated state", () => {
    const steps = makeSteps(25, 200);
    const acc = new LiveAccumulator({ tensors: TENSORS, predictors: IDS, window: 2 });
    for (const s of steps) acc.observe(s);
    const snap = acc.snapshot();
    expect(snap.modes.ar2).toEqual({ tensor: "vector", total: "concatenated" });
    expect(snap.modes.linear).toEqual({ tensor: "window-gram", total: "window-gram" });
    checkAgainstExact(steps, acc, 2);
  });

  it("float32 gradients: window copies stay float32 without changing the numbers", () => {
    const steps = makeSteps(12, 300).map((s) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Float32Array.from(v)])),
    );
    const acc = new LiveAccumulator({ tensors: TENSORS, predictors: IDS, window: 6 });
    for (const s of steps) acc.observe(s);
    checkAgainstExact(steps, acc, 6);
  });

  it("skips a step with NaN or Inf in any tensor and records its call index", () => {
    const steps = makeSteps(15, 400);
    const acc = new LiveAccumulator({ tensors: TENSORS, predictors: IDS, window: 8 });
    steps.forEach((s, i) => {
      if (i === 4) {
        const bad = { ...s, b: s.b.map((v, j) => (j === 3 ? Number.NaN : v)) };
        acc.observe(bad);
      }
      if (i === 9) acc.observe({ ...s, c: s.c.map((v, j) => (j === 0 ? Number.POSITIVE_INFINITY : v)) });
      acc.observe(s);
    });
    expect(acc.snapshot().skippedSteps).toEqual([4, 10]);
    checkAgainstExact(steps, acc, 8);
  });

  it("momentum predictor uses the buffer logged after the previous step", () => {
    const steps = makeSteps(10, 500);
    const buffers: Record<string, Float64Array>[] = [];
    let prev = Object.fromEntries(TENSORS.map((t) => [t.name, new Float64Array(t.numel)]));
    for (const s of steps) {
      prev = Object.fromEntries(
        TENSORS.map((t) => [t.name, prev[t.name].map((b, i) => 0.9 * b + s[t.name][i])]),
      );
      buffers.push(prev);
    }
    const acc = new LiveAccumulator({ tensors: TENSORS, predictors: ["momentum", "momentum0.1"], window: 3 });
    for (const [i, s] of steps.entries()) acc.observe(s, { momentum: buffers[i] });
    const snap = acc.snapshot();
    for (const [id, scale] of [
      ["momentum", 1],
      ["momentum0.1", 0.1],
    ] as const) {
      const expected = steps.map((s, t) =>
        TENSORS.reduce(
          (sum, tn) =>
            sum +
            s[tn.name].reduce(
              (e, x, j) => e + (x - (t === 0 ? 0 : scale * buffers[t - 1][tn.name][j])) ** 2,
              0,
            ),
          0,
        ),
      );
      expectRelClose(snap.total.error[id], expected, 1e-12, id);
    }
    expect(() => acc.observe(steps[0])).toThrow(/momentum/);
  });

  it("rejects missing, unknown and mis-sized tensors with named errors", () => {
    const acc = new LiveAccumulator({ tensors: TENSORS, predictors: ["last"], window: 2 });
    const s = makeSteps(1, 1)[0];
    expect(() => acc.observe({ a: s.a, b: s.b })).toThrow(/lacks tensor "c"/);
    expect(() => acc.observe({ ...s, d: s.a })).toThrow(/unknown tensor "d"/);
    try {
      acc.observe({ ...s, b: s.a });
    } catch (e) {
      expect((e as GradtraceError).code).toBe("E_SHAPE");
      expect((e as Error).message).toMatch(/"b" has 5 elements, expected 17/);
    }
    expect(() => new LiveAccumulator({ tensors: TENSORS, window: 0 })).toThrow(GradtraceError);
    expect(acc.steps).toBe(0);
  });

  it("every predictor's live state equals its Gram state on one tensor (direct predict/observe)", () => {
    const g = driftingSequence(20, 9, 7);
    const exact = pathLengthsFromGram(gramOf(g), IDS);
    for (const id of IDS) {
      const state = resolvePredictor(id).live!(9);
      const errors = g.map((gt) => {
        const m = state.predict();
        const e = gt.reduce((s, x, i) => s + (x - (m ? m[i] : 0)) ** 2, 0);
        state.observe(gt);
        return e;
      });
      expectRelClose(errors, exact.series[id].error, 1e-9, id);
    }
  });

  it("property: live equals exact for any window, length and tensor split", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.nat(),
        (steps, window, sizes, seed) => {
          const ids = ["zero", "last", "ema0.9", "linear", "ar1", "lowrank2w3"];
          const seqs = sizes.map((n, i) => driftingSequence(steps, n, seed + i));
          const acc = new LiveAccumulator({
            tensors: sizes.map((numel, i) => ({ name: `t${i}`, numel })),
            predictors: ids,
            window,
          });
          for (let t = 0; t < steps; t++)
            acc.observe(Object.fromEntries(seqs.map((s, i) => [`t${i}`, s[t]])));
          const snap = acc.snapshot();
          const concatenated = Array.from({ length: steps }, (_, t) =>
            Float64Array.from(seqs.flatMap((s) => [...s[t]])),
          );
          const exact = pathLengthsFromGram(gramOf(concatenated), ids);
          for (const id of ids) expectRelClose(snap.total.error[id], exact.series[id].error, 1e-9, id);
        },
      ),
      { numRuns: 40 },
    );
  });
});
