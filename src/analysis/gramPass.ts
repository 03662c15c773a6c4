/** @file The exact mode's one coordinate-blocked pass over a stored trace: for each tensor and each block of its
 * coordinates, read that slice from every step and hand it to a sink — by default a GramAccumulator (K += B·Bᵀ),
 * or a Frequent Directions sketch of the rows of G (see fdSink.ts). Memory is O(T² + block·T) whatever the
 * parameter count, so a trace larger than RAM is analyzed exactly. A step whose data fails its checksum (found by
 * the reader on its first block, before any of it is used) is fed as zeros and excluded at the end, like a NaN/Inf
 * step, but reported as corruption.
 *
 * The default Gram (kernels wasm and js) runs as tasks (blockTasks.ts): each tensor's coordinates are cut into
 * ranges of a fixed size, each range's Gram is computed from zero — on this thread or on worker threads — and the
 * ranges' Grams are added in range order, so the result does not depend on the number of threads (bit for bit).
 * Custom sinks and the jax kernel read block by block on this thread. */
import { GramAccumulator, type GramKernel, type Mat, mat, resolveKernels } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { type GramTask, gramTaskBytes, zeroIfNonFinite } from "./blockTasks.ts";
import { type CorruptStep, corruptStepOf } from "./corruption.ts";
import { inProcessRunner, runInOrder, type TaskRunner } from "./taskRunner.ts";

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
  /** "wasm" (default unless GRADTRACE_KERNELS=js) and "js": float64 products (exact to float64 rounding; the wasm
   * kernel is the WebAssembly SIMD one, js the reference). "jax": float32 block products on @jax-js/jax,
   * float64 accumulation — several times faster, relative error ~1e-7·√width per entry: fine for spectra, but κ of
   * very predictable sequences subtracts nearly equal entries of K and loses that much more. */
  readonly kernel?: GramKernel;
  /** Consumer of the blocks (default: a GramAccumulator with `kernel`); one sink per tensor. */
  readonly sink?: (n: number) => Promise<BlockSink>;
  /** Runs the default Gram's tasks (default: this thread). See taskRunner.ts. */
  readonly runner?: TaskRunner;
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

/** Coordinates per Gram task (at least one block): large enough that adding a task's n × n Gram is negligible
 * next to computing it (n²·2¹⁷ flops against n² additions), small enough to share a tensor between threads. */
export const TASK_COORDINATES = 1 << 17;

/** The exact pass's tasks, in the order their Grams are added: per tensor, consecutive coordinate ranges. */
export function planGramTasks(
  tensors: readonly { name: string; numel: number }[],
  positions: readonly number[],
  width: number,
  kernel: "js" | "wasm",
  strict = false,
): GramTask[] {
  const span = width * Math.max(1, Math.ceil(TASK_COORDINATES / width));
  const tasks: GramTask[] = [];
  for (const t of tensors) {
    for (let off = 0; off < t.numel; off += span) {
      tasks.push({
        tensor: t.name,
        offset: off,
        count: Math.min(span, t.numel - off),
        width,
        positions,
        kernel,
        strict,
      });
    }
  }
  return tasks;
}

export async function accumulateGrams(
  reader: TraceReader,
  {
    tensors,
    stepPositions,
    memoryBytes = DEFAULT_MEMORY_BYTES,
    onProgress,
    kernel,
    sink,
    runner,
    strict = false,
  }: GramPassOptions,
): Promise<GramPassResult> {
  const positions = stepPositions ?? reader.info.steps.map((_, i) => i);
  if (sink === undefined && kernel !== "jax") {
    return taskedGrams(reader, {
      tensors,
      positions,
      width: blockWidthFor(positions.length, memoryBytes),
      kernel: resolveKernels(kernel, "accumulateGrams"),
      onProgress,
      runner: runner ?? inProcessRunner(reader),
      strict,
    });
  }
  sink ??= (n) => GramAccumulator.create({ n, kernel });
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
        if (zeroIfNonFinite(block, i, w)) bad.add(i);
      }
      acc.addBlock(block, w);
      bytes += n * w * elemBytes;
      onProgress?.({ phase: "gram", done: bytes, total: totalBytes, bytes });
    }
    grams.set(name, acc.gram);
  }
  return excludeSteps(grams, positions, bad, corrupt);
}

/** The pass's result once the excluded rows (NaN/Inf or corrupt) are dropped from every Gram. A step that is corrupt
 * in one tensor and non-finite in another is reported once, as corrupt. */
function excludeSteps(
  grams: Map<string, Mat>,
  positions: readonly number[],
  bad: ReadonlySet<number>,
  corrupt: ReadonlyMap<number, CorruptStep>,
): GramPassResult {
  const nonFiniteSteps = [...bad].filter((i) => !corrupt.has(i)).sort((a, b) => a - b);
  const excluded = [...nonFiniteSteps, ...corrupt.keys()].sort((a, b) => a - b);
  if (excluded.length > 0) {
    for (const [name, k] of grams) grams.set(name, dropIndices(k, excluded));
  }
  return {
    grams,
    nonFiniteSteps: nonFiniteSteps.map((i) => positions[i]),
    corrupt: [...corrupt.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c),
  };
}

/** The default Gram pass as tasks (see the file note): per tensor, the ranges' Grams added in range order. */
async function taskedGrams(
  reader: TraceReader,
  options: {
    tensors: readonly string[];
    positions: readonly number[];
    width: number;
    kernel: "js" | "wasm";
    onProgress?: (p: GramPassProgress) => void;
    runner: TaskRunner;
    strict: boolean;
  },
): Promise<GramPassResult> {
  const { tensors, positions, width, kernel, onProgress, runner, strict } = options;
  const n = positions.length;
  const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const tasks = planGramTasks(
    tensors.map((name) => infoByName.get(name)!),
    positions,
    width,
    kernel,
    strict,
  );
  const totalBytes = tasks.reduce((s, t) => s + gramTaskBytes(reader, t), 0);
  const sums = new Map(tensors.map((name) => [name, new Float64Array(n * n)]));
  const bad = new Set<number>();
  // By row; the first task to meet a corrupt step names it (tasks are consumed in order, so this is deterministic).
  const corrupt = new Map<number, CorruptStep>();
  let bytes = 0;
  await runInOrder(
    tasks.length,
    (i) => tasks[i],
    (task) => runner.gram(task),
    (result, task) => {
      const k = sums.get(task.tensor)!;
      const lower = result.lower;
      for (let i = 0; i < k.length; i++) k[i] += lower[i];
      for (const i of result.nonFinite) bad.add(i);
      for (const c of result.corrupt) if (!corrupt.has(c.row)) corrupt.set(c.row, c.step);
      bytes += gramTaskBytes(reader, task);
      onProgress?.({ phase: "gram", done: bytes, total: totalBytes, bytes });
    },
    2 * runner.threads,
  );
  const grams = new Map<string, Mat>();
  for (const [name, k] of sums) {
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) k[j * n + i] = k[i * n + j];
    grams.set(name, mat(n, n, k));
  }
  return excludeSteps(grams, positions, bad, corrupt);
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
