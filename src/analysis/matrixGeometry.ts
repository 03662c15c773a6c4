/** @file Geometry of matrix-shaped gradients (the second paper's object): the spectrum of the per-step gradient
 * matrix ∇W ∈ R^{out×in} at sampled steps, the stale-projector energy — the fraction of ‖g_{t+Δ}‖² that the
 * top-k left subspace of g_t still captures, i.e. what a GaLore-style optimizer loses between projector refreshes —
 * and the drift between the top-k subspaces of g_t and g_{t+Δ}. Exact, from full gradients; rangeGeometry.ts
 * estimates the same numbers from logged range sketches. */
import {
  effectiveRank,
  gramSingularValues,
  type Mat,
  mat,
  stableRank,
  staleProjectorEnergy,
  subspaceDrift,
  topLeftSubspace,
} from "../core/index.ts";
import type { TensorInfo, TraceReader } from "../trace/index.ts";
import type { MatrixGeometry } from "./types.ts";

export interface MatrixGeometryOptions {
  /** Rank of the projector (GaLore's r). */
  readonly k?: number;
  /** Number of sampled steps t. */
  readonly samples?: number;
  /** Largest smaller side handled (the thin SVD costs min² · max). */
  readonly maxSide?: number;
  readonly top?: number;
  /** Also the drift between the top-k subspaces of g_t and g_{t+Δ} (one more SVD per (t, Δ) pair: off by default in
   * analyze, where the exact pass's cost matters; the range-sketch estimate always has it). */
  readonly drift?: boolean;
}

/** Rows × cols view of a tensor: first axis = outputs, the rest flattened (conv kernels: out × in·kh·kw). */
export function matrixShape(t: TensorInfo): { rows: number; cols: number } | null {
  if (t.shape.length < 2) return null;
  const rows = t.shape[0];
  const cols = t.numel / rows;
  return rows >= 2 && cols >= 2 ? { rows, cols } : null;
}

/** Refresh intervals Δ = 1, 2, 4, … below the number of steps. */
export function deltasFor(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d < n; d *= 2) out.push(d);
  return out;
}

/** The sampled steps t (indices into the kept steps) and refresh intervals Δ both geometry estimators use: up to
 * `samples` starts spread evenly over the steps that still have t + max Δ inside the run, Δ = 1, 2, 4, … (at most 6). */
export function geometrySchedule(n: number, samples: number): { at: number[]; deltas: number[] } | null {
  if (n < 2) return null;
  const deltas = deltasFor(n).slice(0, 6);
  const maxDelta = deltas[deltas.length - 1];
  const lastStart = n - 1 - maxDelta;
  const count = Math.min(samples, lastStart + 1);
  const at = Array.from({ length: count }, (_, i) =>
    count === 1 ? 0 : Math.round((i * lastStart) / (count - 1)),
  );
  return { at, deltas };
}

export function matrixGeometry(
  reader: TraceReader,
  tensor: TensorInfo,
  stepPositions: readonly number[],
  { k = 4, samples = 8, maxSide = 1024, top = 10, drift: withDrift = false }: MatrixGeometryOptions = {},
): MatrixGeometry | null {
  const shape = matrixShape(tensor);
  if (!shape || Math.min(shape.rows, shape.cols) > maxSide) return null;
  const schedule = geometrySchedule(stepPositions.length, samples);
  if (!schedule) return null;
  const { at, deltas } = schedule;
  const load = (i: number): Mat =>
    mat(shape.rows, shape.cols, Float64Array.from(reader.readTensor(stepPositions[i], tensor.name)));
  const singularValues: number[][] = [];
  const effRank: number[] = [];
  const stabRank: number[] = [];
  const energySum = new Float64Array(deltas.length);
  const energyCount = new Float64Array(deltas.length);
  const driftSum = new Float64Array(deltas.length);
  const driftCount = new Float64Array(deltas.length);
  // Top-k bases by step index: the drift needs the basis of every t + Δ, and those indices repeat across t.
  const bases = new Map<number, Mat>();
  for (const t of at) {
    const g = load(t);
    // Full spectrum from the smaller Gram (cheap, absolute accuracy ~√ε·σ₁: plenty for ranks); the projector's
    // basis from an accurate SVD (exact for small sides, randomized above).
    const s = gramSingularValues(g);
    const sigmaSq = s.map((x) => x * x);
    singularValues.push(Array.from(s.subarray(0, top)));
    effRank.push(effectiveRank(sigmaSq));
    stabRank.push(stableRank(sigmaSq));
    const basis = bases.get(t) ?? topLeftSubspace(g, k, { seed: t });
    bases.set(t, basis);
    deltas.forEach((d, j) => {
      const later = load(t + d);
      const e = staleProjectorEnergy(basis, later);
      if (Number.isFinite(e)) {
        energySum[j] += e;
        energyCount[j] += 1;
      }
      if (!withDrift) return;
      let laterBasis = bases.get(t + d);
      if (!laterBasis) {
        laterBasis = topLeftSubspace(later, k, { seed: t + d });
        bases.set(t + d, laterBasis);
      }
      const cosines = subspaceDrift(basis, laterBasis);
      let overlap = 0;
      for (const c of cosines) overlap += c * c;
      const drift = 1 - overlap / basis.cols;
      if (Number.isFinite(drift)) {
        driftSum[j] += drift;
        driftCount[j] += 1;
      }
    });
  }
  return {
    rows: shape.rows,
    cols: shape.cols,
    at: at.map((i) => stepPositions[i]),
    singularValues,
    effectiveRank: effRank,
    stableRank: stabRank,
    staleEnergy: { k, delta: deltas, energy: Array.from(energySum, (s, j) => s / energyCount[j]) },
    ...(withDrift
      ? { drift: { k, delta: deltas, value: Array.from(driftSum, (s, j) => s / driftCount[j]) } }
      : {}),
    source: "exact",
  };
}
