import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { mat } from "../../src/core/matrix.ts";
import { kappa, pathLengthsFromGram } from "../../src/core/pathLength.ts";
import { EmaBank } from "../../src/core/predictors/emaBank.ts";
import {
  ArState,
  DEFAULT_PREDICTORS,
  GramRing,
  listPredictorForms,
  matReader,
  momentumCrossGram,
  registerPredictor,
  resolvePredictor,
  solveSpd,
} from "../../src/core/predictors/index.ts";
import { createRng } from "../../src/core/rng.ts";
import {
  arCoefficients,
  driftingSequence,
  expectRelClose,
  explicitErrors,
  explicitPredictions,
  gramOf,
  randomSequence,
} from "./predictorsReference.ts";

const IDS = [
  "zero",
  "last",
  "linear",
  "ema0.5",
  "ema0.9",
  "ema0.99",
  "ema0.5z",
  "ema0.99z",
  "ar1",
  "ar2",
  "ar3",
  "lowrank1w4",
  "lowrank4w16",
  "lowrank3w6",
];

describe("Gram-mode predictors equal explicit-vector predictors", () => {
  const cases = [
    { steps: 12, dim: 3, seed: 1, kind: "random" },
    { steps: 30, dim: 50, seed: 2, kind: "random" },
    { steps: 40, dim: 20, seed: 3, kind: "drifting" },
    { steps: 25, dim: 200, seed: 4, kind: "drifting" },
  ] as const;
  for (const c of cases) {
    it(`${c.kind} p=${c.dim} T=${c.steps}`, () => {
      const g = (c.kind === "random" ? randomSequence : driftingSequence)(c.steps, c.dim, c.seed);
      const result = pathLengthsFromGram(gramOf(g), IDS);
      for (const id of IDS) expectRelClose(result.series[id].error, explicitErrors(id, g), 1e-9, id);
    });
  }

  it("cross and predicted norms match the explicit m_t", () => {
    const g = driftingSequence(20, 10, 5);
    const result = pathLengthsFromGram(gramOf(g), IDS);
    for (const id of IDS) {
      const m = explicitPredictions(id, g);
      const cross = m.map((mt, t) => (mt === null ? 0 : mt.reduce((s, v, i) => s + v * g[t][i], 0)));
      const norm = m.map((mt) => (mt === null ? 0 : mt.reduce((s, v) => s + v * v, 0)));
      expectRelClose(result.series[id].cross, cross, 1e-9, `${id} cross`);
      expectRelClose(result.series[id].predNormSq, norm, 1e-9, `${id} norm`);
    }
  });

  it("never reads g_t beyond ⟨m_t, g_t⟩: changing the future does not change past errors", () => {
    const g = randomSequence(15, 6, 9);
    const base = pathLengthsFromGram(gramOf(g), IDS);
    const altered = g.map((v, t) => (t >= 10 ? v.map((x) => -3 * x) : v));
    const other = pathLengthsFromGram(gramOf(altered), IDS);
    for (const id of IDS) {
      expect(Array.from(other.series[id].error.subarray(0, 10))).toEqual(
        Array.from(base.series[id].error.subarray(0, 10)),
      );
    }
  });
});

describe("closed forms", () => {
  it("κ(zero) = 1 and every first error is ‖g_0‖²", () => {
    const g = randomSequence(10, 4, 11);
    const r = pathLengthsFromGram(gramOf(g), DEFAULT_PREDICTORS);
    expect(kappa(r.series.zero.error, r.gradNormSq)).toBe(1);
    for (const id of DEFAULT_PREDICTORS) expect(r.series[id].error[0]).toBe(r.gradNormSq[0]);
  });

  it("constant sequence: errors of last/ema/linear/ar/lowrank vanish after step 0", () => {
    const v = Float64Array.of(1, -2, 0.5, 3);
    const g = Array.from({ length: 20 }, () => v);
    const r = pathLengthsFromGram(gramOf(g), ["last", "ema0.9", "linear", "ar2", "lowrank2w4"]);
    const g0 = 1 + 4 + 0.25 + 9;
    for (const id of ["last", "ema0.9", "linear", "lowrank2w4"]) {
      expect(r.series[id].error[0]).toBe(g0);
      for (let t = 1; t < 20; t++) expect(r.series[id].error[t]).toBeLessThan(1e-12 * g0);
      expect(kappa(r.series[id].error, r.gradNormSq)).toBeCloseTo(1 / 20, 12);
    }
    // AR(2) on a constant sequence: ridge shrinks a1 + a2 slightly below 1 (λ = 1e-6 · tr/p), so the error is
    // O(ridge²)·‖g‖², not exactly 0.
    for (let t = 1; t < 20; t++) expect(r.series.ar2.error[t]).toBeLessThan(1e-10 * g0);
  });

  it("sign-alternating sequence: κ(last) = (1 + 4T)/(T + 1) → 4", () => {
    for (const T of [1, 5, 50]) {
      const v = Float64Array.of(0.3, -1.2, 2);
      const g = Array.from({ length: T + 1 }, (_, t) => v.map((x) => (t % 2 === 0 ? x : -x)));
      const r = pathLengthsFromGram(gramOf(g), ["last"]);
      expect(kappa(r.series.last.error, r.gradNormSq)).toBeCloseTo((1 + 4 * T) / (T + 1), 12);
    }
  });

  it("AR(2) recovers the coefficients of a true AR(2) process in high dimension", () => {
    const rng = createRng(21);
    const dim = 2000;
    const [a1, a2] = [1.2, -0.5];
    const g = [Float64Array.from({ length: dim }, () => rng.normal())];
    g.push(Float64Array.from({ length: dim }, () => rng.normal()));
    for (let t = 2; t < 30; t++)
      g.push(g[t - 1].map((x, i) => a1 * x + a2 * g[t - 2][i] + 0.05 * rng.normal()));
    const k = gramOf(g);
    const state = new ArState(2, 1e-6);
    // t = T + 1 folds in the last sample s = T, as the stacked reference does.
    for (let t = 0; t <= g.length; t++) state.coefficients(t, matReader(k));
    const fitted = state.fitted()!;
    expect(fitted[0]).toBeCloseTo(a1, 2);
    expect(fitted[1]).toBeCloseTo(a2, 2);
    // and the Gram-built normal equations give the same fit as stacked least squares on the vectors
    const reference = arCoefficients(g, g.length, 2, 1e-6);
    expect(fitted[0]).toBeCloseTo(reference[0], 10);
    expect(fitted[1]).toBeCloseTo(reference[1], 10);
  });

  it("AR fit is scale-invariant", () => {
    const g = driftingSequence(15, 8, 3);
    const fitAtScale = (scale: number) => {
      const k = gramOf(g.map((v) => v.map((x) => x * scale)));
      const s = new ArState(3, 1e-3);
      for (let t = 0; t < g.length; t++) s.coefficients(t, matReader(k));
      return Array.from(s.fitted()!);
    };
    const a = fitAtScale(1);
    for (const [i, v] of fitAtScale(1e-6).entries()) expect(v).toBeCloseTo(a[i], 9);
  });

  it("solveSpd solves a small SPD system", () => {
    const a = Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2);
    const x = solveSpd(a, Float64Array.of(1, 2, 3), 3)!;
    const back = [0, 1, 2].map((i) => a[i * 3] * x[0] + a[i * 3 + 1] * x[1] + a[i * 3 + 2] * x[2]);
    for (const [i, v] of back.entries()) expect(v).toBeCloseTo(i + 1, 12);
    expect(solveSpd(Float64Array.of(1, 2, 2, 1), Float64Array.of(1, 1), 2)).toBeNull();
  });

  it("momentum in exact mode equals the explicit buffer predictor", () => {
    const g = randomSequence(12, 5, 8);
    const buffers: Float64Array[] = [];
    let b = new Float64Array(5);
    for (const gt of g) {
      b = b.map((x, i) => 0.9 * x + gt[i]);
      buffers.push(b);
    }
    const cg = momentumCrossGram(g, buffers);
    const r = pathLengthsFromGram(gramOf(g), ["momentum", "momentum0.1"], { extras: { momentum: cg } });
    for (const [id, scale] of [
      ["momentum", 1],
      ["momentum0.1", 0.1],
    ] as const) {
      const expected = g.map((gt, t) =>
        gt.reduce((s, x, i) => s + (x - (t === 0 ? 0 : scale * buffers[t - 1][i])) ** 2, 0),
      );
      expectRelClose(r.series[id].error, expected, 1e-9, id);
    }
    expect(() => pathLengthsFromGram(gramOf(g), ["momentum"])).toThrow(/extras.momentum/);
  });
});

describe("the two EMA readings (closed forms on a constant sequence g_t = c)", () => {
  // ema<β> (m_1 = g_0) predicts c exactly from t = 1: errors ‖c‖², 0, 0, …
  // ema<β>z (m_0 = 0) has m_t = (1 − β^t) c, so ‖g_t − m_t‖² = β^{2t} ‖c‖² for every t.
  const c = Float64Array.of(3, -1, 2);
  const cc = 14;
  const T = 25;
  const g = Array.from({ length: T }, () => c.slice());
  for (const beta of [0.5, 0.9, 0.99]) {
    it(`β = ${beta}: both forms against their closed form, in exact and live mode`, () => {
      const ids = [`ema${beta}`, `ema${beta}z`];
      const r = pathLengthsFromGram(gramOf(g), ids);
      const biasFree = Array.from({ length: T }, (_, t) => (t === 0 ? cc : 0));
      const zeroInit = Array.from({ length: T }, (_, t) => beta ** (2 * t) * cc);
      expectRelClose(r.series[ids[0]].error, biasFree, 1e-12, ids[0]);
      expectRelClose(r.series[ids[1]].error, zeroInit, 1e-9, ids[1]);
      for (const [id, expected] of [
        [ids[0], biasFree],
        [ids[1], zeroInit],
      ] as const) {
        const live = resolvePredictor(id).live!(c.length);
        const errors = g.map((gt) => {
          const m = live.predict();
          const e = gt.reduce((s, x, i) => s + (x - (m === null ? 0 : m[i])) ** 2, 0);
          live.observe(gt);
          return e;
        });
        expectRelClose(errors, expected, 1e-9, `${id} live`);
      }
    });
  }

  it("ema<β>z is the zero-initialised form: its m_1 is (1−β) g_0, not g_0", () => {
    const seq = randomSequence(6, 4, 21);
    const z = explicitPredictions("ema0.9z", seq);
    const b = explicitPredictions("ema0.9", seq);
    expectRelClose(
      z[1]!,
      seq[0].map((v) => 0.1 * v),
      1e-15,
      "m_1 zero-initialised",
    );
    expectRelClose(b[1]!, seq[0], 1e-15, "m_1 bias-free");
    expect(resolvePredictor("ema0.9z").description).toMatch(/zero-initialised/);
    expect(() => resolvePredictor("ema1z")).toThrow(/0 < β < 1/);
  });
});

describe("registry", () => {
  it("resolves parametric ids and rejects unknown ones with the valid forms", () => {
    expect(resolvePredictor("ema0.95").id).toBe("ema0.95");
    expect(resolvePredictor("ema0.95z").id).toBe("ema0.95z");
    expect(resolvePredictor("lowrank8w32").lagged?.lag).toBe(32);
    expect(resolvePredictor("ar3").lagged?.lag).toBe(4);
    for (const bad of ["ema1", "ema0", "ar0", "lowrank5w4", "nope", "last2"]) {
      expect(() => resolvePredictor(bad)).toThrow(GradtraceError);
    }
    try {
      resolvePredictor("nope");
    } catch (e) {
      expect((e as GradtraceError).code).toBe("E_ARG");
      expect((e as Error).message).toMatch(/ema<β>/);
      expect((e as Error).message).toMatch(/lowrank<k>w<w>/);
    }
    expect(listPredictorForms()).toEqual(expect.arrayContaining(["zero", "last", "linear", "momentum"]));
  });

  it("a user-registered lagged predictor runs in exact mode", () => {
    registerPredictor({
      id: "half-last",
      description: "m_t = g_{t−1} / 2",
      lagged: { lag: 1, create: () => ({ coefficients: (t) => (t >= 1 ? Float64Array.of(0.5) : null) }) },
      coordinatewise: true,
    });
    expect(() =>
      registerPredictor({
        id: "half-last",
        description: "",
        lagged: { lag: 0, create: () => ({ coefficients: () => null }) },
      }),
    ).toThrow(/already/);
    const g = randomSequence(6, 3, 2);
    const r = pathLengthsFromGram(gramOf(g), ["half-last"]);
    const expected = g.map((gt, t) =>
      gt.reduce((s, x, i) => s + (x - (t === 0 ? 0 : 0.5 * g[t - 1][i])) ** 2, 0),
    );
    expectRelClose(r.series["half-last"].error, expected, 1e-12, "half-last");
  });

  it("GramRing keeps the last entries by absolute index", () => {
    const g = randomSequence(9, 4, 4);
    const k = gramOf(g);
    const ring = new GramRing(3);
    for (let t = 0; t < g.length; t++) {
      ring.setRow(
        t,
        [0, 1, 2].map((d) => (t - d >= 0 ? k.data[t * 9 + t - d] : 0)),
      );
      for (let i = Math.max(0, t - 2); i <= t; i++) {
        for (let j = Math.max(0, t - 2); j <= t; j++) expect(ring.get(i, j)).toBe(k.data[i * 9 + j]);
      }
    }
  });
});

describe("properties", () => {
  const sequence = fc
    .record({ steps: fc.integer({ min: 1, max: 12 }), dim: fc.integer({ min: 1, max: 6 }), seed: fc.nat() })
    .map(({ steps, dim, seed }) => randomSequence(steps, dim, seed));

  it("κ(zero) = 1, errors ≥ 0, Σ errors(last) = ‖g_0‖² + ‖H‖_F²", () => {
    fc.assert(
      fc.property(sequence, (g) => {
        const r = pathLengthsFromGram(gramOf(g), DEFAULT_PREDICTORS);
        expect(kappa(r.series.zero.error, r.gradNormSq)).toBe(1);
        for (const id of DEFAULT_PREDICTORS)
          for (const e of r.series[id].error) expect(e).toBeGreaterThanOrEqual(0);
        let h = g[0].reduce((s, x) => s + x * x, 0);
        for (let t = 1; t < g.length; t++) h += g[t].reduce((s, x, i) => s + (x - g[t - 1][i]) ** 2, 0);
        const total = r.series.last.error.reduce((a, b) => a + b, 0);
        expect(Math.abs(total - h)).toBeLessThanOrEqual(1e-10 * h);
      }),
      { numRuns: 60 },
    );
  });

  it("all-zero gradients give κ = NaN, not a crash", () => {
    const r = pathLengthsFromGram(mat(4, 4), DEFAULT_PREDICTORS);
    for (const id of DEFAULT_PREDICTORS) expect(kappa(r.series[id].error, r.gradNormSq)).toBeNaN();
  });
});

describe("EmaBank (the live accumulator's fused EMA pass)", () => {
  // Explicit EMA vectors, one β at a time, as the spec defines them: m_1 = g_0, m_{t+1} = m_t + (1−β)(g_t − m_t).
  function explicitEmaTerms(betas: number[], g: ArrayLike<number>[]) {
    return betas.map((beta) => {
      let m: Float64Array | null = null;
      return g.map((gt) => {
        const gv = Float64Array.from(gt);
        if (m === null) {
          m = gv.slice();
          return { error: gv.reduce((s, x) => s + x * x, 0), cross: 0, normSq: 0 };
        }
        const prev: Float64Array = m;
        const error = gv.reduce((s, x, i) => s + (x - prev[i]) ** 2, 0);
        const cross = gv.reduce((s, x, i) => s + x * prev[i], 0);
        const normSq = prev.reduce((s, x) => s + x * x, 0);
        m = prev.map((x, i) => x + (1 - beta) * (gv[i] - x));
        return { error, cross, normSq };
      });
    });
  }

  it.each([1, 2, 3, 4, 5, 7])(
    "%i EMAs (groups of up to three interleaved states) equal the explicit vectors, float32 and float64 input",
    (count) => {
      const betas = [0.5, 0.9, 0.99, 0.7, 0.3, 0.95, 0.8].slice(0, count);
      for (const float32 of [false, true]) {
        const g64 = driftingSequence(9, 37, count);
        const g = float32 ? g64.map((v) => Float32Array.from(v)) : g64;
        const bank = new EmaBank(betas, 37);
        const want = explicitEmaTerms(betas, g);
        g.forEach((gt, t) => {
          const gradNormSq = Array.from(gt).reduce((s, x) => s + x * x, 0);
          const got = bank.step(gt, gradNormSq);
          betas.forEach((_, j) => {
            const w = want[j][t];
            const scale = gradNormSq + w.normSq;
            expect(Math.abs(got[j].error - w.error)).toBeLessThanOrEqual(1e-12 * scale);
            expect(Math.abs(got[j].cross - w.cross)).toBeLessThanOrEqual(1e-12 * scale);
            expect(Math.abs(got[j].normSq - w.normSq)).toBeLessThanOrEqual(1e-12 * scale);
          });
        });
      }
    },
  );
});
