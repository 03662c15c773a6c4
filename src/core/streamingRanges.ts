/** @file A streaming analysis cut into step ranges, put back together: the ranges of a run (each a StreamingState that
 * re-read the steps before its range — see src/analysis/streamRanges.ts — and exported with `rangeExport`) merge into
 * the StreamingSnapshot one pass over all the steps would have given.
 *
 * What is equal and what is bounded:
 * - The per-step series (‖g_t‖², every predictor's ‖g_t − m_t‖²) are concatenated: each range computed its steps with
 *   the same window Gram entries and the same predictor states as the single pass (the states that carry the whole
 *   history were replayed up to the range's start, in the same order of float operations), so κ, windowed κ and the
 *   intervals equal the single pass's bit for bit.
 * - Mean cosines: every step's cosine is added in step order, as the single pass's running sums do: bit for bit.
 * - Windowed r*(ε): each window is closed by the range its last step falls in, from the same Gram: bit for bit.
 * - Whole-run spectra: Frequent Directions sketches are mergeable (Agarwal et al. 2013; Ghashami et al. 2016): the
 *   ranges' sketches B_i, fed as rows to one more sketch B, keep 0 ≼ HᵀH − BᵀB and ‖HᵀH − BᵀB‖₂ ≤ Σ Δ_i + Δ_merge,
 *   since HᵀH − BᵀB = Σ (H_iᵀH_i − B_iᵀB_i) + (Σ B_iᵀB_i − BᵀB). The merged bound is stated in the result, as the
 *   single pass's is; the numbers differ from the single pass's within both bounds (a different sketch of the same
 *   matrix), so the r*(ε) / stable-rank brackets overlap rather than coincide. */
import { GradtraceError } from "./errors.ts";
import { FrequentDirections } from "./sketch/frequentDirections.ts";
import type {
  FdRows,
  FdSpectrum,
  StreamingRange,
  StreamingRangeTrack,
  StreamingSnapshot,
  StreamingTrack,
} from "./streaming.ts";

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The mean of the defined (non-NaN) cosines, added in order from 0 as the single pass's running sum is. */
function sequentialMean(parts: readonly Float64Array[]): number {
  let sum = 0;
  let count = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      if (!Number.isNaN(p[i])) {
        sum += p[i];
        count++;
      }
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/** The ranges' Frequent Directions sketches as one (see the file comment); one range's is its own. */
export function mergeFdSketches(parts: readonly FdRows[]): FdSpectrum {
  const strip = ({ sketch: _, ...spectrum }: FdRows): FdSpectrum => spectrum;
  if (parts.length === 1) return strip(parts[0]);
  const { rows: ell, dim } = parts[0];
  const merged = new FrequentDirections({ ell, dim });
  let delta = 0;
  let frobeniusSq = 0;
  let count = 0;
  for (const part of parts) {
    if (part.rows !== ell || part.dim !== dim) {
      throw new GradtraceError(
        "E_SHAPE",
        `mergeFdSketches: a sketch of ${part.rows} rows × ${part.dim} among sketches of ${ell} × ${dim}`,
      );
    }
    delta += part.delta;
    frobeniusSq += part.frobeniusSq;
    count += part.count;
    for (let r = 0; r < ell; r++) {
      const row = part.sketch.subarray(r * dim, (r + 1) * dim);
      // Rows past the sketch's rank are zero and add nothing.
      if (row.some((v) => v !== 0)) merged.update(row);
    }
  }
  return {
    rows: ell,
    dim,
    sigmaSq: merged.sigmaSq,
    delta: delta + merged.shrinkage,
    frobeniusSq,
    count,
  };
}

function mergeFd(parts: readonly (FdRows | null)[]): FdSpectrum | null {
  const present = parts.filter((p): p is FdRows => p !== null);
  return present.length === parts.length && present.length > 0 ? mergeFdSketches(present) : null;
}

function mergeTrack(parts: readonly StreamingRangeTrack[], predictors: readonly string[]): StreamingTrack {
  const first = parts[0];
  const error: Record<string, Float64Array> = {};
  const cosinePredicted: Record<string, number> = {};
  for (const id of predictors) {
    error[id] = concat(parts.map((p) => p.error[id]));
    cosinePredicted[id] = sequentialMean(parts.map((p) => p.cosinePredicted[id]));
  }
  const predictableRank: Record<string, number[]> = {};
  for (const key of Object.keys(first.windows.predictableRank)) {
    predictableRank[key] = parts.flatMap((p) => p.windows.predictableRank[key]);
  }
  return {
    name: first.name,
    numel: first.numel,
    gradNormSq: concat(parts.map((p) => p.gradNormSq)),
    error,
    cosineConsecutive: sequentialMean(parts.map((p) => p.cosineConsecutive)),
    cosinePredicted,
    windows: {
      size: first.windows.size,
      stride: first.windows.stride,
      starts: parts.flatMap((p) => p.windows.starts),
      predictableRank,
    },
    increments: mergeFd(parts.map((p) => p.increments)),
    gradients: mergeFd(parts.map((p) => p.gradients)),
  };
}

/**
 * The snapshot of a run from its step ranges in order (each range's `firstStep` must follow the previous range's
 * steps). `skippedSteps` is the run's list of skipped `observe` calls, which the ranges do not know.
 */
export function mergeStreamingRanges(
  ranges: readonly StreamingRange[],
  skippedSteps: readonly number[] = [],
): StreamingSnapshot {
  if (ranges.length === 0) throw new GradtraceError("E_ARG", "mergeStreamingRanges: no ranges");
  let steps = 0;
  for (const [i, r] of ranges.entries()) {
    if (r.firstStep !== steps) {
      throw new GradtraceError(
        "E_ARG",
        `mergeStreamingRanges: range ${i} starts at step ${r.firstStep}, expected ${steps} (ranges out of order or missing)`,
      );
    }
    if (r.tracks.length !== ranges[0].tracks.length) {
      throw new GradtraceError("E_SHAPE", `mergeStreamingRanges: range ${i} has a different set of tensors`);
    }
    steps += r.steps;
  }
  const predictors = ranges[0].predictors;
  const tracks = ranges[0].tracks.map((_, k) =>
    mergeTrack(
      ranges.map((r) => r.tracks[k]),
      predictors,
    ),
  );
  return {
    steps,
    skippedSteps: [...skippedSteps],
    predictors: [...predictors],
    tensors: tracks.slice(0, -1),
    total: tracks[tracks.length - 1],
  };
}
