/** @file r*(ε) of the increments inside each window of a sequence, from its Gram K alone (spec "Increments and
 * predictable rank", windowed like κ): for the window [s, s + w) the increments' Gram is D·K[s:s+w, s:s+w]·Dᵀ, whose
 * eigenvalues are the σᵢ² of the window's increment matrix. Eigenvalues only, O(w³) per window — with the analysis'
 * half-window stride that is about 2·n·w² per sequence, small next to the whole-run spectrum's n³. Hand-written
 * glue only: the eigen-solver and r*(ε) are the shared ones (src/core/linalg, src/core/spectrum.ts). */
import { GradtraceError } from "./errors.ts";
import { incrementGram } from "./gram.ts";
import { gramEigenvalues } from "./linalg/gramEigenvalues.ts";
import { type Mat, mat } from "./matrix.ts";
import { clampGramEigenvalues, predictableRank } from "./spectrum.ts";

export interface WindowedPredictableRankOptions {
  /** First step position of each window; windows are [start, start + size) and must lie inside K. */
  readonly starts: readonly number[];
  /** Window length in steps. */
  readonly size: number;
  /** ε values; the result is keyed by String(ε). */
  readonly eps: readonly number[];
}

/** K[s:s+size, s:s+size] as its own matrix. */
function diagonalBlock(k: Mat, s: number, size: number): Mat {
  const out = mat(size, size);
  for (let i = 0; i < size; i++)
    out.data.set(k.data.subarray((s + i) * k.cols + s, (s + i) * k.cols + s + size), i * size);
  return out;
}

/**
 * r*(ε) of the increments h_t = g_t − g_{t−1}, s < t < s + size, of each window, keyed by String(ε), one value per
 * window. A window of fewer than two steps has no increments, so its rank is undefined: NaN (null in JSON), which
 * keeps it apart from the 0 of a window whose increments are all zero.
 */
export function windowedPredictableRank(
  k: Mat,
  { starts, size, eps }: WindowedPredictableRankOptions,
): Record<string, number[]> {
  const n = k.rows;
  if (k.cols !== n)
    throw new GradtraceError(
      "E_SHAPE",
      `windowedPredictableRank: expected a square Gram, got ${k.rows}×${k.cols}`,
    );
  if (!(Number.isInteger(size) && size >= 0))
    throw new GradtraceError("E_ARG", `windowedPredictableRank: size must be an integer ≥ 0, got ${size}`);
  for (const s of starts) {
    if (!(Number.isInteger(s) && s >= 0 && s + size <= n)) {
      throw new GradtraceError(
        "E_ARG",
        `windowedPredictableRank: window [${s}, ${s + size}) does not lie inside the ${n} steps of K`,
      );
    }
  }
  const out: Record<string, number[]> = {};
  for (const e of eps) out[String(e)] = [];
  for (const s of starts) {
    if (size < 2) {
      for (const e of eps) out[String(e)].push(Number.NaN);
      continue;
    }
    const sigmaSq = clampGramEigenvalues(gramEigenvalues(incrementGram(diagonalBlock(k, s, size))));
    for (const e of eps) out[String(e)].push(predictableRank(sigmaSq, e));
  }
  return out;
}
