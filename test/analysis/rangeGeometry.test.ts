/** @file Range-sketch geometry on synthetic matrix gradients with a clear structure (a rank-3 signal whose left
 * subspace rotates slowly, plus small noise), written as range sketches Y_t = G_t·Ω with the loggers' Ω
 * (rangeSketchOmega, checked equal to Python's in the Python suite): the estimates agree with the exact geometry
 * computed from the full G_t, well within a stated error that is itself small — the regime where 32 probes suffice —
 * and the projector-perturbation term makes the error honest when the spectrum is flat. */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { matrixGeometry } from "../../src/analysis/matrixGeometry.ts";
import { rangeGeometry } from "../../src/analysis/rangeGeometry.ts";
import { createRng, matmul, rangeSketchOmega } from "../../src/core/index.ts";
import { mat, type Mat } from "../../src/core/matrix.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { tempDir } from "../trace/helpers.ts";

const ROWS = 40;
const COLS = 60;
const S = 32;

/** G_t = U_t diag(σ) V_tᵀ + noise, U_t rotating by angle θ·t in a fixed plane pair. */
function gradients(steps: number, noise: number, sigma: number[]): Mat[] {
  const rng = createRng(5);
  const base = mat(ROWS, COLS);
  for (let i = 0; i < base.data.length; i++) base.data[i] = rng.normal();
  const out: Mat[] = [];
  for (let t = 0; t < steps; t++) {
    const g = mat(ROWS, COLS);
    const theta = 0.05 * t;
    for (let r = 0; r < sigma.length; r++) {
      for (let i = 0; i < ROWS; i++) {
        // Left vector r: e_r rotated toward e_{r+3} by θ; right vector r: row r of `base` (fixed).
        const u = i === r ? Math.cos(theta) : i === r + 3 ? Math.sin(theta) : 0;
        if (u === 0) continue;
        for (let j = 0; j < COLS; j++)
          g.data[i * COLS + j] += (sigma[r] * u * base.data[r * COLS + j]) / Math.sqrt(COLS);
      }
    }
    for (let i = 0; i < g.data.length; i++) g.data[i] += noise * rng.normal();
    out.push(g);
  }
  return out;
}

function writeTrace(file: string, gs: Mat[]): void {
  const omega = rangeSketchOmega(7, "w", COLS, S);
  const w = createGtraceWriter(file, {
    tensors: [{ name: "w", shape: [ROWS, COLS] }],
    rangeSketch: { s: S, seed: 7, seeding: "name", tensors: [{ name: "w", rows: ROWS, cols: COLS }] },
  });
  gs.forEach((g, t) => {
    w.append(t, { w: Float32Array.from(g.data) }, { range: { w: Float32Array.from(matmul(g, omega).data) } });
  });
  w.close();
}

describe("rangeGeometry", () => {
  it("recovers a clear low-rank structure tightly", () => {
    const file = path.join(tempDir(), "g.gtrace");
    writeTrace(file, gradients(24, 0.002, [3, 2, 1.5]));
    const r = openTrace(file);
    try {
      const kept = r.info.steps.map((_, i) => i);
      const t = r.info.tensors[0];
      const exact = matrixGeometry(r, t, kept, { k: 3, drift: true })!;
      const est = rangeGeometry(r, "w", kept, { k: 3 })!;
      expect(est.at).toEqual(exact.at);
      for (let i = 0; i < exact.at.length; i++) {
        for (let j = 0; j < 3; j++) {
          const e = est.singularValues[i][j];
          const x = exact.singularValues[i][j];
          expect(Math.abs(e - x)).toBeLessThanOrEqual(est.error!.singularValues[i][j]);
          // 32 Gaussian probes of a rank-3 matrix: σ̂ within ~25% (χ²₃₂ spread), and the error says so.
          expect(Math.abs(e - x) / x).toBeLessThan(0.3);
        }
      }
      exact.staleEnergy.energy.forEach((x, j) => {
        expect(Math.abs(est.staleEnergy.energy[j] - x)).toBeLessThanOrEqual(est.error!.staleEnergy[j]);
        expect(est.error!.staleEnergy[j]).toBeLessThan(0.05);
      });
      exact.drift!.value.forEach((x, j) => {
        expect(Math.abs(est.drift!.value[j] - x)).toBeLessThanOrEqual(est.error!.drift[j]);
        expect(est.error!.drift[j]).toBeLessThan(0.05);
      });
      // The rotation makes the drift grow with Δ (sin²(0.05·Δ) for two of three directions ⇒ ≈ ⅔ sin²).
      const d = exact.drift!;
      expect(d.value[d.value.length - 1]).toBeGreaterThan(d.value[0]);
      expect(est.drift!.value[est.drift!.value.length - 1]).toBeGreaterThan(est.drift!.value[0]);
    } finally {
      r.close();
    }
  });

  it("states a wide error when the top subspace is not resolved (flat spectrum)", () => {
    const file = path.join(tempDir(), "flat.gtrace");
    writeTrace(file, gradients(12, 0.3, [0.1, 0.1, 0.1]));
    const r = openTrace(file);
    try {
      const kept = r.info.steps.map((_, i) => i);
      const exact = matrixGeometry(r, r.info.tensors[0], kept, { k: 3, drift: true })!;
      const est = rangeGeometry(r, "w", kept, { k: 3 })!;
      exact.staleEnergy.energy.forEach((x, j) => {
        expect(Math.abs(est.staleEnergy.energy[j] - x)).toBeLessThanOrEqual(est.error!.staleEnergy[j]);
      });
      exact.drift!.value.forEach((x, j) => {
        expect(Math.abs(est.drift!.value[j] - x)).toBeLessThanOrEqual(est.error!.drift[j]);
      });
      expect(Math.max(...est.error!.drift)).toBeGreaterThan(0.3);
    } finally {
      r.close();
    }
  });
});
