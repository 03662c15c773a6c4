/** @file Randomized truncated SVD (Halko, Martinsson & Tropp 2011, Algorithms 4.4 + 5.1): a Gaussian range finder
 * with power (subspace) iterations, re-orthonormalised by Householder QR after every product so that the power
 * iterations do not collapse onto the top singular vector in floating point. Works on a dense Mat or on any
 * LinearOperator (e.g. a gradient matrix that is never formed). Deterministic for a given seed. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat } from "../matrix.ts";
import { createRng } from "../rng.ts";
import { columns, matmul, transposeMatmul } from "./products.ts";
import { qrOrthonormalize } from "./qr.ts";
import { type SvdResult, svdTallSkinny } from "./svd.ts";

/** A matrix known only through its products with blocks of vectors. */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** A·X for X of shape cols×k. */
  apply(x: Mat): Mat;
  /** Aᵀ·X for X of shape rows×k. */
  applyT(x: Mat): Mat;
}

export interface RandomizedSvdOptions {
  /** Extra random directions beyond k (improves the captured subspace; 5–10 is the usual advice). */
  oversample?: number;
  /** Power iterations: each multiplies by (AAᵀ), sharpening a slowly decaying spectrum. */
  powerIters?: number;
  /** Seed of the Gaussian test matrix. */
  seed?: number;
}

function isOperator(a: Mat | LinearOperator): a is LinearOperator {
  return typeof (a as LinearOperator).apply === "function";
}

/** Dense Mat viewed as a LinearOperator. */
export function matOperator(a: Mat): LinearOperator {
  return { rows: a.rows, cols: a.cols, apply: (x) => matmul(a, x), applyT: (x) => transposeMatmul(a, x) };
}

/** Approximate top-k SVD: u (rows×k), s (k, descending), v (cols×k). k is capped at min(rows, cols). */
export function randomizedSvd(
  a: Mat | LinearOperator,
  k: number,
  { oversample = 10, powerIters = 2, seed = 0 }: RandomizedSvdOptions = {},
): SvdResult {
  const op = isOperator(a) ? a : matOperator(a);
  const { rows, cols } = op;
  if (!Number.isInteger(k) || k < 1)
    throw new GradtraceError("E_ARG", `randomizedSvd: k must be a positive integer, got ${k}`);
  if (!Number.isInteger(oversample) || oversample < 0) {
    throw new GradtraceError(
      "E_ARG",
      `randomizedSvd: oversample must be a non-negative integer, got ${oversample}`,
    );
  }
  if (!Number.isInteger(powerIters) || powerIters < 0) {
    throw new GradtraceError(
      "E_ARG",
      `randomizedSvd: powerIters must be a non-negative integer, got ${powerIters}`,
    );
  }
  const r = Math.min(rows, cols);
  const kk = Math.min(k, r);
  const l = Math.min(kk + oversample, r);
  const rng = createRng(seed);
  const omega = mat(cols, l);
  for (let i = 0; i < omega.data.length; i++) omega.data[i] = rng.normal();
  const checked = (m: Mat, shapeRows: number, what: string): Mat => {
    if (m.rows !== shapeRows || m.cols !== l) {
      throw new GradtraceError(
        "E_SHAPE",
        `randomizedSvd: operator ${what} returned ${m.rows}×${m.cols}, expected ${shapeRows}×${l}`,
      );
    }
    return m;
  };
  let q = qrOrthonormalize(checked(op.apply(omega), rows, "apply"));
  for (let it = 0; it < powerIters; it++) {
    const z = qrOrthonormalize(checked(op.applyT(q), cols, "applyT"));
    q = qrOrthonormalize(checked(op.apply(z), rows, "apply"));
  }
  // B = QᵀA is l×cols; its transpose AᵀQ is tall: Bᵀ = Ũ S Ṽᵀ ⇒ A ≈ Q B = (Q Ṽ) S Ũᵀ.
  const bt = checked(op.applyT(q), cols, "applyT");
  const small = svdTallSkinny(bt);
  return {
    u: columns(matmul(q, small.v), 0, kk),
    s: small.s.slice(0, kk),
    v: columns(small.u, 0, kk),
  };
}
