import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze, analyzeWithSeries } from "../../src/analysis/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { convertTrace, createGtraceWriter, openTrace, writeSafetensors } from "../../src/trace/index.ts";
import { bruteWindowRank } from "../core/rankReference.ts";

/** A gradient sequence with known structure: g_t = a drifting low-rank signal + noise, per tensor. */
function makeSequence(steps: number, shapes: Record<string, number[]>, seed: number, rank = 3) {
  const rng = createRng(seed);
  const out: Record<string, Float32Array>[] = [];
  const basis: Record<string, Float64Array[]> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const p = shape.reduce((a, b) => a * b, 1);
    // Matrix-shaped tensors get rank-one basis matrices u vᵀ, so each g_t has a fixed rank-`rank` left subspace.
    basis[name] = Array.from({ length: rank }, () => {
      if (shape.length < 2) return Float64Array.from({ length: p }, () => rng.normal());
      const u = Array.from({ length: shape[0] }, () => rng.normal());
      const v = Array.from({ length: p / shape[0] }, () => rng.normal());
      return Float64Array.from({ length: p }, (_, i) => u[Math.floor(i / v.length)] * v[i % v.length]);
    });
  }
  for (let t = 0; t < steps; t++) {
    const step: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const p = shape.reduce((a, b) => a * b, 1);
      const g = new Float32Array(p);
      for (let r = 0; r < rank; r++) {
        const c = Math.cos(0.1 * t * (r + 1)) * (rank - r);
        for (let i = 0; i < p; i++) g[i] += c * basis[name][r][i];
      }
      for (let i = 0; i < p; i++) g[i] += 0.05 * rng.normal();
      step[name] = g;
    }
    out.push(step);
  }
  return out;
}

/** Brute force on explicit vectors: P_T for zero, last, linear and EMA(β), m_0 = 0. */
function bruteKappa(vectors: Float64Array[], id: string): number {
  const p = vectors[0].length;
  let num = 0;
  let den = 0;
  let ema: Float64Array | null = null;
  for (let t = 0; t < vectors.length; t++) {
    const g = vectors[t];
    const m = new Float64Array(p);
    if (t >= 1) {
      if (id === "last") m.set(vectors[t - 1]);
      if (id === "linear") {
        for (let i = 0; i < p; i++)
          m[i] = t === 1 ? vectors[0][i] : 2 * vectors[t - 1][i] - vectors[t - 2][i];
      }
      if (id.startsWith("ema")) {
        const b = Number(id.slice(3));
        if (ema === null) ema = Float64Array.from(vectors[0]);
        else for (let i = 0; i < p; i++) ema[i] = b * ema[i] + (1 - b) * vectors[t - 1][i];
        m.set(ema);
      }
    }
    for (let i = 0; i < p; i++) {
      num += (g[i] - m[i]) ** 2;
      den += g[i] ** 2;
    }
  }
  return num / den;
}

const concat = (step: Record<string, Float32Array>, names: string[]) =>
  Float64Array.from(names.flatMap((n) => Array.from(step[n])));

describe("analyze() end to end", () => {
  const shapes = { "fc1.weight": [12, 20], "fc1.bias": [12], "fc2.weight": [3, 12] };
  const names = Object.keys(shapes);
  const steps = makeSequence(40, shapes, 1);
  let dir: string;
  let gtrace: string;
  let stdir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-analyze-"));
    gtrace = path.join(dir, "run.gtrace");
    const w = createGtraceWriter(gtrace, {
      tensors: names.map((name) => ({ name, shape: shapes[name as keyof typeof shapes] })),
    });
    steps.forEach((s, t) => {
      w.append(t, s, { loss: 1 / (t + 1) });
    });
    w.close();
    stdir = path.join(dir, "st");
    fs.mkdirSync(stdir);
    steps.forEach((s, t) => {
      const tensors = Object.fromEntries(
        names.map((n) => [n, { dtype: "F32" as const, shape: shapes[n as keyof typeof shapes], data: s[n] }]),
      );
      writeSafetensors(path.join(stdir, `step_${String(t).padStart(4, "0")}.safetensors`), tensors);
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("matches brute-force κ per tensor and for the concatenated model, in every layout", async () => {
    for (const file of [gtrace, stdir]) {
      const reader = openTrace(file);
      const r = await analyze(reader, { predictors: ["zero", "last", "linear", "ema0.9"], bootstrap: false });
      reader.close();
      expect(r.trace.steps).toBe(40);
      expect(r.total.kappa.zero).toBe(1);
      for (const id of ["last", "linear", "ema0.9"]) {
        for (const t of r.tensors) {
          const vecs = steps.map((s) => Float64Array.from(s[t.name]));
          expect(t.kappa[id]).toBeCloseTo(bruteKappa(vecs, id), 9);
        }
        const total = steps.map((s) => concat(s, names));
        expect(r.total.kappa[id]).toBeCloseTo(bruteKappa(total, id), 9);
      }
      expect(r.total.numel).toBe(12 * 20 + 12 + 36);
    }
  });

  it("takes a path (opened and closed here: the temporary cache is gone after) or a reader (left open)", async () => {
    const options = { predictors: ["zero", "last", "ema0.9"], bootstrap: false };
    const reader = openTrace(stdir);
    const fromReader = await analyzeWithSeries(reader, options);
    expect(reader.readTensor(0, "fc1.bias").length).toBe(12); // still the caller's, still open
    reader.close();
    // The directory of the trace file works too (a run directory holding one .gtrace).
    for (const source of [stdir, gtrace, dir]) {
      const fromPath = await analyzeWithSeries(source, options);
      expect(fromPath.result.total.kappa).toEqual(fromReader.result.total.kappa);
      expect(fromPath.stepIndices).toEqual(fromReader.stepIndices);
    }
    // Deflated npz needs a cache under tmpDir while open; analyze(path) must have closed (and so deleted) it.
    const npz = path.join(dir, "npz");
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp);
    const converted = openTrace(stdir);
    convertTrace(converted, npz, { format: "npz-dir", compress: true });
    converted.close();
    const r = await analyze(npz, { ...options, open: { tmpDir: tmp } });
    expect(r.trace.format).toBe("npz-dir");
    expect(r.total.kappa.last).toBeCloseTo(fromReader.result.total.kappa.last, 6);
    expect(fs.readdirSync(tmp)).toEqual([]);
    // A bad option fails before anything is opened; a bad path names the path.
    await expect(analyze(path.join(dir, "absent"), options)).rejects.toThrow(/absent: no such file/);
    await expect(analyze(stdir, { predictors: ["nope"] })).rejects.toThrow(/unknown predictor "nope"/);
  });

  it("finds the rank of the increments: r*(ε) of a rank-3 signal plus small noise is 3", async () => {
    const reader = openTrace(gtrace);
    const r = await analyze(reader, { predictors: ["zero", "last"], bootstrap: false, eps: [0.05] });
    reader.close();
    expect(r.tensors[0].predictableRank["0.05"]).toBe(3);
    expect(r.total.predictableRank["0.05"]).toBeLessThanOrEqual(3 * names.length);
    // Oracle rank-k path length: k = 0 is ‖g_0‖² + ‖H‖_F² = P_T(last), brute force from explicit increments.
    const v = steps.map((s) => Float64Array.from(s["fc1.weight"]));
    let h = v[0].reduce((s, x) => s + x * x, 0);
    for (let t = 1; t < v.length; t++)
      for (let i = 0; i < v[t].length; i++) h += (v[t][i] - v[t - 1][i]) ** 2;
    expect(r.tensors[0].increments.oracleRankPathLength[0]).toBeCloseTo(h, 6);
    expect(r.tensors[0].increments.oracleRankPathLength[0]).toBeCloseTo(r.tensors[0].pathLength.last, 8);
  });

  it("gives r*(ε) per window equal to brute force on each window's explicit increments, per tensor and in total", async () => {
    const reader = openTrace(gtrace);
    const eps = [0.1, 0.01];
    const r = await analyze(reader, { predictors: ["zero"], bootstrap: false, eps, window: 10 });
    reader.close();
    const cases = [
      ...r.tensors.map((t) => ({ t, vecs: steps.map((s) => Float64Array.from(s[t.name])) })),
      { t: r.total, vecs: steps.map((s) => concat(s, names)) },
    ];
    for (const { t, vecs } of cases) {
      const w = t.windows!;
      expect(w.size).toBe(10);
      expect(w.starts).toEqual([0, 5, 10, 15, 20, 25, 30]);
      expect(Object.keys(w.predictableRank)).toEqual(eps.map(String));
      for (const e of eps) {
        expect(w.predictableRank[String(e)], `${t.name} ε=${e}`).toEqual(
          w.starts.map((s) => bruteWindowRank(vecs, s, w.size, e)),
        );
      }
    }
  });

  it("gives bootstrap intervals that contain κ, windows that average to κ, and per-step CSV series", async () => {
    const reader = openTrace(gtrace);
    const { result, series } = await analyzeWithSeries(reader, {
      predictors: ["zero", "ema0.9"],
      window: 10,
    });
    reader.close();
    const ci = result.total.kappaCI!["ema0.9"];
    expect(ci[0]).toBeLessThanOrEqual(result.total.kappa["ema0.9"]);
    expect(ci[1]).toBeGreaterThanOrEqual(result.total.kappa["ema0.9"]);
    const s = series.get("total")!;
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(sum(s.error["ema0.9"]) / sum(s.gradNormSq)).toBeCloseTo(result.total.kappa["ema0.9"], 12);
    expect(result.total.windows!.kappa.zero.every((k) => Math.abs(k - 1) < 1e-12)).toBe(true);
  });

  it("measures stale-projector energy of matrix tensors: 1 at Δ where the subspace has not moved", async () => {
    const reader = openTrace(gtrace);
    const r = await analyze(reader, { predictors: ["zero"], bootstrap: false });
    reader.close();
    const m = r.tensors.find((t) => t.name === "fc1.weight")!.matrix!;
    expect(m.rows).toBe(12);
    expect(m.cols).toBe(20);
    // Rank-3 signal, projector rank 4: the subspace is fixed up to noise, so nearly all energy is kept.
    for (const e of m.staleEnergy.energy) expect(e).toBeGreaterThan(0.95);
    expect(r.tensors.find((t) => t.name === "fc1.bias")!.matrix).toBeUndefined();
    // Independent random 16×8 gradients: a rank-4 projector from one step keeps ≈ 4/16 of the next one's energy.
    const file = path.join(dir, "rot.gtrace");
    const w = createGtraceWriter(file, { tensors: [{ name: "rot.weight", shape: [16, 8] }] });
    const rng = createRng(11);
    for (let t = 0; t < 40; t++)
      w.append(t, { "rot.weight": Float32Array.from({ length: 128 }, () => rng.normal()) });
    w.close();
    const rr = openTrace(file);
    const rot = (await analyze(rr, { predictors: ["zero"], bootstrap: false })).tensors[0].matrix!;
    rr.close();
    for (const e of rot.staleEnergy.energy) {
      expect(e).toBeGreaterThan(0.1);
      expect(e).toBeLessThan(0.45);
    }
  });

  it("selects tensors by glob and regex, and rejects a selection that matches nothing", async () => {
    const reader = openTrace(gtrace);
    const r = await analyze(reader, { predictors: ["zero"], include: ["fc1.*"], bootstrap: false });
    expect(r.tensors.map((t) => t.name)).toEqual(["fc1.weight", "fc1.bias"]);
    const q = await analyze(reader, { predictors: ["zero"], include: ["/weight$/"], bootstrap: false });
    expect(q.tensors.map((t) => t.name)).toEqual(["fc1.weight", "fc2.weight"]);
    await expect(analyze(reader, { include: ["nothing*"] })).rejects.toThrow(/no tensor matches/);
    reader.close();
  });

  it("sketched mode: κ within the stated bound of the exact κ, and reported with its bound", async () => {
    const reader = openTrace(gtrace);
    const exact = await analyze(reader, { predictors: ["zero", "last", "ema0.9"], bootstrap: false });
    const sk = await analyze(reader, {
      predictors: ["zero", "last", "ema0.9"],
      bootstrap: false,
      sketch: "jl:256",
      seed: 3,
    });
    reader.close();
    const bound = sk.total.sketch!.errorBound;
    expect(bound).toBeGreaterThan(0);
    for (const id of ["last", "ema0.9"]) {
      // κ is a ratio of two sums of squared norms, each within (1 ± ε): |Δκ|/κ ≤ 2ε/(1 − ε).
      expect(
        Math.abs(sk.total.kappa[id] - exact.total.kappa[id]) / exact.total.kappa[id],
      ).toBeLessThanOrEqual((2 * bound) / (1 - bound));
      expect(sk.total.sketch!.measuredError![id]).toBeGreaterThanOrEqual(0);
    }
  });

  it("fd sketch: K̃ ≼ K within the measured shrinkage, κ within its deterministic bound, exact when ℓ ≥ T", async () => {
    const reader = openTrace(gtrace);
    const exact = await analyze(reader, { predictors: ["zero", "last", "ema0.9"], bootstrap: false });
    const fd = await analyze(reader, {
      predictors: ["zero", "last", "ema0.9"],
      bootstrap: false,
      sketch: "fd:8",
    });
    const full = await analyze(reader, { predictors: ["zero", "last"], bootstrap: false, sketch: "fd:48" });
    reader.close();
    expect(fd.total.sketch!.kind).toBe("fd");
    expect(fd.total.sketch!.confidence).toBe(1);
    // ‖K − K̃‖₂ ≤ Δ: every quadratic form cᵀKc moves by at most Δ‖c‖². For `last`, Σ_t‖c_t‖² = 2T − 1 and
    // Σ‖g_t‖² moves by at most nΔ; with Δ = errorBound · mean‖g_t‖² this bounds |Δκ|.
    const n = exact.total.steps;
    const delta = (fd.total.sketch!.errorBound * exact.total.gradNormSq) / n;
    const p = exact.total.pathLength.last;
    const g = exact.total.gradNormSq;
    const worst = Math.max(
      Math.abs((p + (2 * n - 1) * delta) / (g - n * delta) - p / g),
      Math.abs((p - (2 * n - 1) * delta) / g - p / g),
    );
    expect(Math.abs(fd.total.kappa.last - exact.total.kappa.last)).toBeLessThanOrEqual(worst);
    // FD never overshoots: Σ‖g_t‖² from K̃ is at most the exact one.
    expect(fd.total.gradNormSq).toBeLessThanOrEqual(exact.total.gradNormSq * (1 + 1e-12));
    // A rank-3 signal per tensor plus small noise: 8 rows hold nearly everything.
    expect(fd.total.sketch!.errorBound).toBeLessThan(0.05);
    // ℓ ≥ T: the sketch is exact.
    expect(full.total.kappa.last).toBeCloseTo(exact.total.kappa.last, 9);
    expect(full.total.sketch!.errorBound).toBeLessThan(1e-9);
    const again = openTrace(gtrace);
    await expect(analyze(again, { sketch: "fd:1" })).rejects.toThrow(/fd:<ℓ>/);
    again.close();
  });

  it("excludes steps with NaN gradients and reports them", async () => {
    const bad = path.join(dir, "nan.gtrace");
    const w = createGtraceWriter(bad, { tensors: [{ name: "w", shape: [8] }] });
    const rng = createRng(5);
    const vecs: Float64Array[] = [];
    for (let t = 0; t < 12; t++) {
      const g = Float32Array.from({ length: 8 }, () => rng.normal());
      if (t === 5) g[3] = Number.NaN;
      else vecs.push(Float64Array.from(g));
      w.append(t, { w: g });
    }
    w.close();
    const reader = openTrace(bad);
    const r = await analyze(reader, { predictors: ["zero", "last"], bootstrap: false });
    reader.close();
    expect(r.trace.steps).toBe(11);
    expect(r.trace.problems).toEqual([
      { kind: "nonfinite", step: 5, message: expect.stringMatching(/NaN\/Inf.*5/) },
    ]);
    expect(r.trace.excludedSteps).toEqual({ nonfinite: 1, corrupt: 0 });
    expect(r.total.kappa.last).toBeCloseTo(bruteKappa(vecs, "last"), 9);
    // Sketched mode detects the same step from the sketched row alone.
    const sk = openTrace(bad);
    const rs = await analyze(sk, {
      predictors: ["zero", "last"],
      bootstrap: false,
      sketch: "countsketch:32",
    });
    sk.close();
    expect(rs.trace.steps).toBe(11);
    expect(rs.trace.problems.map((p) => [p.kind, p.step])).toEqual([["nonfinite", 5]]);
    expect(rs.total.kappa.zero).toBe(1);
  });

  it("momentum-matched predictor: m_t is the buffer logged with step t−1 (brute force), and it needs the buffer", async () => {
    const file = path.join(dir, "mom.gtrace");
    const w = createGtraceWriter(file, { tensors: [{ name: "w", shape: [6] }] });
    const rng = createRng(9);
    const grads: Float64Array[] = [];
    const bufs: Float64Array[] = [];
    const buf = new Float32Array(6);
    for (let t = 0; t < 15; t++) {
      const g = Float32Array.from({ length: 6 }, (_, i) => Math.sin(0.3 * t + i) + 0.1 * rng.normal());
      for (let i = 0; i < 6; i++) buf[i] = 0.9 * buf[i] + g[i];
      grads.push(Float64Array.from(g));
      bufs.push(Float64Array.from(buf));
      w.append(t, { w: g }, { momentum: { w: Float32Array.from(buf) } });
    }
    w.close();
    const reader = openTrace(file);
    const r = await analyze(reader, { predictors: ["zero", "momentum", "momentum0.1"], bootstrap: false });
    reader.close();
    for (const [id, scale] of [
      ["momentum", 1],
      ["momentum0.1", 0.1],
    ] as const) {
      let num = 0;
      let den = 0;
      grads.forEach((g, t) => {
        for (let i = 0; i < 6; i++) {
          const m = t === 0 ? 0 : scale * bufs[t - 1][i];
          num += (g[i] - m) ** 2;
          den += g[i] ** 2;
        }
      });
      expect(r.total.kappa[id]).toBeCloseTo(num / den, 6);
    }
    // With the default predictor set, a trace that logged the buffer gets the momentum predictor automatically.
    const again = openTrace(file);
    const d = await analyze(again, { bootstrap: false });
    again.close();
    expect(d.total.kappa.momentum).toBeCloseTo(r.total.kappa.momentum, 12);
    const plain = openTrace(stdir);
    expect(Object.keys((await analyze(plain, { bootstrap: false })).total.kappa)).not.toContain("momentum");
    await expect(analyze(plain, { predictors: ["momentum"] })).rejects.toThrow(/momentum buffer/);
    plain.close();
  });
});
