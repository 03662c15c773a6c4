/** @file The exact mode's one coordinate-blocked pass over a stored trace: for each tensor and each block of its
 * coordinates, read that slice from every step and hand it to a sink — by default a GramAccumulator (K += B·Bᵀ),
 * or a Frequent Directions sketch of the rows of G (see fdSink.ts). Memory is O(T² + block·T) whatever the
 * parameter count, so a trace larger than RAM is analyzed exactly. A step whose data fails its checksum (found by
 * the reader on its first block, before any of it is used) is fed as zeros from then on and excluded at the end,
 * like a NaN/Inf step, but reported as corruption. */
import { GramAccumulator, type GramKernel, type Mat, mat } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { type CorruptStep, corruptStepOf } from "./corruption.ts";

export interface GramPassProgress {
  readonly phase: "gram" | "sketch" | "matrix" | "stream";
  readonly done: number;
  readonly total: number;
  /** Payload bytes read so far. */
  readonly bytes: number;
}

export interface GramPassOptions {
  /** Tensor names to accumulate (in order). */
  readonly tensors: readonly string[];
  /** Step positions to use (default all). */
  readonly stepPositions?: readonly number[];
  /** Budget for the block buffer in bytes; the block width is derived from it. */
  readonly memoryBytes?: number;
  readonly onProgress?: (p: GramPassProgress) => void;
  /** "js": float64 products (default, exact to float64 rounding). "jax": float32 block products on @jax-js/jax,
   * float64 accumulation — several times faster, relative error ~1e-7·√width per entry: fine for spectra, but κ of
   * very predictable sequences subtracts nearly equal entries of K and loses that much more. */
  readonly kernel?: GramKernel;
  /** Consumer of the blocks (default: a GramAccumulator with `kernel`); one sink per tensor. */
  readonly sink?: (n: number) => Promise<BlockSink>;
  /** Let a checksum failure end the pass instead of excluding the step. */
  readonly strict?: boolean;
}

/** What the pass feeds: blocks of n rows × width columns (row t = a coordinate slice of g_t), then one n×n result. */
export interface BlockSink {
  addBlock(block: Float64Array, width: number): void;
  readonly gram: Mat;
}

export interface GramPassResult {
  /** Per-tensor Gram over the used step positions. */
  readonly grams: Map<string, Mat>;
  /** Step positions (indices into info.steps) whose gradients held NaN/Inf in some tensor: excluded everywhere. */
  readonly nonFiniteSteps: number[];
  /** Step positions whose data failed a checksum (the first failing tensor of each): excluded everywhere. */
  readonly corrupt: CorruptStep[];
}

const BYTES_PER_DTYPE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** Width of a coordinate block such that the n × width float64 buffer fits the budget. */
export function blockWidthFor(steps: number, memoryBytes: number): number {
  return Math.max(64, Math.floor(memoryBytes / (8 * Math.max(1, steps))));
}

/** Default budget of the exact pass's block buffer: 256 MiB. */
export const DEFAULT_MEMORY_BYTES = 256 * 2 ** 20;

export async function accumulateGrams(
  reader: TraceReader,
  {
    tensors,
    stepPositions,
    memoryBytes = DEFAULT_MEMORY_BYTES,
    onProgress,
    kernel = "js",
    sink = (n) => GramAccumulator.create({ n, kernel }),
    strict = false,
  }: GramPassOptions,
): Promise<GramPassResult> {
  const positions = stepPositions ?? reader.info.steps.map((_, i) => i);
  const n = positions.length;
  const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const totalBytes = tensors.reduce((s, name) => {
    const t = infoByName.get(name)!;
    return s + t.numel * n * (BYTES_PER_DTYPE[t.dtype] ?? 4);
  }, 0);
  const width = blockWidthFor(n, memoryBytes);
  const buffer = new Float64Array(
    n * Math.min(width, Math.max(...tensors.map((t) => infoByName.get(t)!.numel))),
  );
  const bad = new Set<number>();
  /** By row: corrupt rows are not read again (a later tensor of that step would be read for nothing). */
  const corrupt = new Map<number, CorruptStep>();
  const grams = new Map<string, Mat>();
  let bytes = 0;
  for (const name of tensors) {
    const t = infoByName.get(name)!;
    const acc = await sink(n);
    const elemBytes = BYTES_PER_DTYPE[t.dtype] ?? 4;
    for (let off = 0; off < t.numel; off += width) {
      const w = Math.min(width, t.numel - off);
      const block = buffer.subarray(0, n * w);
      for (let i = 0; i < n; i++) {
        if (corrupt.has(i)) {
          block.fill(0, i * w, (i + 1) * w);
          continue;
        }
        try {
          reader.readSlice(positions[i], name, off, w, block, i * w);
        } catch (err) {
          corrupt.set(i, corruptStepOf(err, positions[i], strict));
          block.fill(0, i * w, (i + 1) * w);
          continue;
        }
        // NaN/Inf policy: a step with any non-finite entry is excluded from every metric (reported, never summed).
        for (let j = i * w, end = j + w; j < end; j++) {
          if (!Number.isFinite(block[j])) {
            bad.add(i);
            block.fill(0, i * w, end);
            break;
          }
        }
      }
      acc.addBlock(block, w);
      bytes += n * w * elemBytes;
      onProgress?.({ phase: "gram", done: bytes, total: totalBytes, bytes });
    }
    grams.set(name, acc.gram);
  }
  // A step that is corrupt in one tensor and non-finite in another is reported once, as corrupt.
  const nonFiniteSteps = [...bad].filter((i) => !corrupt.has(i)).sort((a, b) => a - b);
  const excluded = [...nonFiniteSteps, ...corrupt.keys()].sort((a, b) => a - b);
  if (excluded.length > 0) {
    for (const [name, k] of grams) grams.set(name, dropIndices(k, excluded));
  }
  return {
    grams,
    nonFiniteSteps: nonFiniteSteps.map((i) => positions[i]),
    corrupt: [...corrupt.values()],
  };
}

/** K with the rows and columns in `drop` (sorted) removed. */
export function dropIndices(k: Mat, drop: readonly number[]): Mat {
  const skip = new Set(drop);
  const keep: number[] = [];
  for (let i = 0; i < k.rows; i++) if (!skip.has(i)) keep.push(i);
  const out = mat(keep.length, keep.length);
  for (let a = 0; a < keep.length; a++) {
    for (let b = 0; b < keep.length; b++) out.data[a * keep.length + b] = k.data[keep[a] * k.cols + keep[b]];
  }
  return out;
}

/** Elementwise sum of Gram matrices of equal size (the whole-model Gram is the sum of per-tensor Grams). */
export function sumGrams(grams: Iterable<Mat>): Mat | null {
  let total: Mat | null = null;
  for (const k of grams) {
    if (total === null) total = mat(k.rows, k.cols, Float64Array.from(k.data));
    else for (let i = 0; i < k.data.length; i++) total.data[i] += k.data[i];
  }
  return total;
}
