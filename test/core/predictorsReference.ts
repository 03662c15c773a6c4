/** @file Brute-force reference predictors for the tests: explicit vectors, explicit least squares and SVD through
 * ml-matrix — deliberately a different route from the Gram-based code under test. */
import { Matrix, SingularValueDecomposition, solve } from "ml-matrix";
import { expect } from "vitest";
import { type Mat, mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";

export function randomSequence(steps: number, dim: number, seed: number): Float64Array[] {
  const rng = createRng(seed);
  return Array.from({ length: steps }, () => Float64Array.from({ length: dim }, () => rng.normal()));
}

/** A smooth, correlated sequence (random walk plus noise), closer to real gradients than i.i.d. noise. */
export function driftingSequence(steps: number, dim: number, seed: number): Float64Array[] {
  const rng = createRng(seed);
  const x = Float64Array.from({ length: dim }, () => rng.normal());
  return Array.from({ length: steps }, () => {
    for (let i = 0; i < dim; i++) x[i] += 0.3 * rng.normal();
    return Float64Array.from(x, (v) => v + 0.1 * rng.normal());
  });
}

export function gramOf(g: readonly ArrayLike<number>[]): Mat {
  const n = g.length;
  const k = mat(n, n);
  for (let t = 0; t < n; t++) {
    for (let s = 0; s < n; s++) {
      let d = 0;
      for (let i = 0; i < g[t].length; i++) d += g[t][i] * g[s][i];
      k.data[t * n + s] = d;
    }
  }
  return k;
}

const sub = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, i) => v - b[i]);
const scaleAdd = (a: Float64Array, x: number, b: Float64Array, y: number): Float64Array =>
  a.map((v, i) => x * v + y * b[i]);
const normSq = (a: Float64Array): number => a.reduce((s, v) => s + v * v, 0);

/** m_t for every t by the textbook definition of each predictor. */
export function explicitPredictions(id: string, g: Float64Array[]): (Float64Array | null)[] {
  const dim = g[0].length;
  const out: (Float64Array | null)[] = [null];
  let ema: Float64Array | null = null;
  for (let t = 1; t < g.length; t++) {
    let m: Float64Array | null = null;
    if (id === "zero") m = null;
    else if (id === "last") m = g[t - 1].slice();
    else if (id === "linear") m = t === 1 ? g[0].slice() : scaleAdd(g[t - 1], 2, g[t - 2], -1);
    else if (id.startsWith("ema")) {
      // ema<β>: m_1 = g_0; ema<β>z: m_0 = 0 and the same recursion from t = 1, so m_1 = (1−β) g_0.
      const zeroInit = id.endsWith("z");
      const beta = Number(id.slice(3, zeroInit ? -1 : undefined));
      if (ema === null) ema = zeroInit ? g[0].map((v) => (1 - beta) * v) : g[0].slice();
      else ema = scaleAdd(ema, beta, g[t - 1], 1 - beta);
      m = ema;
    } else if (id.startsWith("ar")) {
      const p = Number(id.slice(2));
      m = t <= p ? g[t - 1].slice() : arPrediction(g, t, p, 1e-6);
    } else if (id.startsWith("lowrank")) {
      const [k, w] = id.slice(7).split("w").map(Number);
      m = lowrankPrediction(g, t, k, w);
    } else throw new Error(`no reference for ${id}`);
    out.push(m === null ? new Float64Array(dim) : m);
  }
  return out;
}

/** Ridge least squares over the stacked samples s = p..t−1 (rows: coordinates of every sample). */
export function arCoefficients(g: Float64Array[], t: number, p: number, ridge: number): number[] {
  const dim = g[0].length;
  const rows: number[][] = [];
  const y: number[] = [];
  for (let s = p; s < t; s++) {
    for (let i = 0; i < dim; i++) {
      rows.push(Array.from({ length: p }, (_, l) => g[s - 1 - l][i]));
      y.push(g[s][i]);
    }
  }
  const x = new Matrix(rows);
  const xtx = x.transpose().mmul(x);
  const trace = Array.from({ length: p }, (_, i) => xtx.get(i, i)).reduce((a, b) => a + b, 0);
  for (let i = 0; i < p; i++) xtx.set(i, i, xtx.get(i, i) + (ridge * trace) / p);
  const xty = x.transpose().mmul(Matrix.columnVector(y));
  return solve(xtx, xty).getColumn(0);
}

function arPrediction(g: Float64Array[], t: number, p: number, ridge: number): Float64Array {
  const a = arCoefficients(g, t, p, ridge);
  const m = new Float64Array(g[0].length);
  a.forEach((ai, l) => {
    for (let i = 0; i < m.length; i++) m[i] += ai * g[t - 1 - l][i];
  });
  return m;
}

/** U_k U_kᵀ g_{t−1} with U from the SVD of the explicit window matrix. */
export function lowrankPrediction(g: Float64Array[], t: number, k: number, w: number): Float64Array {
  const n = Math.min(w, t);
  const window = new Matrix(g[0].length, n);
  for (let a = 0; a < n; a++) window.setColumn(a, Array.from(g[t - 1 - a]));
  const svd = new SingularValueDecomposition(window, { autoTranspose: true });
  const sigma = svd.diagonal;
  const u = svd.leftSingularVectors;
  const m = new Float64Array(g[0].length);
  const last = g[t - 1];
  for (let i = 0; i < Math.min(k, sigma.length); i++) {
    if (!(sigma[i] ** 2 > 1e-12 * n * sigma[0] ** 2)) break;
    const col = u.getColumn(i);
    const c = col.reduce((s, v, j) => s + v * last[j], 0);
    for (let j = 0; j < m.length; j++) m[j] += c * col[j];
  }
  return m;
}

export function explicitErrors(id: string, g: Float64Array[]): Float64Array {
  const preds = explicitPredictions(id, g);
  return Float64Array.from(g, (gt, t) => normSq(preds[t] === null ? gt : sub(gt, preds[t]!)));
}

/** Element-wise |actual − expected| ≤ rtol·max(|expected|, 10⁻³·max|expected|): relative, except that entries far
 * below the largest are held to a tolerance relative to it (their own magnitude is rounding noise). */
export function expectRelClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  label: string,
): void {
  expect(actual.length, label).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (!(diff <= rtol * Math.max(Math.abs(expected[i]), 1e-3 * scale))) {
      throw new Error(`${label}[${i}]: ${actual[i]} vs ${expected[i]} (diff ${diff})`);
    }
  }
}
