/** @file Geometry of matrix-shaped gradients (the second paper's object): the spectrum of the per-step gradient
 * matrix ∇W ∈ R^{out×in} at sampled steps, and the stale-projector energy — the fraction of ‖g_{t+Δ}‖² that the
 * top-k left subspace of g_t still captures, i.e. what a GaLore-style optimizer loses between projector refreshes. */
import {
  effectiveRank,
  gramSingularValues,
  type Mat,
  mat,
  stableRank,
  staleProjectorEnergy,
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

export function matrixGeometry(
  reader: TraceReader,
  tensor: TensorInfo,
  stepPositions: readonly number[],
  { k = 4, samples = 8, maxSide = 1024, top = 10 }: MatrixGeometryOptions = {},
): MatrixGeometry | null {
  const shape = matrixShape(tensor);
  if (!shape || Math.min(shape.rows, shape.cols) > maxSide) return null;
  const n = stepPositions.length;
  if (n < 2) return null;
  const deltas = deltasFor(n).slice(0, 6);
  const maxDelta = deltas[deltas.length - 1];
  const lastStart = n - 1 - maxDelta;
  const count = Math.min(samples, lastStart + 1);
  const at = Array.from({ length: count }, (_, i) =>
    count === 1 ? 0 : Math.round((i * lastStart) / (count - 1)),
  );
  const load = (i: number): Mat =>
    mat(shape.rows, shape.cols, Float64Array.from(reader.readTensor(stepPositions[i], tensor.name)));
  const singularValues: number[][] = [];
  const effRank: number[] = [];
  const stabRank: number[] = [];
  const energySum = new Float64Array(deltas.length);
  const energyCount = new Float64Array(deltas.length);
  for (const t of at) {
    const g = load(t);
    // Full spectrum from the smaller Gram (cheap, absolute accuracy ~√ε·σ₁: plenty for ranks); the projector's
    // basis from an accurate SVD (exact for small sides, randomized above).
    const s = gramSingularValues(g);
    const sigmaSq = s.map((x) => x * x);
    singularValues.push(Array.from(s.subarray(0, top)));
    effRank.push(effectiveRank(sigmaSq));
    stabRank.push(stableRank(sigmaSq));
    const basis = topLeftSubspace(g, k, { seed: t });
    deltas.forEach((d, j) => {
      const e = staleProjectorEnergy(basis, load(t + d));
      if (Number.isFinite(e)) {
        energySum[j] += e;
        energyCount[j] += 1;
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
  };
}
