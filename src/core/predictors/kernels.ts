/** @file The few vector kernels the live predictors need, hand-written because they must run in one pass over a
 * float32 gradient while accumulating in float64, which no installed library offers for plain typed arrays. */
import type { Vec } from "../matrix.ts";

export function dot(a: Vec, b: Vec): number {
  let s = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/** ‖g − m‖², ⟨g, m⟩, ‖m‖² in one pass (m null = the zero vector). */
export function compareWithPrediction(
  g: Vec,
  m: Float64Array | null,
): { error: number; cross: number; normSq: number } {
  if (m === null) return { error: dot(g, g), cross: 0, normSq: 0 };
  let error = 0;
  let cross = 0;
  let normSq = 0;
  const n = g.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = m[i];
    const d = gi - mi;
    error += d * d;
    cross += gi * mi;
    normSq += mi * mi;
  }
  return { error, cross, normSq };
}

/** out = Σ_l c[l] · vectors[l] (float64 accumulation). */
export function combine(out: Float64Array, c: Float64Array, vectors: readonly Vec[]): Float64Array {
  out.fill(0);
  for (let l = 0; l < c.length; l++) {
    const cl = c[l];
    if (cl === 0) continue;
    const v = vectors[l];
    for (let i = 0; i < out.length; i++) out[i] += cl * v[i];
  }
  return out;
}
