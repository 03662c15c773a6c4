/** @file E(r, Δ) from range sketches Y_t = G_t·Ω (rows × s, the same Ω at every step) instead of full gradients,
 * with its error — the estimator of rangeGeometry.ts applied to every step of every refresh cycle. The projector at a
 * refresh t₀ is the top-r left singular subspace of Y_{t₀}, P̂ = Y_{t₀} V_r Λ_r^{−1/2} (K = YᵀY = VΛVᵀ); a step t
 * keeps ‖P̂ᵀY_t‖²/‖Y_t‖² ≈ ‖P̂ᵀG_t‖²/‖G_t‖² (E[ΩΩᵀ] = I), computed from the s × s cross-Gram Y_{t₀}ᵀY_t alone. The
 * sketch spans G's column space, i.e. the left side: it serves GaLore's projector for tensors with rows ≤ cols
 * (advise() skips tall ones). Error: the jackknife over Ω's s columns plus the projector-perturbation term
 * mean_t ζ_{t₀}(r)·Ê_t/r, as rangeGeometry.ts states and tests its coverage; an a-posteriori estimate, not a
 * worst-case bound. Ranks are capped at s − 2. */
import { GradtraceError, type Mat, symmetricEigen } from "../../core/index.ts";
import type { TraceReader } from "../../trace/index.ts";
import { crossGram, type Eig, projectorPerturbation, restrict, trace } from "../rangeGeometry.ts";

export interface SketchedEnergy {
  /** Sketch width s. */
  readonly s: number;
  /** meanByRank[j][r − 1]: E(r, intervals[j]) for r = 1..maxRank. */
  readonly meanByRank: number[][];
  /** error[j][r − 1]: stated error of meanByRank[j][r − 1]. */
  readonly error: number[][];
}

/** Σ_i≤k of ‖row i of Λ^{−1/2}V_kᵀC‖² as a running sum: the energy of P̂ᵀY_t at every rank up to k. */
function cumulativeProjected(a: Eig, c: Mat, k: number): Float64Array {
  const n = c.rows;
  const out = new Float64Array(k);
  let cum = 0;
  for (let i = 0; i < k; i++) {
    const li = a.values[i];
    if (li > 0) {
      let row = 0;
      for (let q = 0; q < n; q++) {
        let w = 0;
        for (let p = 0; p < n; p++) w += a.vectors.data[p * n + i] * c.data[p * n + q];
        row += w * w;
      }
      cum += row / li;
    }
    out[i] = cum;
  }
  return out;
}

/** E(r, Δ) for r = 1..maxRank and every interval, from the range sketches of one tensor over `steps` steps. */
export function sketchedEnergy(
  reader: TraceReader,
  name: string,
  steps: number,
  intervals: readonly number[],
  maxRank: number,
): SketchedEnergy {
  const info = reader.info.rangeSketch;
  const entry = info?.tensors.find((t) => t.name === name);
  if (!info || !entry || !reader.readRangeSketch)
    throw new GradtraceError("E_NOT_FOUND", `advise: ${reader.info.path} has no range sketch of ${name}`);
  const { rows } = entry;
  const s = info.s;
  const k = Math.min(maxRank, s - 2);
  if (k < 1)
    throw new GradtraceError("E_ARG", `advise: range sketches of width ${s} are too narrow (need s ≥ 3)`);
  const ys: Float32Array[] = [];
  for (let t = 0; t < steps; t++) {
    const y = reader.readRangeSketch(t, name);
    if (y === null) {
      throw new GradtraceError(
        "E_FORMAT",
        `${reader.info.path}: step ${reader.info.steps[t]} has no range sketch of ${name} (every logged step must carry one)`,
      );
    }
    ys.push(y);
  }
  const grams = ys.map((y) => crossGram(y, y, rows, s));
  const cross = new Map<string, Mat>();
  const crossOf = (t0: number, t: number): Mat => {
    if (t0 === t) return grams[t];
    const key = `${t0}:${t}`;
    let c = cross.get(key);
    if (!c) {
      c = crossGram(ys[t0], ys[t], rows, s);
      cross.set(key, c);
    }
    return c;
  };
  for (const d of intervals) for (let t = 0; t < steps; t++) crossOf(Math.floor(t / d) * d, t);

  /** Every E(r, Δ), flattened [interval][rank], from the sketch restricted to columns J. */
  const estimate = (cols: readonly number[]): Float64Array => {
    const scale = s / cols.length;
    const eigs = new Map<number, Eig>();
    const eig = (t: number): Eig => {
      let e = eigs.get(t);
      if (!e) {
        const r = symmetricEigen(restrict(grams[t], cols, cols, scale));
        e = { values: r.values.map((v) => Math.max(0, v)), vectors: r.vectors as Mat };
        eigs.set(t, e);
      }
      return e;
    };
    const totals = grams.map((g) => trace(restrict(g, cols, cols, scale)));
    const out = new Float64Array(intervals.length * k);
    intervals.forEach((d, j) => {
      for (let t = 0; t < steps; t++) {
        const t0 = Math.floor(t / d) * d;
        const cum = cumulativeProjected(eig(t0), restrict(crossOf(t0, t), cols, cols, scale), k);
        for (let r = 0; r < k; r++)
          out[j * k + r] += (totals[t] > 0 ? Math.min(1, cum[r] / totals[t]) : 1) / steps;
      }
    });
    return out;
  };

  const all = Array.from({ length: s }, (_, j) => j);
  const full = estimate(all);
  const reps = all.map((j) => estimate(all.filter((c) => c !== j)));
  const spectra = grams.map((g) => symmetricEigen(g, { vectors: false }).values.map((v) => Math.max(0, v)));
  const meanByRank: number[][] = [];
  const error: number[][] = [];
  intervals.forEach((d, j) => {
    const e: number[] = [];
    const err: number[] = [];
    for (let r = 0; r < k; r++) {
      const q = j * k + r;
      let mean = 0;
      for (const rep of reps) mean += rep[q];
      mean /= s;
      let ss = 0;
      for (const rep of reps) ss += (rep[q] - mean) ** 2;
      const jack = Math.abs((s - 1) * (mean - full[q])) + 2 * Math.sqrt(((s - 1) / s) * ss);
      // Perturbation of the projector at each refresh, weighted by the steps it serves (file comment).
      let term = 0;
      for (let t = 0; t < steps; t++) term += projectorPerturbation(spectra[Math.floor(t / d) * d], r + 1, s);
      e.push(full[q]);
      err.push(Math.min(1, jack + ((term / steps) * full[q]) / (r + 1)));
    }
    meanByRank.push(e);
    error.push(err);
  });
  return { s, meanByRank, error };
}
