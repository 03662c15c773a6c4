/** @file Subspaces of matrix-shaped gradients ∇W ∈ R^{out×in} (spec: subspace drift and stale-projector energy, the
 * quantities GaLore-style low-rank projectors lose between refreshes). */
import { GradtraceError } from "./errors.ts";
import { principalAngles } from "./linalg/principalAngles.ts";
import { columns, frobeniusNorm, transposeMatmul } from "./linalg/products.ts";
import { randomizedSvd } from "./linalg/randomizedSvd.ts";
import { svdTallSkinny } from "./linalg/svd.ts";
import type { Mat } from "./matrix.ts";

export interface TopLeftSubspaceOptions {
  /** Up to this min(out, in) the exact SVD is used; above it the randomized SVD (HMT, 2 power iterations). */
  exactUpTo?: number;
  /** Seed of the randomized SVD. */
  seed?: number;
}

/** Orthonormal out×k basis of the top-k left singular subspace of g (k capped at min(out, in)). */
export function topLeftSubspace(
  g: Mat,
  k: number,
  { exactUpTo = 256, seed = 0 }: TopLeftSubspaceOptions = {},
): Mat {
  if (!Number.isInteger(k) || k < 1)
    throw new GradtraceError("E_ARG", `topLeftSubspace: k must be a positive integer, got ${k}`);
  const kk = Math.min(k, g.rows, g.cols);
  if (Math.min(g.rows, g.cols) <= exactUpTo) return columns(svdTallSkinny(g).u, 0, kk);
  return randomizedSvd(g, kk, { seed }).u;
}

/** ‖U Uᵀ g‖_F² / ‖g‖_F² for an orthonormal basis U (out×k): the fraction of g's energy a projector computed earlier
 * still captures. A zero gradient loses nothing: 1. */
export function staleProjectorEnergy(projectorBasis: Mat, g: Mat): number {
  if (projectorBasis.rows !== g.rows) {
    throw new GradtraceError(
      "E_SHAPE",
      `staleProjectorEnergy: basis is ${projectorBasis.rows}×${projectorBasis.cols} but g is ${g.rows}×${g.cols}; expected equal row counts`,
    );
  }
  const gram = transposeMatmul(projectorBasis, projectorBasis);
  const k = projectorBasis.cols;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (Math.abs(gram.data[i * k + j] - (i === j ? 1 : 0)) > 1e-6) {
        throw new GradtraceError(
          "E_ARG",
          "staleProjectorEnergy: projectorBasis must have orthonormal columns (UᵀU = I)",
        );
      }
    }
  }
  const gNorm = frobeniusNorm(g);
  if (gNorm === 0) return 1;
  // With orthonormal U, ‖U Uᵀ g‖_F = ‖Uᵀ g‖_F: k×in instead of out×in.
  const ratio = frobeniusNorm(transposeMatmul(projectorBasis, g)) / gNorm;
  return Math.min(1, ratio * ratio);
}

/** Cosines of the principal angles between span(a) and span(b), descending (1 = shared direction, 0 = orthogonal). */
export function subspaceDrift(a: Mat, b: Mat): Float64Array {
  return principalAngles(a, b);
}
