/** @file Matrix geometry from range sketches Y_t = G_t·Ω (rows × s, Ω with i.i.d. N(0, 1/s) entries, the same at
 * every step): the same numbers matrixGeometry.ts computes from full gradients — the top singular values of G_t at
 * sampled steps, the stale-projector energy ‖P_tᵀG_{t+Δ}‖_F²/‖G_{t+Δ}‖_F² and the drift 1 − ‖P_tᵀP_{t+Δ}‖_F²/k
 * between top-k left subspaces — estimated by the randomized range finder (Halko, Martinsson & Tropp 2011, §4–5):
 * since E[ΩΩᵀ] = I, YYᵀ is an unbiased sketch of GGᵀ, the singular values of Y estimate those of G and the top-k left
 * singular vectors of Y span the estimate P̂_t of G's top-k left subspace (Tropp, Yurtsever, Udell & Cevher 2017 use
 * the same fixed test matrix across a stream so that sketches of different steps compare).
 *
 * Everything is computed from s×s Grams, never from the rows × s sketches again: with K_t = Y_tᵀY_t = V Λ Vᵀ,
 * σ̂_i = √λ_i, P̂_t = Y_t V_k Λ_k^{−1/2}, so P̂_tᵀY_u = Λ_k^{−1/2} V_kᵀ (Y_tᵀY_u) and P̂_tᵀP̂_u follow from the cross-Gram
 * C_tu = Y_tᵀY_u. A column subset J of Ω gives the sketch with |J| columns (Grams restricted to J, rescaled by s/|J|),
 * which is what the error estimate needs.
 *
 * Stated error: jackknife over the s columns of Ω (Efron & Stein 1981; for randomized matrix approximations,
 * Epperly & Tropp 2024, "Efficient error and variance estimation for randomized matrix computations"): every number
 * is recomputed s times with one column left out; the error is |bias| + 2·sd with bias = (s−1)(mean − full) and
 * sd² = (s−1)/s·Σ(x_j − mean)². The σ̂ are biased upward by the noise floor ‖G − G_{i−1}‖_F/√s of the spectrum
 * below them; the jackknife sees that bias, so their stated error includes it. The projector P̂_t has an error the
 * jackknife underrates when G_t's top-k subspace is poorly separated from the rest (all leave-one-out sketches share
 * it), so the stale energy and the drift add a first-order perturbation term: for Gaussian Ω, YYᵀ − GGᵀ has
 * E⟨u_j, (YYᵀ − GGᵀ) u_i⟩² = σ_i²σ_j²/s (i ≠ j), so the expected squared sines between P̂_t and P_t add up to
 * ζ_t ≈ Σ_{i≤k<j} σ_i²σ_j²/(s(σ_i² − σ_j²)²) (Stewart–Sun first-order eigenvector perturbation; plug-in σ̂, capped
 * at k); rotating that much of a projector holding Ê of the energy moves Ê by about ζ_t·Ê/k, and the drift by
 * (ζ_t + ζ_{t+Δ})/k. Stale energy error = jackknife + mean_t ζ_t·Ê_t/k; drift error = jackknife + mean_t
 * (ζ_t + ζ_{t+Δ})/k (capped at 1). All of it is an a posteriori estimate, not a worst-case bound (worst-case Gaussian
 * bounds with explicit constants — Davidson–Szarek, Chevet — are vacuous at s = 32); test/python/geometry.test.ts
 * measures its coverage against the exact values of full-gradient runs. */
import { effectiveRank, GradtraceError, type Mat, mat, stableRank, symmetricEigen } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { geometrySchedule } from "./matrixGeometry.ts";
import type { MatrixGeometry } from "./types.ts";

export interface RangeGeometryOptions {
  /** Rank of the projector (GaLore's r); capped at s − 2 so leave-one-out sketches still have k columns to spare. */
  readonly k?: number;
  readonly samples?: number;
  /** Singular values reported per sampled step (capped at s). */
  readonly top?: number;
}

export interface Eig {
  /** Eigenvalues of the (restricted, rescaled) Gram, descending, clamped at 0. */
  readonly values: Float64Array;
  /** |J|×|J| eigenvectors, column i for values[i]. */
  readonly vectors: Mat;
}

/** Restriction of an s×s matrix to rows/columns J, times `scale`. */
export function restrict(a: Mat, rowsJ: readonly number[], colsJ: readonly number[], scale: number): Mat {
  const out = mat(rowsJ.length, colsJ.length);
  rowsJ.forEach((i, r) => {
    colsJ.forEach((j, c) => {
      out.data[r * colsJ.length + c] = scale * a.data[i * a.cols + j];
    });
  });
  return out;
}

/** Yᵀ Z for two rows × s row-major sketches. */
export function crossGram(y: Float32Array, z: Float32Array, rows: number, s: number): Mat {
  const out = mat(s, s);
  for (let r = 0; r < rows; r++) {
    const yo = r * s;
    for (let i = 0; i < s; i++) {
      const v = y[yo + i];
      if (v === 0) continue;
      const o = i * s;
      for (let j = 0; j < s; j++) out.data[o + j] += v * z[yo + j];
    }
  }
  return out;
}

/** ‖Λ_a^{−1/2} V_aᵀ C V_b Λ_b^{−1/2}‖_F² over the top k of each side (vb = null: ‖Λ_a^{−1/2} V_aᵀ C‖_F²). */
function projectedNormSq(a: Eig, c: Mat, b: Eig | null, k: number): number {
  const n = c.rows;
  // W = V_a,kᵀ C: k × n.
  const w = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    for (let p = 0; p < n; p++) {
      const v = a.vectors.data[p * n + i];
      if (v === 0) continue;
      for (let q = 0; q < n; q++) w[i * n + q] += v * c.data[p * n + q];
    }
  }
  let total = 0;
  for (let i = 0; i < k; i++) {
    const li = a.values[i];
    if (!(li > 0)) continue;
    if (b === null) {
      let row = 0;
      for (let q = 0; q < n; q++) row += w[i * n + q] * w[i * n + q];
      total += row / li;
      continue;
    }
    for (let j = 0; j < k; j++) {
      const lj = b.values[j];
      if (!(lj > 0)) continue;
      let x = 0;
      for (let q = 0; q < n; q++) x += w[i * n + q] * b.vectors.data[q * n + j];
      total += (x * x) / (li * lj);
    }
  }
  return total;
}

/** ζ = Σ_{i≤k<j} λ_iλ_j / (s(λ_i − λ_j)²) over the eigenvalues λ = σ² of a sketch's Gram (file comment), capped at
 * k: the first-order expected Σ sin²θ between the sketch's top-k left subspace and G's. */
export function projectorPerturbation(values: Float64Array, k: number, s: number): number {
  let z = 0;
  for (let i = 0; i < k; i++) {
    for (let j = k; j < values.length; j++) {
      const gap = values[i] - values[j];
      if (values[j] <= 0) continue;
      z += gap > 0 ? (values[i] * values[j]) / (s * gap * gap) : Number.POSITIVE_INFINITY;
    }
  }
  return Math.min(k, z);
}

export function trace(a: Mat): number {
  let t = 0;
  for (let i = 0; i < a.rows; i++) t += a.data[i * a.cols + i];
  return t;
}

export function rangeGeometry(
  reader: TraceReader,
  name: string,
  stepPositions: readonly number[],
  { k = 4, samples = 8, top = 10 }: RangeGeometryOptions = {},
): MatrixGeometry | null {
  const rs = reader.info.rangeSketch;
  const entry = rs?.tensors.find((t) => t.name === name);
  if (!rs || !entry || !reader.readRangeSketch) return null;
  const { rows, cols } = entry;
  const s = rs.s;
  if (s < 4) return null;
  const kk = Math.max(1, Math.min(k, s - 2, rows));
  const topN = Math.min(top, s - 1, rows);
  const schedule = geometrySchedule(stepPositions.length, samples);
  if (!schedule) return null;
  const { at, deltas } = schedule;

  // Sketches of every step the schedule touches, and the Grams between them.
  const needed = new Set<number>();
  for (const t of at) {
    needed.add(t);
    for (const d of deltas) needed.add(t + d);
  }
  const ys = new Map<number, Float32Array>();
  for (const i of needed) {
    const y = reader.readRangeSketch(stepPositions[i], name);
    if (y === null) {
      throw new GradtraceError(
        "E_FORMAT",
        `${reader.info.path}: step ${reader.info.steps[stepPositions[i]]} has no range sketch of ${name} (every logged step must carry one)`,
      );
    }
    ys.set(i, y);
  }
  const grams = new Map<number, Mat>();
  for (const [i, y] of ys) grams.set(i, crossGram(y, y, rows, s));
  const cross = new Map<string, Mat>();
  for (const t of at)
    for (const d of deltas) cross.set(`${t}:${d}`, crossGram(ys.get(t)!, ys.get(t + d)!, rows, s));

  /** Every reported number, flattened, from the sketch restricted to columns J. */
  const estimate = (cols: readonly number[]): Float64Array => {
    const scale = s / cols.length;
    const eigs = new Map<number, Eig>();
    const eig = (i: number): Eig => {
      let e = eigs.get(i);
      if (!e) {
        const r = symmetricEigen(restrict(grams.get(i)!, cols, cols, scale));
        e = { values: r.values.map((v) => Math.max(0, v)), vectors: r.vectors! };
        eigs.set(i, e);
      }
      return e;
    };
    const out: number[] = [];
    for (const t of at) {
      const { values } = eig(t);
      for (let i = 0; i < topN; i++) out.push(Math.sqrt(values[i]));
      out.push(effectiveRank(values), stableRank(values));
    }
    for (const d of deltas) {
      let energy = 0;
      let drift = 0;
      for (const t of at) {
        const c = restrict(cross.get(`${t}:${d}`)!, cols, cols, scale);
        const later = restrict(grams.get(t + d)!, cols, cols, scale);
        const total = trace(later);
        energy += total > 0 ? Math.min(1, projectedNormSq(eig(t), c, null, kk) / total) : 1;
        drift += 1 - Math.min(1, projectedNormSq(eig(t), c, eig(t + d), kk) / kk);
      }
      out.push(energy / at.length, drift / at.length);
    }
    return Float64Array.from(out);
  };

  const all = Array.from({ length: s }, (_, j) => j);
  const full = estimate(all);
  // Perturbation terms of the projectors (from the full sketch's spectra), one per sampled t and per t + Δ.
  const zeta = new Map<number, number>();
  for (const i of needed) {
    const values = symmetricEigen(grams.get(i)!, { vectors: false }).values.map((v) => Math.max(0, v));
    zeta.set(i, projectorPerturbation(values, kk, s));
  }
  const reps = all.map((j) => estimate(all.filter((c) => c !== j)));
  const err = new Float64Array(full.length);
  for (let q = 0; q < full.length; q++) {
    let mean = 0;
    for (const r of reps) mean += r[q];
    mean /= s;
    let ss = 0;
    for (const r of reps) ss += (r[q] - mean) ** 2;
    err[q] = Math.abs((s - 1) * (mean - full[q])) + 2 * Math.sqrt(((s - 1) / s) * ss);
  }

  // Unflatten (same order as `estimate`).
  let q = 0;
  const take = (src: Float64Array, n: number): number[] => Array.from(src.subarray(q, q + n));
  const singularValues: number[][] = [];
  const svErr: number[][] = [];
  const effRank: number[] = [];
  const effErr: number[] = [];
  const stabRank: number[] = [];
  const stabErr: number[] = [];
  for (let i = 0; i < at.length; i++) {
    singularValues.push(take(full, topN));
    svErr.push(take(err, topN));
    q += topN;
    effRank.push(full[q]);
    effErr.push(err[q]);
    stabRank.push(full[q + 1]);
    stabErr.push(err[q + 1]);
    q += 2;
  }
  const energy: number[] = [];
  const energyErr: number[] = [];
  const drift: number[] = [];
  const driftErr: number[] = [];
  for (const d of deltas) {
    // The file comment's per-step terms, averaged like the numbers they belong to (the energy term uses the averaged
    // Ê for every t rather than recomputing each Ê_t).
    let energyTerm = 0;
    let driftTerm = 0;
    for (const t of at) {
      energyTerm += (zeta.get(t)! / kk) * full[q];
      driftTerm += (zeta.get(t)! + zeta.get(t + d)!) / kk;
    }
    energy.push(full[q]);
    energyErr.push(Math.min(1, err[q] + energyTerm / at.length));
    drift.push(full[q + 1]);
    driftErr.push(Math.min(1, err[q + 1] + driftTerm / at.length));
    q += 2;
  }
  return {
    rows,
    cols,
    at: at.map((i) => stepPositions[i]),
    singularValues,
    effectiveRank: effRank,
    stableRank: stabRank,
    staleEnergy: { k: kk, delta: deltas, energy },
    drift: { k: kk, delta: deltas, value: drift },
    source: "rangeSketch",
    error: {
      method: "jackknife",
      s,
      singularValues: svErr,
      effectiveRank: effErr,
      stableRank: stabErr,
      staleEnergy: energyErr,
      drift: driftErr,
    },
  };
}
