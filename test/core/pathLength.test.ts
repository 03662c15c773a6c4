import { describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { mat } from "../../src/core/matrix.ts";
import {
  cosineSeries,
  kappa,
  kappaReport,
  meanFinite,
  pathLength,
  pathLengthsFromGram,
  windowedKappa,
} from "../../src/core/pathLength.ts";
import { gramOf, randomSequence } from "./predictorsReference.ts";

describe("pathLength and kappa", () => {
  const error = Float64Array.of(4, 1, 2, 3);
  const grad = Float64Array.of(4, 2, 2, 2);

  it("sum over ranges", () => {
    expect(pathLength(error)).toBe(10);
    expect(pathLength(error, 1, 3)).toBe(3);
    expect(kappa(error, grad)).toBe(1);
    expect(kappa(error, grad, 1)).toBe(1); // 6/6
    expect(kappa(error, grad, 1, 2)).toBe(0.5);
    expect(() => pathLength(error, 3, 2)).toThrow(GradtraceError);
    expect(() => kappa(error, grad, 0, 5)).toThrow(/range/);
  });

  it("flags all-zero and non-finite gradients instead of crashing", () => {
    const z = new Float64Array(3);
    expect(kappaReport(z, z)).toEqual({
      kappa: Number.NaN,
      pathLength: 0,
      gradNormSq: 0,
      flag: "zero-gradients",
    });
    expect(kappaReport(Float64Array.of(1, Number.NaN), Float64Array.of(1, 1)).flag).toBe("non-finite");
    expect(kappaReport(error, grad).flag).toBeUndefined();
  });

  it("windowedKappa equals kappa on each window", () => {
    const g = randomSequence(23, 4, 3);
    const r = pathLengthsFromGram(gramOf(g), ["last"]);
    const e = r.series.last.error;
    const w = windowedKappa(e, r.gradNormSq, 5, 3);
    expect(w.starts).toEqual([0, 3, 6, 9, 12, 15, 18]);
    for (const [i, s] of w.starts.entries())
      expect(w.kappa[i]).toBeCloseTo(kappa(e, r.gradNormSq, s, s + 5), 12);
    expect(windowedKappa(e, r.gradNormSq, 30, 1).starts).toEqual([]);
    expect(() => windowedKappa(e, r.gradNormSq, 0, 1)).toThrow(/size/);
  });
});

describe("cosineSeries", () => {
  it("matches explicit cosines", () => {
    const g = randomSequence(8, 5, 4);
    const k = gramOf(g);
    const r = pathLengthsFromGram(k, ["last", "zero", "linear"]);
    const cos = cosineSeries(k, r);
    const c = (a: Float64Array, b: Float64Array) => {
      const d = a.reduce((s, v, i) => s + v * b[i], 0);
      return d / Math.hypot(...a) / Math.hypot(...b);
    };
    expect(cos.consecutive[0]).toBeNaN();
    for (let t = 1; t < 8; t++) {
      expect(cos.consecutive[t]).toBeCloseTo(c(g[t], g[t - 1]), 12);
      expect(cos.predicted.last[t]).toBeCloseTo(c(g[t], g[t - 1]), 12);
      expect(cos.predicted.zero[t]).toBeNaN();
      if (t >= 2) {
        const m = g[t - 1].map((v, i) => 2 * v - g[t - 2][i]);
        expect(cos.predicted.linear[t]).toBeCloseTo(c(g[t], m), 12);
      }
    }
    expect(meanFinite(cos.predicted.zero)).toBeNaN();
    expect(meanFinite([1, Number.NaN, 3])).toBe(2);
  });

  it("rejects a non-square K and duplicate ids", () => {
    expect(() => pathLengthsFromGram(mat(2, 3), ["last"])).toThrow(/square/);
    expect(() => pathLengthsFromGram(mat(2, 2), ["last", "last"])).toThrow(/twice/);
  });
});
