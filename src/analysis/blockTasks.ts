/** @file The block passes' units of work, run in-process or by pool workers (src/parallel) alike, so that a pass
 * gives the same numbers bit for bit whatever the number of threads:
 * - exact pass: a task is one tensor's coordinate range, split into blocks; it returns the lower triangle of that
 *   range's own Gram (from zero) and the steps that held NaN/±Inf there. The pass adds the tasks' Grams in task
 *   order, so the sum is the same sequence of float64 additions for any thread count.
 * - sketched pass: a task is a range of step positions; it returns each step's sketch per tensor (each a fixed
 *   sequence of additions, independent of where it runs).
 * A worker opens the trace itself, by path and format (readers are synchronous file readers; nothing but the path
 * crosses the thread boundary), keeps it open for its next tasks, and checks that the positions it is asked for
 * hold the same steps as in the caller's reader.
 * Data failing its checksum (CorruptDataError from the reader) is handled inside the task — the step's row is zeroed
 * and returned as corrupt, so only plain data crosses the thread boundary — unless the task is strict, when the
 * error ends the task (its GradtraceError code survives the worker boundary). */
import {
  createSketch,
  GradtraceError,
  GramAccumulator,
  HashingSketch,
  type SketchKind,
  tensorSketchSeed,
} from "../core/index.ts";
import { openTrace, type TraceFormat, type TraceReader } from "../trace/index.ts";
import { type CorruptStep, corruptStepOf } from "./corruption.ts";

/** One tensor's coordinates [offset, offset + count) at the given step positions, read `width` at a time. */
export interface GramTask {
  readonly tensor: string;
  readonly offset: number;
  readonly count: number;
  readonly width: number;
  readonly positions: readonly number[];
  readonly kernel: "js" | "wasm";
  /** Let a checksum failure end the task instead of excluding the step. */
  readonly strict?: boolean;
}

/** A step excluded for corrupt data: its row (index into the task's positions or step range) and what failed. */
export interface CorruptRow {
  readonly row: number;
  readonly step: CorruptStep;
}

export interface GramTaskResult {
  /** n × n row-major; the lower triangle (with the diagonal) holds this range's Gram, the rest is zero. */
  readonly lower: Float64Array;
  /** Indices into `positions` of the steps holding NaN/±Inf in this range. */
  readonly nonFinite: number[];
  /** Steps whose data failed its checksum (zeroed in `lower`'s rows). */
  readonly corrupt: CorruptRow[];
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** NaN/Inf policy of the exact pass (js path): a step with any non-finite entry is excluded from every metric
 * (reported, never summed). True when row i of the n × w block held one; the row is then zeroed. */
export function zeroIfNonFinite(block: Float64Array | Float32Array, i: number, w: number): boolean {
  for (let j = i * w, end = j + w; j < end; j++) {
    if (!Number.isFinite(block[j])) {
      block.fill(0, i * w, end);
      return true;
    }
  }
  return false;
}

/** Runs one exact-pass task on a reader. */
export function runGramTask(reader: TraceReader, task: GramTask): GramTaskResult {
  const { tensor, offset, count, width, positions, kernel, strict = false } = task;
  const n = positions.length;
  const info = reader.info.tensors.find((t) => t.name === tensor);
  if (info === undefined)
    throw new GradtraceError("E_NOT_FOUND", `Gram task: no tensor "${tensor}" in ${reader.info.path}`);
  const acc = new GramAccumulator(n, { kernel });
  const bad = new Set<number>();
  const corrupt = new Map<number, CorruptStep>();
  /** Reads row i of a block (zeros once the step is known to be corrupt); false when the row is zeroed. */
  const readRow = (i: number, off: number, w: number, into: Float64Array | Float32Array): boolean => {
    if (!corrupt.has(i)) {
      try {
        reader.readSlice(positions[i], tensor, off, w, into, i * w);
        return true;
      } catch (err) {
        corrupt.set(i, corruptStepOf(err, positions[i], strict));
      }
    }
    into.fill(0, i * w, (i + 1) * w);
    return false;
  };
  // The wasm kernel reads float32/float64 data straight into its staging buffer and flags non-finite rows; the js
  // kernel (and float16 data, whose decoder may use WebAssembly memory itself) reads into a JavaScript block.
  const staged = acc.kernel === "wasm" && (info.dtype === "F32" || info.dtype === "F64");
  const type = info.dtype === "F64" ? "f64" : "f32";
  let block: Float64Array | Float32Array | null = null;
  try {
    for (let off = offset; off < offset + count; off += width) {
      const w = Math.min(width, offset + count - off);
      if (staged) {
        const view = type === "f64" ? acc.stage(w, "f64")! : acc.stage(w, "f32")!;
        for (let i = 0; i < n; i++) readRow(i, off, w, view);
        acc.addStaged(w, type);
        continue;
      }
      if (block === null || block.length < n * w)
        block = acc.kernel === "wasm" ? new Float32Array(n * width) : new Float64Array(n * width);
      const b = block.subarray(0, n * w);
      for (let i = 0; i < n; i++) {
        if (readRow(i, off, w, b) && acc.kernel === "js" && zeroIfNonFinite(b, i, w)) bad.add(i);
      }
      acc.addBlock(b, w);
    }
    for (const i of acc.nonFiniteRows() ?? []) bad.add(i);
    const lower = acc.gram.data;
    for (let i = 0; i < n; i++) lower.fill(0, i * n + i + 1, (i + 1) * n);
    return {
      lower,
      nonFinite: [...bad].sort((a, b) => a - b),
      corrupt: [...corrupt].map(([row, step]) => ({ row, step })),
    };
  } finally {
    acc.dispose();
  }
}

/** Payload bytes a Gram task reads (for progress). */
export function gramTaskBytes(reader: TraceReader, task: GramTask): number {
  const dtype = reader.info.tensors.find((t) => t.name === task.tensor)?.dtype ?? "F32";
  return task.count * task.positions.length * (BYTES[dtype] ?? 4);
}

/** One sketched-pass task: steps positions[from … to) of the given tensors, each sketched with its own seeded
 * sketch (the same S in every thread: kind, k, dim and tensorSketchSeed(seed, tensor name)). */
export interface SketchTask {
  readonly tensors: readonly string[];
  readonly kind: SketchKind;
  readonly k: number;
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  /** Let a checksum failure end the task instead of excluding the step. */
  readonly strict?: boolean;
}

export interface SketchTaskResult {
  /** (to − from) × tensors × k: row (s, tensor) = S_tensor · g_{from+s}. */
  readonly rows: Float64Array;
  /** Steps whose data failed its checksum (`row` is the step position; all its rows are zero). */
  readonly corrupt: CorruptRow[];
}

const sketchCache = new WeakMap<TraceReader, Map<string, ReturnType<typeof createSketch>[]>>();

export function runSketchTask(reader: TraceReader, task: SketchTask): SketchTaskResult {
  const { tensors, kind, k, seed, from, to, strict = false } = task;
  const key = `${kind}:${k}:${seed}:${tensors.join("\u0000")}`;
  let byKey = sketchCache.get(reader);
  if (!byKey) {
    byKey = new Map();
    sketchCache.set(reader, byKey);
  }
  let sketches = byKey.get(key);
  if (!sketches) {
    const dims = new Map(reader.info.tensors.map((t) => [t.name, t.numel]));
    sketches = tensors.map((name) =>
      createSketch({ kind, k, seed: tensorSketchSeed(seed, name), dim: dims.get(name)! }),
    );
    byKey.set(key, sketches);
  }
  const rows = new Float64Array((to - from) * tensors.length * k);
  const dtypes = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const corrupt: CorruptRow[] = [];
  for (let pos = from; pos < to; pos++) {
    for (let i = 0; i < tensors.length; i++) {
      const at = ((pos - from) * tensors.length + i) * k;
      try {
        sketchInto(reader, pos, tensors[i], sketches[i], dtypes.get(tensors[i])!, rows.subarray(at, at + k));
      } catch (err) {
        corrupt.push({ row: pos, step: corruptStepOf(err, pos, strict) });
        const stepAt = (pos - from) * tensors.length * k;
        rows.fill(0, stepAt, stepAt + tensors.length * k);
        break;
      }
    }
  }
  return { rows, corrupt };
}

/** out = S · g_pos for one tensor. */
function sketchInto(
  reader: TraceReader,
  pos: number,
  name: string,
  sketch: ReturnType<typeof createSketch>,
  info: { dtype: string; numel: number },
  out: Float64Array,
): void {
  // float32 data is read straight into the hashing kernel's input buffer (no new array, no copy); other dtypes
  // are decoded first (their decoder may allocate WebAssembly memory, which would detach that buffer).
  if (
    info.dtype === "F32" &&
    sketch instanceof HashingSketch &&
    sketch.accumulateFilled(0, info.numel, out, (view, off) =>
      reader.readSlice(pos, name, off, view.length, view),
    )
  ) {
    return;
  }
  sketch.accumulate(reader.readTensor(pos, name), 0, out);
}

/** Where a worker finds the trace: the caller's reader's path and format, and the step numbers of the positions
 * its tasks use (checked on opening). */
export interface TraceHandle {
  readonly path: string;
  readonly format: TraceFormat;
  readonly steps: readonly number[];
}

const readers = new Map<string, TraceReader>();

/** Readers a worker thread keeps open: a queue worker serves trace after trace for days, so the least recently used
 * is closed beyond this. */
const OPEN_READERS = 4;

/** The worker's reader for `handle` (opened once per thread), after checking it holds the same steps. */
export function readerFor(handle: TraceHandle): TraceReader {
  const key = `${handle.format}\u0000${handle.path}`;
  let r = readers.get(key);
  if (r === undefined) {
    r = openTrace(handle.path, { format: handle.format });
    if (readers.size >= OPEN_READERS) {
      const [oldest, reader] = readers.entries().next().value!;
      readers.delete(oldest);
      reader.close();
    }
  } else readers.delete(key);
  readers.set(key, r); // most recently used last
  const have = r.info.steps;
  if (have.length < handle.steps.length && r.refresh) r.refresh();
  for (let i = 0; i < handle.steps.length; i++) {
    if (r.info.steps[i] !== handle.steps[i]) {
      throw new GradtraceError(
        "E_FORMAT",
        `${handle.path}: step position ${i} holds step ${r.info.steps[i]} in a worker but ${handle.steps[i]} in the caller (the trace changed while being analyzed?)`,
      );
    }
  }
  return r;
}
