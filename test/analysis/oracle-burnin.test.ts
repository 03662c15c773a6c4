/** @file The Eckart–Young oracle (Theorem iii) and the burn-in, end to end through analyze() on a stored trace,
 * against brute force on the explicit vectors:
 * - the oracle includes the unpredictable t = 0 term, so oracleRankPathLength[0] = P_T(last) (to rounding), per
 *   tensor and in total, with and without a burn-in; every entry k equals the path length of the explicit hindsight
 *   predictor m_t = g_{t−1} + P_k h_t (P_k from ml-matrix's SVD of the explicit increments);
 * - `burnIn` B drops the first B terms from every sum (κ, Σ‖g‖², r*, windows, intervals) while predictors keep the
 *   full history;
 * - "the t = 0 term dominates κ(m)" ⇔ ‖g_0‖² ≥ ½ P_T(m), checked on sequences where the share is known exactly. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Matrix, SingularValueDecomposition } from "ml-matrix";
import { afterAll, describe, expect, it } from "vitest";
import {
  analyze,
  INITIAL_TERM_DOMINANCE,
  initialTermDominates,
  initialTermShare,
} from "../../src/analysis/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { explicitErrors } from "../core/predictorsReference.ts";
import { rankByDefinition } from "../core/rankReference.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-oracle-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let traces = 0;

/** Writes steps (tensor name → values) as a .gtrace and returns its path. */
function writeTrace(steps: Record<string, Float32Array>[]): string {
  const file = path.join(dir, `t${traces++}.gtrace`);
  const names = Object.keys(steps[0]);
  const w = createGtraceWriter(file, {
    tensors: names.map((name) => ({ name, shape: [steps[0][name].length] })),
  });
  steps.forEach((s, t) => {
    w.append(t, s);
  });
  w.close();
  return file;
}

async function analyzeFile(file: string, options: Parameters<typeof analyze>[1]) {
  const reader = openTrace(file);
  try {
    return await analyze(reader, options);
  } finally {
    reader.close();
  }
}

/** A drifting sequence with a large first gradient (like early training), two tensors. */
function drifting(steps: number, seed: number): Record<string, Float32Array>[] {
  const rng = createRng(seed);
  const a = Float64Array.from({ length: 9 }, () => rng.normal());
  const b = Float64Array.from({ length: 5 }, () => rng.normal());
  return Array.from({ length: steps }, (_, t) => {
    const scale = t === 0 ? 4 : 1;
    for (let i = 0; i < a.length; i++) a[i] += 0.3 * rng.normal();
    for (let i = 0; i < b.length; i++) b[i] += 0.3 * rng.normal();
    return { a: Float32Array.from(a, (v) => scale * v), b: Float32Array.from(b, (v) => scale * v) };
  });
}

const vectors = (steps: Record<string, Float32Array>[], names: string[]) =>
  steps.map((s) => Float64Array.from(names.flatMap((n) => Array.from(s[n]))));
const normSq = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x * x, 0);

/** Σ_{t≥from} ‖h_t − P_k h_t‖² for the explicit increments h_from..h_T, P_k the top-k left singular projector. */
function hindsightResidual(g: Float64Array[], from: number, k: number): number {
  const cols: number[][] = [];
  for (let t = Math.max(1, from); t < g.length; t++) cols.push(Array.from(g[t], (x, i) => x - g[t - 1][i]));
  const h = new Matrix(cols).transpose();
  const u = new SingularValueDecomposition(h, { autoTranspose: true }).leftSingularVectors;
  let residual = 0;
  for (const col of cols) {
    const r = col.slice();
    for (let j = 0; j < Math.min(k, u.columns); j++) {
      const c = col.reduce((s, x, i) => s + x * u.get(i, j), 0);
      for (let i = 0; i < r.length; i++) r[i] -= c * u.get(i, j);
    }
    residual += normSq(r);
  }
  return residual;
}

describe("oracle rank-k path length includes the t = 0 term (Theorem iii identity)", () => {
  const steps = drifting(30, 7);
  const file = writeTrace(steps);
  for (const burnIn of [0, 1, 4]) {
    it(`burn-in ${burnIn}: oracle[0] = P_T(last), oracleKappa[0] = κ(last), oracle[k] = explicit hindsight predictor`, async () => {
      const r = await analyzeFile(file, { predictors: ["zero", "last", "ema0.9"], bootstrap: false, burnIn });
      for (const t of [...r.tensors, r.total]) {
        const oracle = t.increments.oracleRankPathLength;
        expect(Math.abs(oracle[0] - t.pathLength.last)).toBeLessThanOrEqual(1e-12 * t.pathLength.last);
        expect(t.oracleKappa![0]).toBeCloseTo(t.kappa.last, 12);
        const g = vectors(steps, t.name === "total" ? ["a", "b"] : [t.name]);
        const first = burnIn === 0 ? normSq(g[0]) : 0;
        for (const k of [0, 1, 2, 5]) {
          const want = first + hindsightResidual(g, burnIn, k);
          expect(Math.abs(oracle[k] - want), `${t.name} k=${k}`).toBeLessThanOrEqual(1e-9 * oracle[0]);
          expect(t.oracleKappa![k]).toBeCloseTo(oracle[k] / t.gradNormSq, 12);
        }
        // The oracle is the best rank-k increment predictor in hindsight: no worse than any online one of rank ≥ k.
        for (let k = 1; k < oracle.length; k++) expect(oracle[k]).toBeLessThanOrEqual(oracle[k - 1]);
        expect(t.kappaFloor).toBeCloseTo(first / t.gradNormSq, 12);
      }
    });
  }
});

describe("burn-in: the first B steps leave every sum, predictors keep their history", () => {
  const steps = drifting(36, 11);
  const file = writeTrace(steps);
  const g = vectors(steps, ["a", "b"]);
  const ids = ["zero", "last", "ema0.9", "ema0.9z", "linear"];
  for (const burnIn of [0, 3]) {
    it(`B = ${burnIn}: κ, Σ‖g‖², r*(ε), windows and intervals against brute force on t ≥ B`, async () => {
      const eps = [0.1, 0.01];
      const r = await analyzeFile(file, { predictors: ids, eps, window: 8, burnIn });
      const den = g.slice(burnIn).reduce((s, v) => s + normSq(v), 0);
      expect(r.total.gradNormSq).toBeCloseTo(den, 6);
      for (const id of ids) {
        const e = explicitErrors(id, g);
        const num = Array.from(e.subarray(burnIn)).reduce((s, x) => s + x, 0);
        expect(r.total.kappa[id], id).toBeCloseTo(num / den, 9);
        const ci = r.total.kappaCI![id];
        expect(ci[0]).toBeLessThanOrEqual(r.total.kappa[id] + 1e-12);
        expect(ci[1]).toBeGreaterThanOrEqual(r.total.kappa[id] - 1e-12);
      }
      // r*(ε) of the increments inside the sums, from ml-matrix's SVD of the explicit increments.
      const cols: number[][] = [];
      for (let t = Math.max(1, burnIn); t < g.length; t++)
        cols.push(Array.from(g[t], (x, i) => x - g[t - 1][i]));
      const sigma = new SingularValueDecomposition(new Matrix(cols).transpose(), { autoTranspose: true })
        .diagonal;
      for (const e of eps) expect(r.total.predictableRank[String(e)]).toBe(rankByDefinition(sigma, e));
      const w = r.total.windows!;
      expect(w.starts[0]).toBe(burnIn);
      expect(w.starts.every((s) => s + w.size <= g.length)).toBe(true);
      // Each window's κ(ema0.9) by brute force over its own steps.
      const e = explicitErrors("ema0.9", g);
      w.starts.forEach((s, i) => {
        let num = 0;
        let d = 0;
        for (let t = s; t < s + w.size; t++) {
          num += e[t];
          d += normSq(g[t]);
        }
        expect(w.kappa["ema0.9"][i]).toBeCloseTo(num / d, 9);
      });
      expect(r.options.burnIn ?? 0).toBe(burnIn);
    });
  }

  it("rejects a burn-in that leaves fewer than two steps, or is not a non-negative integer", async () => {
    await expect(analyzeFile(file, { burnIn: 35 })).rejects.toThrow(/burn-in 35.*36 steps/);
    await expect(analyzeFile(file, { burnIn: -1 })).rejects.toThrow(/burn-in/);
    await expect(analyzeFile(file, { burnIn: 1.5 })).rejects.toThrow(/burn-in/);
    const ok = await analyzeFile(file, { predictors: ["last"], burnIn: 34, bootstrap: false });
    expect(ok.total.kappa.last).toBeGreaterThan(0);
  });
});

describe("when the t = 0 term dominates κ", () => {
  const two = (x: number[], y: number[]) => ({ a: Float32Array.from(x), b: Float32Array.from(y) });

  it("is defined as ‖g_0‖² ≥ ½ P_T(m): share 0.8 dominates, share 1/6 does not (exact small sequences)", async () => {
    // g = (2,0), (2,1): P(last) = 4 + 1, share 4/5.
    const dominated = await analyzeFile(writeTrace([two([2], [0]), two([2], [1])]), {
      predictors: ["zero", "last"],
      bootstrap: false,
    });
    expect(INITIAL_TERM_DOMINANCE).toBe(0.5);
    expect(initialTermShare(dominated.total, "last")).toBeCloseTo(0.8, 12);
    expect(initialTermDominates(dominated.total, "last")).toBe(true);
    // g = (1,0), (1,1), (1,−1): P(last) = 1 + 1 + 4, share 1/6.
    const not = await analyzeFile(writeTrace([two([1], [0]), two([1], [1]), two([1], [-1])]), {
      predictors: ["zero", "last"],
      bootstrap: false,
    });
    expect(initialTermShare(not.total, "last")).toBeCloseTo(1 / 6, 12);
    expect(initialTermDominates(not.total, "last")).toBe(false);
    // The zero predictor's share is ‖g_0‖²/Σ‖g‖², the floor itself.
    expect(initialTermShare(not.total, "zero")).toBeCloseTo(1 / 5, 12);
  });

  it("a nearly constant gradient: κ(last) is the floor ‖g_0‖²/Σ‖g‖², the summary says so; a burn-in removes it", async () => {
    const rng = createRng(3);
    const c = [3, -1, 2];
    const steps = Array.from({ length: 20 }, () =>
      two(
        c.map((v) => v + 1e-3 * rng.normal()),
        [1],
      ),
    );
    const file = writeTrace(steps);
    const r = await analyzeFile(file, {
      predictors: ["zero", "last", "ema0.9", "ema0.99z"],
      bootstrap: false,
    });
    expect(r.total.kappaFloor).toBeCloseTo(1 / 20, 3);
    expect(initialTermDominates(r.total, "last")).toBe(true);
    expect(initialTermDominates(r.total, "ema0.9")).toBe(true);
    // The zero-initialised slow EMA is far from g for most steps: its P_T is not the t = 0 term.
    expect(initialTermDominates(r.total, "ema0.99z")).toBe(false);
    expect(r.summary).toMatch(/t = 0 term .* dominated by it/);
    expect(r.summary).toMatch(/last, ema0\.9:/);
    const burned = await analyzeFile(file, {
      predictors: ["zero", "last", "ema0.9"],
      bootstrap: false,
      burnIn: 1,
    });
    expect(burned.total.kappaFloor).toBe(0);
    expect(initialTermDominates(burned.total, "last")).toBe(false);
    expect(burned.total.kappa.last).toBeLessThan(1e-5);
    expect(burned.summary).not.toMatch(/t = 0 term/);
    expect(burned.summary).toMatch(/first 1 left out by the burn-in/);
  });

  it("i.i.d. gradients: the t = 0 term is a small share of every predictor's P_T", async () => {
    const rng = createRng(5);
    const steps = Array.from({ length: 40 }, () => two([rng.normal(), rng.normal()], [rng.normal()]));
    const r = await analyzeFile(writeTrace(steps), {
      predictors: ["zero", "last", "ema0.5"],
      bootstrap: false,
    });
    for (const id of ["zero", "last", "ema0.5"]) expect(initialTermDominates(r.total, id)).toBe(false);
    expect(r.summary).not.toMatch(/t = 0 term/);
    expect(r.summary).toMatch(/hold 90 % of their energy in \d+ direction/);
  });
});
