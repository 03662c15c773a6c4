/** @file The zoo's GaLore-style projected Adam against references: without projection (no setting, or r at the
 * shorter side) it is the zoo's Adam bit for bit; with projection it matches a brute-force implementation written
 * here on ml-matrix (dense SVD on the untransposed gradient, left vectors for a wide matrix and right vectors for a
 * tall one, as galore-torch picks them; moments on the projected gradient; the step projected back). */
import { Matrix, SVD } from "ml-matrix";
import { describe, expect, test } from "vitest";
import { projectedStateSize } from "../../src/analysis/index.ts";
import { createRng } from "../../src/core/index.ts";
import { createGaloreAdam, galoreStateSize } from "../../src/lab/zoo/galoreAdam.ts";
import { createOptimizer } from "../../src/lab/zoo/optimizers.ts";
import type { ParamSpec } from "../../src/lab/zoo/params.ts";

const SPECS: readonly ParamSpec[] = [
  { name: "wide.weight", shape: [5, 8], init: { kind: "lecun" } },
  { name: "tall.weight", shape: [9, 2, 2], init: { kind: "lecun" } },
  { name: "bias", shape: [5], init: { kind: "constant", value: 0 } },
];

function randomArrays(seed: number): Record<string, Float32Array> {
  const rng = createRng(seed);
  const out: Record<string, Float32Array> = {};
  for (const s of SPECS) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    out[s.name] = Float32Array.from({ length: n }, () => rng.normal());
  }
  return out;
}

function clone(p: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));
}

/** Reference GaLore Adam for one matrix parameter (rows × cols), float32 parameter storage like the zoo. */
function referenceGalore(
  rows: number,
  cols: number,
  rank: number,
  interval: number,
  lr: number,
  scale: number,
) {
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  const tall = rows > cols;
  let P: Matrix | null = null;
  let m = Matrix.zeros(tall ? rows : rank, tall ? rank : cols);
  let v = Matrix.zeros(m.rows, m.columns);
  let t = 0;
  return (p: Float32Array, g: Float32Array) => {
    t += 1;
    const G = new Matrix(
      Array.from({ length: rows }, (_, i) => Array.from(g.subarray(i * cols, (i + 1) * cols))),
    );
    if ((t - 1) % interval === 0) {
      const svd = new SVD(G, { autoTranspose: true });
      const vecs = tall ? svd.rightSingularVectors : svd.leftSingularVectors;
      P = vecs.subMatrix(0, vecs.rows - 1, 0, rank - 1);
      for (let j = 0; j < rank; j++) {
        const col = P.getColumn(j);
        const big = col.reduce((bi, x, i) => (Math.abs(x) > Math.abs(col[bi]) ? i : bi), 0);
        if (col[big] < 0)
          P.setColumn(
            j,
            col.map((x) => -x),
          );
      }
    }
    const Pm = P as Matrix;
    const R = tall ? G.mmul(Pm) : Pm.transpose().mmul(G);
    m = Matrix.mul(m, b1).add(Matrix.mul(R, 1 - b1));
    const R2 = new Matrix(R.rows, R.columns);
    for (let i = 0; i < R.rows; i++) for (let j = 0; j < R.columns; j++) R2.set(i, j, R.get(i, j) ** 2);
    v = Matrix.mul(v, b2).add(Matrix.mul(R2, 1 - b2));
    const N = new Matrix(m.rows, m.columns);
    for (let i = 0; i < m.rows; i++)
      for (let j = 0; j < m.columns; j++)
        N.set(i, j, m.get(i, j) / (1 - b1 ** t) / (Math.sqrt(v.get(i, j) / (1 - b2 ** t)) + eps));
    const step = tall ? N.mmul(Pm.transpose()) : Pm.mmul(N);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++)
        p[i * cols + j] = Math.fround(p[i * cols + j] - lr * scale * step.get(i, j));
  };
}

describe("createGaloreAdam", () => {
  test("without projection (no setting; rank at the shorter side) it is the zoo's Adam, bit for bit", () => {
    const a = randomArrays(1);
    const b = clone(a);
    const adam = createOptimizer({ name: "adam", weightDecay: 0.01 });
    const galore = createGaloreAdam({
      params: SPECS,
      settings: { "wide.weight": { rank: 5, interval: 2 }, "tall.weight": { rank: 4, interval: 1 } },
      weightDecay: 0.01,
    });
    for (let step = 0; step < 6; step++) {
      const g = randomArrays(100 + step);
      adam.update(a, g, 0.01);
      galore.update(b, g, 0.01);
    }
    for (const s of SPECS) expect(Array.from(b[s.name])).toEqual(Array.from(a[s.name]));
    expect(galore.momentumBuffer()?.bias).toEqual(adam.momentumBuffer()?.bias);
  });

  test.each([
    ["wide (left projector)", "wide.weight", 5, 8, 2, 3],
    ["tall (right projector)", "tall.weight", 9, 4, 3, 2],
  ])("%s matches the brute-force reference over refreshes", (_name, key, rows, cols, rank, interval) => {
    const lr = 0.01;
    const scale = 0.25;
    const params = randomArrays(2);
    const ref = params[key].slice();
    const galore = createGaloreAdam({ params: SPECS, settings: { [key]: { rank, interval } }, scale });
    const step = referenceGalore(rows, cols, rank, interval, lr, scale);
    for (let t = 0; t < 8; t++) {
      const g = randomArrays(200 + t);
      galore.update(params, g, lr);
      step(ref, g[key]);
    }
    let maxDiff = 0;
    let maxMove = 0;
    const start = randomArrays(2)[key];
    for (let i = 0; i < ref.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(params[key][i] - ref[i]));
      maxMove = Math.max(maxMove, Math.abs(ref[i] - start[i]));
    }
    // The parameters moved (8 steps of ~lr·scale each), and both implementations agree to float32 rounding.
    expect(maxMove).toBeGreaterThan(lr * scale);
    expect(maxDiff).toBeLessThan(1e-6);
    // The momentum handed to the trace logger is P·m in the parameter's layout: rank ≤ r.
    const buf = galore.momentumBuffer()?.[key];
    expect(buf).toHaveLength(rows * cols);
    const M = new Matrix(
      Array.from({ length: rows }, (_, i) =>
        Array.from((buf as Float32Array).subarray(i * cols, (i + 1) * cols)),
      ),
    );
    const sv = new SVD(M, { autoTranspose: true }).diagonal;
    expect(sv[rank] ?? 0).toBeLessThan(1e-5 * sv[0]);
  });

  test("state size equals advise()'s count; unknown parameters and bad settings are refused", () => {
    expect(galoreStateSize([5, 8], { rank: 2, interval: 10 })).toBe(projectedStateSize(5, 8, 2));
    expect(galoreStateSize([9, 2, 2], { rank: 3, interval: 10 })).toBe(projectedStateSize(4, 9, 3));
    expect(galoreStateSize([5, 8], { rank: 5, interval: 10 })).toBe(80);
    expect(galoreStateSize([5], { rank: 1, interval: 10 })).toBe(10);
    expect(() => createGaloreAdam({ params: SPECS, settings: { nope: { rank: 1, interval: 1 } } })).toThrow(
      /unknown parameter "nope"/,
    );
    expect(() =>
      createGaloreAdam({ params: SPECS, settings: { "wide.weight": { rank: 0, interval: 1 } } }),
    ).toThrow(/positive integer rank/);
  });
});
