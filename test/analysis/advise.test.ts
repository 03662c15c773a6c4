/** @file Tests of the GaLore advisor (src/analysis/advise): E(r, Δ) against a brute-force reference (ml-matrix's
 * dense SVD of the untransposed gradient, left or right vectors as GaLore picks them, one SVD per refresh) and on
 * planted subspaces with closed-form answers; the choice, memory totals, progress share and intervals on written
 * traces. */
import * as path from "node:path";
import { Matrix, SVD } from "ml-matrix";
import { describe, expect, test } from "vitest";
import {
  advise,
  capturedEnergySeries,
  fullStateSize,
  type OrientedSteps,
  projectedStateSize,
} from "../../src/analysis/index.ts";
import { createRng, type Mat, mat, matmul, rangeSketchOmega, transpose } from "../../src/core/index.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { fromSvd, randomMat, randomOrthonormal } from "../core/linalgTestUtils.ts";
import { expectError, tempDir } from "../trace/helpers.ts";

/** Oriented view of a list of matrices (the shorter side first), as advise() builds from a trace. */
function oriented(gs: readonly Mat[], us?: readonly Mat[]): OrientedSteps {
  const flip = gs[0].rows > gs[0].cols;
  const o = (m: Mat) => (flip ? transpose(m) : m);
  return {
    steps: gs.length,
    rows: Math.min(gs[0].rows, gs[0].cols),
    cols: Math.max(gs[0].rows, gs[0].cols),
    gradient: (t) => o(gs[t]),
    ...(us ? { update: (t: number) => o(us[t]) } : {}),
  };
}

/** Brute force: for every step, the SVD of the gradient at its last refresh, GaLore's side, ‖projection‖²/‖G‖². */
function bruteEnergy(gs: readonly Mat[], r: number, delta: number): number {
  let sum = 0;
  for (let t = 0; t < gs.length; t++) {
    const t0 = Math.floor(t / delta) * delta;
    const g0 = new Matrix(
      Array.from({ length: gs[t0].rows }, (_, i) =>
        Array.from(gs[t0].data.subarray(i * gs[t0].cols, (i + 1) * gs[t0].cols)),
      ),
    );
    const g = new Matrix(
      Array.from({ length: gs[t].rows }, (_, i) =>
        Array.from(gs[t].data.subarray(i * gs[t].cols, (i + 1) * gs[t].cols)),
      ),
    );
    const svd = new SVD(g0, { autoTranspose: true });
    const tall = g.rows > g.columns;
    // GaLore: rows ≥ cols projects on the right (G·P, P = top-r right vectors), else on the left (Pᵀ·G).
    const basis = (tall ? svd.rightSingularVectors : svd.leftSingularVectors).subMatrix(
      0,
      (tall ? g.columns : g.rows) - 1,
      0,
      r - 1,
    );
    const proj = tall ? g.mmul(basis) : basis.transpose().mmul(g);
    sum += proj.norm("frobenius") ** 2 / g.norm("frobenius") ** 2;
  }
  return sum / gs.length;
}

function mean(xs: Float64Array): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** A random walk of gradients: correlated over time, so the projector's staleness matters. */
function walk(rows: number, cols: number, steps: number, seed: number, drift = 0.3): Mat[] {
  const out: Mat[] = [];
  let g = randomMat(rows, cols, seed);
  for (let t = 0; t < steps; t++) {
    const noise = randomMat(rows, cols, seed * 1000 + t + 1);
    g = mat(
      rows,
      cols,
      g.data.map((x, i) => x + drift * noise.data[i]),
    );
    out.push(g);
  }
  return out;
}

describe("capturedEnergySeries", () => {
  test.each([
    ["wide (left projector)", 6, 11],
    ["tall (right projector)", 13, 5],
  ])("%s: matches the brute-force SVD per refresh on every (r, Δ)", (_name, rows, cols) => {
    const gs = walk(rows, cols, 17, rows);
    const ranks = [1, 2, 4];
    const intervals = [1, 3, 5, 17];
    const series = capturedEnergySeries(oriented(gs), { ranks, intervals });
    ranks.forEach((r, i) => {
      intervals.forEach((d, j) => {
        expect(mean(series.perStep[i][j])).toBeCloseTo(bruteEnergy(gs, r, d), 10);
      });
    });
  });

  test("meanByRank holds every rank up to maxRank and agrees with the grid", () => {
    const gs = walk(5, 9, 12, 3);
    const s = capturedEnergySeries(oriented(gs), { ranks: [2, 3], intervals: [4], maxRank: 4 });
    expect(s.meanByRank[0]).toHaveLength(4);
    expect(s.meanByRank[0][1]).toBeCloseTo(mean(s.perStep[0][0]), 12);
    expect(s.meanByRank[0][2]).toBeCloseTo(mean(s.perStep[1][0]), 12);
    expect(s.meanByRank[0][3]).toBeCloseTo(bruteEnergy(gs, 4, 4), 10);
    // Nested subspaces: energy non-decreasing in r.
    for (let r = 1; r < 4; r++)
      expect(s.meanByRank[0][r]).toBeGreaterThanOrEqual(s.meanByRank[0][r - 1] - 1e-12);
  });

  test.each([
    ["wide", false],
    ["tall", true],
  ])("fixed planted subspace (%s): E(r, Δ) = 1 for every Δ", (_name, tall) => {
    const m = 12;
    const r = 3;
    const u = randomOrthonormal(m, r, 5);
    const gs = Array.from({ length: 40 }, (_, t) => {
      const g = fromSvd(u, [3 + Math.sin(t), 2, 1 + 0.5 * Math.cos(t)], randomOrthonormal(20, r, 100 + t));
      return tall ? transpose(g) : g;
    });
    const intervals = [1, 2, 7, 40];
    const s = capturedEnergySeries(oriented(gs), { ranks: [r], intervals });
    for (let j = 0; j < intervals.length; j++) expect(mean(s.perStep[0][j])).toBeCloseTo(1, 12);
  });

  test("independent random subspaces: E = (R + (T − R)·r/m)/T with R refreshes, within 0.03", () => {
    // Off-refresh steps keep a Beta(r·k/2, ·)-like share of mean r/m of their energy; one direction's share has
    // sd ≤ √(2(r/m)(1 − r/m)/(m + 2)) ≈ 0.08 at r/m = 1/8, m = 32, and averaging over ≥ 150 independent steps
    // shrinks that below 0.007: 0.03 is more than four standard deviations.
    const m = 32;
    const r = 4;
    const T = 200;
    const gs = Array.from({ length: T }, (_, t) =>
      fromSvd(randomOrthonormal(m, r, 7 + 2 * t), [4, 3, 2, 1], randomOrthonormal(48, r, 8 + 2 * t)),
    );
    const intervals = [1, 4, 25, 200];
    const s = capturedEnergySeries(oriented(gs), { ranks: [r], intervals });
    intervals.forEach((d, j) => {
      const refreshes = Math.ceil(T / d);
      const expected = (refreshes + (T - refreshes) * (r / m)) / T;
      expect(Math.abs(mean(s.perStep[0][j]) - expected)).toBeLessThan(0.03);
    });
    expect(mean(s.perStep[0][0])).toBeCloseTo(1, 12);
  });

  test("progress share with u = g is the energy weighted by ‖g‖²", () => {
    const gs = walk(6, 10, 15, 9);
    const s = capturedEnergySeries(oriented(gs, gs), { ranks: [2], intervals: [5] });
    const norms = gs.map((g) => g.data.reduce((a, x) => a + x * x, 0));
    const weighted =
      norms.reduce((a, n, t) => a + n * s.perStep[0][0][t], 0) / norms.reduce((a, n) => a + n, 0);
    const p = s.progress;
    expect(p).toBeDefined();
    const kept = p ? p.kept[0][0].reduce((a, x) => a + x, 0) : 0;
    const total = p ? p.total.reduce((a, x) => a + x, 0) : 1;
    expect(kept / total).toBeCloseTo(weighted, 10);
  });

  test("bad grids are refused with the values named", () => {
    const src = oriented(walk(4, 6, 3, 1));
    expectError(() => capturedEnergySeries(src, { ranks: [5], intervals: [1] }), "E_ARG", /ranks.*\[1, 4\]/);
    expectError(() => capturedEnergySeries(src, { ranks: [2, 1], intervals: [1] }), "E_ARG", /increasing/);
    expectError(() => capturedEnergySeries(src, { ranks: [1], intervals: [0] }), "E_ARG", /intervals/);
  });
});

/** A gtrace with a fixed-subspace tensor "fixed.weight" (24×10: right projector), a random-subspace one
 * "noise.weight" (8×30), a bias, and Adam-like momentum (EMA of the gradients). */
function plantedTrace(dir: string, seed: number, steps = 60): string {
  const file = path.join(dir, `planted-${seed}.gtrace`);
  const w = createGtraceWriter(file, {
    tensors: [
      { name: "fixed.weight", shape: [24, 10] },
      { name: "noise.weight", shape: [8, 30] },
      { name: "fixed.bias", shape: [24] },
    ],
  });
  const v = randomOrthonormal(10, 2, seed);
  let mFixed = new Float64Array(240);
  let mNoise = new Float64Array(240);
  for (let t = 0; t < steps; t++) {
    const fixed = fromSvd(randomOrthonormal(24, 2, seed * 7919 + t), [2 + Math.cos(t + seed), 1], v);
    const noise = randomMat(8, 30, seed * 104729 + t);
    mFixed = mFixed.map((x, i) => 0.9 * x + 0.1 * fixed.data[i]);
    mNoise = mNoise.map((x, i) => 0.9 * x + 0.1 * noise.data[i]);
    w.append(
      t,
      {
        "fixed.weight": Float32Array.from(fixed.data),
        "noise.weight": Float32Array.from(noise.data),
        "fixed.bias": new Float32Array(24).fill(0.1),
      },
      { momentum: { "fixed.weight": Float32Array.from(mFixed), "noise.weight": Float32Array.from(mNoise) } },
    );
  }
  w.close();
  return file;
}

describe("advise", () => {
  test("advice, memory totals and uniform setting on planted tensors", async () => {
    const dir = tempDir();
    const file = plantedTrace(dir, 1);
    const res = await advise(file, {
      target: 0.8,
      ranks: [1, 2, 4],
      intervals: [1, 5, 20, 60],
      resamples: 200,
    });
    expect(res.steps).toBe(60);
    expect(res.intervalMethod).toBe("block-bootstrap");
    expect(res.tensors.map((t) => t.name)).toEqual(["fixed.weight", "noise.weight"]);
    const [fixed, noise] = res.tensors;
    expect(fixed.side).toBe("right");
    expect(noise.side).toBe("left");
    // Fixed rank-2 right subspace: rank 2 keeps everything at every interval, so the longest interval is advised.
    expect(fixed.advice).toMatchObject({ rank: 2, interval: 60, projected: true });
    expect(fixed.advice.energy).toBeCloseTo(1, 6);
    expect(fixed.advice.memory).toBe(projectedStateSize(10, 24, 2));
    // Independent Gaussian gradients: the advice is the cheapest grid cell reaching the target with Δ ≥ minInterval
    // (10 by default; least memory, then the longest interval), or full Adam when none does at less memory.
    const cells = noise.ranks.flatMap((r, i) =>
      noise.intervals.map((d, j) => ({ r, d, e: noise.energy[i][j], mem: projectedStateSize(8, 30, r) })),
    );
    const feasible = cells.filter((c) => c.e >= 0.8 && c.d >= 10 && c.mem < fullStateSize(8, 30));
    if (feasible.length === 0) expect(noise.advice.projected).toBe(false);
    else {
      const best = feasible.sort((a, b) => a.mem - b.mem || b.d - a.d)[0];
      expect([noise.advice.rank, noise.advice.interval]).toEqual([best.r, best.d]);
    }
    for (const t of res.tensors) {
      t.energy.flat().forEach((e) => {
        expect(e).toBeGreaterThanOrEqual(0);
        expect(e).toBeLessThanOrEqual(1);
      });
      t.energyInterval.flat().forEach(([lo, hi], k) => {
        expect(lo).toBeLessThanOrEqual(t.energy.flat()[k] + 1e-12);
        expect(hi).toBeGreaterThanOrEqual(t.energy.flat()[k] - 1e-12);
      });
    }
    // Memory: the bias counts as full Adam in every total.
    const bias = 2 * 24;
    expect(res.memory.fullAdam).toBe(bias + 2 * 240 + 2 * 240);
    expect(res.memory.advice).toBe(bias + fixed.advice.memory + noise.advice.memory);
    const uniform = res.memory.uniform;
    expect(uniform).not.toBeNull();
    if (uniform) {
      // The uniform rank's total is the closest any single rank gets to the advice's memory.
      const cost = (r: number) =>
        bias +
        [
          [10, 24],
          [8, 30],
        ].reduce(
          (s, [a, b]) =>
            s +
            (r < a && projectedStateSize(a, b, r) < fullStateSize(a, b)
              ? projectedStateSize(a, b, r)
              : fullStateSize(a, b)),
          0,
        );
      expect(cost(uniform.rank)).toBe(uniform.memory);
      const gap = (r: number) => Math.abs(cost(r) - res.memory.advice);
      for (let r = 1; r <= 10; r++) expect(gap(uniform.rank)).toBeLessThanOrEqual(gap(r));
    }
    expect(res.hasUpdates).toBe(true);
    expect(fixed.progressShare?.[1][0]).toBeCloseTo(fixed.energy[1][0], 1);
    expect(res.snippet).toContain('"rank": 2, "update_proj_gap": 60');
    expect(res.snippet).toContain("target_modules");
    expect(res.caveat).toMatch(/Song, Ahn & Yun/);
  });

  test("several traces: intervals over seeds, energy = mean of the per-trace energies", async () => {
    const dir = tempDir();
    const files = [plantedTrace(dir, 2, 30), plantedTrace(dir, 3, 30), plantedTrace(dir, 4, 30)];
    const opts = { ranks: [1, 2], intervals: [3, 10], include: ["noise.*"] };
    const both = await advise(files, opts);
    expect(both.intervalMethod).toBe("seeds");
    const single = await Promise.all(files.map((f) => advise(f, opts)));
    const e = both.tensors[0].energy;
    e.forEach((row, i) => {
      row.forEach((x, j) => {
        const per = single.map((s) => s.tensors[0].energy[i][j]);
        expect(x).toBeCloseTo(per.reduce((a, b) => a + b, 0) / 3, 12);
        const [lo, hi] = both.tensors[0].energyInterval[i][j];
        expect(lo).toBeLessThanOrEqual(Math.min(...per) + 1e-12);
        expect(hi).toBeGreaterThanOrEqual(Math.max(...per) - 1e-12);
      });
    });
  });

  test("an open reader and the steps prefix; bad input is refused with specific errors", async () => {
    const dir = tempDir();
    const file = plantedTrace(dir, 5, 20);
    const reader = openTrace(file);
    const res = await advise(reader, { steps: 10, ranks: [2], intervals: [5, 10, 50] });
    expect(res.steps).toBe(10);
    expect(res.tensors[0].intervals).toEqual([5, 10]);
    reader.close();
    await expect(advise(file, { target: 1.5 })).rejects.toMatchObject({ code: "E_ARG" });
    await expect(advise(file, { intervals: [100] })).rejects.toThrow(/every interval exceeds the 20 steps/);
    await expect(advise(file, { include: ["nothing"] })).rejects.toThrow(/no tensor matches/);
  });
});

describe("advise from range sketches", () => {
  /** 24×60 gradients: a rank-3 signal whose left subspace rotates slowly, plus noise; and a tall 30×8 tensor. Full
   * gradients and range sketches Y = G·Ω (the loggers' Ω) in one trace, so both sources can be compared. */
  function sketchedTrace(file: string, steps: number): void {
    const rows = 24;
    const cols = 60;
    const s = 32;
    const omega = rangeSketchOmega(3, "w", cols, s);
    const rng = createRng(11);
    const base = randomMat(3, cols, 12);
    const w = createGtraceWriter(file, {
      tensors: [
        { name: "w", shape: [rows, cols] },
        { name: "tall", shape: [30, 8] },
      ],
      rangeSketch: {
        s,
        seed: 3,
        seeding: "name",
        tensors: [
          { name: "w", rows, cols },
          { name: "tall", rows: 30, cols: 8 },
        ],
      },
    });
    const omegaTall = rangeSketchOmega(3, "tall", 8, s);
    for (let t = 0; t < steps; t++) {
      const g = mat(rows, cols);
      const theta = 0.04 * t;
      [3, 2, 1.2].forEach((sigma, r) => {
        for (let j = 0; j < cols; j++) {
          g.data[r * cols + j] += sigma * Math.cos(theta) * base.data[r * cols + j];
          g.data[(r + 3) * cols + j] += sigma * Math.sin(theta) * base.data[r * cols + j];
        }
      });
      for (let i = 0; i < g.data.length; i++) g.data[i] += 0.05 * rng.normal();
      const tall = randomMat(30, 8, 500 + t);
      w.append(
        t,
        { w: Float32Array.from(g.data), tall: Float32Array.from(tall.data) },
        {
          range: {
            w: Float32Array.from(matmul(g, omega).data),
            tall: Float32Array.from(matmul(tall, omegaTall).data),
          },
        },
      );
    }
    w.close();
  }

  test("E(r, Δ) from range sketches agrees with full gradients within its stated error", async () => {
    const file = path.join(tempDir(), "sketched.gtrace");
    sketchedTrace(file, 30);
    const opts = { ranks: [1, 2, 3, 4, 8], intervals: [1, 5, 10, 30], include: ["w"] };
    const full = await advise(file, { ...opts, source: "gradients" });
    const sketched = await advise(file, { ...opts, source: "rangeSketch" });
    expect(sketched.intervalMethod).toBe("sketch-error");
    const [f] = full.tensors;
    const [s] = sketched.tensors;
    expect(s.source).toBe("rangeSketch");
    expect(s.ranks).toEqual(f.ranks);
    const err = s.energyError ?? [];
    s.energy.forEach((row, i) => {
      row.forEach((e, j) => {
        expect(Math.abs(e - f.energy[i][j])).toBeLessThanOrEqual(err[i][j]);
        // Up to the signal's rank 3 the error stays informative: each sketched squared norm carries a relative error
        // of about √(2/s) = 0.25, which moves a share E by at most ~2·E(1 − E)·0.25 ≈ 0.1 at E ≈ 0.7; beyond rank 3
        // the extra directions are noise, poorly separated, and the stated error grows (honestly).
        if (s.ranks[i] <= 3) expect(err[i][j]).toBeLessThan(0.15);
        const [lo, hi] = s.energyInterval[i][j];
        expect(lo).toBeLessThanOrEqual(e);
        expect(hi).toBeGreaterThanOrEqual(e);
      });
    });
    // Same advice at this separation: rank 3 holds the signal.
    expect(s.advice.rank).toBe(f.advice.rank);
  });

  test("a tall tensor is skipped with the reason (the sketch holds the other side)", async () => {
    const file = path.join(tempDir(), "sketched.gtrace");
    sketchedTrace(file, 12);
    const res = await advise(file, { source: "rangeSketch", intervals: [1, 4, 12], minInterval: 1 });
    expect(res.tensors.map((t) => t.name)).toEqual(["w"]);
    expect(res.skipped).toEqual([
      { name: "tall", reason: expect.stringMatching(/^tall \(30×8\): GaLore projects its row space/) },
    ]);
  });
});
