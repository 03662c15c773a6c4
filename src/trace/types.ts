/** @file The contract between trace formats and everything that reads traces. Every layout (safetensors directory,
 * npy/npz directory, gradtrace's own .gtrace file, sketched manifest) is opened into a `TraceReader`; writers
 * implement `TraceWriter`. Readers are synchronous on purpose: the exact pass issues many small positioned reads and
 * `fs.readSync` at an offset is the fastest, simplest way to do that in Node. */

export type DType = "F64" | "F32" | "F16" | "BF16";

export type TraceFormat = "safetensors-dir" | "npz-dir" | "npy-dir" | "gtrace" | "manifest";

export interface TensorInfo {
  /** Parameter name, e.g. "conv1.weight". */
  readonly name: string;
  readonly shape: readonly number[];
  /** Storage dtype on disk (values are always handed out as float64 / float32 copies). */
  readonly dtype: DType;
  /** Product of shape (1 for a scalar). */
  readonly numel: number;
}

/** Present when the run logged sketched gradients only (each tensor's vector is already S·g, length k). */
export interface SketchInfo {
  readonly kind: "jl" | "countsketch" | "sparsejl" | "srht";
  readonly k: number;
  readonly seed: number;
  /** How each tensor's sketch was seeded from `seed`: "name" → tensorSketchSeed(seed, name) (what the loggers write
   * now), "position" → deriveSeed(seed, i) for the i-th tensor (traces that predate the field; the default). */
  readonly seeding?: "name" | "position";
  /** sparsejl only: nonzeros per column (default: the largest divisor of k that is ≤ 8). */
  readonly s?: number;
  /** Original (unsketched) element count per tensor name, when known. */
  readonly originalNumel?: Readonly<Record<string, number>>;
}

/** A matrix-shaped tensor whose range sketch Y = G·Ω (rows × s) the trace holds (gtrace version 2). */
export interface RangeSketchTensor {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
}

/** Range sketches of matrix-shaped gradients: Y_t = G_t·Ω with Ω (cols × s) i.i.d. N(0, 1/s), the same at every
 * step (generation: docs/trace-format.md). */
export interface RangeSketchInfo {
  readonly s: number;
  readonly seed: number;
  readonly seeding: "name";
  readonly tensors: readonly RangeSketchTensor[];
}

export interface TraceProblem {
  readonly kind: "truncated-record" | "missing-step" | "corrupt-record" | "nonfinite" | "other";
  /** Step index concerned, when there is one. */
  readonly step?: number;
  /** Tensor concerned (e.g. the one whose checksum failed), when there is one. */
  readonly tensor?: string;
  readonly file?: string;
  readonly message: string;
}

export interface TraceInfo {
  /** Path the user gave. */
  readonly path: string;
  readonly format: TraceFormat;
  /** Step indices present and readable, ascending. Position i in this array is the "step position" used below. */
  readonly steps: readonly number[];
  readonly tensors: readonly TensorInfo[];
  /** Per step position: training loss / learning rate when the trace carries them, else null. */
  readonly loss: readonly (number | null)[];
  readonly lr: readonly (number | null)[];
  readonly sketch?: SketchInfo;
  /** Present when the trace holds range sketches of matrix-shaped tensors (read them with `readRangeSketch`). */
  readonly rangeSketch?: RangeSketchInfo;
  /** Problems found and tolerated while opening (truncated last record, missing steps, ...). */
  readonly problems: readonly TraceProblem[];
  /** Total bytes of gradient payload (for progress / GB/s). */
  readonly payloadBytes: number;
}

/**
 * Checksums: layouts that store them (gtrace payload CRCs, zip CRCs of npz members) are verified before any byte of
 * a (step, tensor) is handed out — by whole reads every time, and by the first partial read of that (step, tensor),
 * which checks the whole payload once and remembers the verdict. A payload that fails makes readSlice, readTensor
 * and readState throw `CorruptDataError` (code E_CHECKSUM, with `step` and `tensor`), every time it is asked for;
 * callers exclude that step (analysis, convert) or stop (`--strict`). Layouts without checksums (safetensors, npy,
 * raw manifests) cannot detect corruption.
 */
export interface TraceReader {
  readonly info: TraceInfo;
  /**
   * Copies elements [offset, offset + count) of tensor `name` (flattened, C order) at step position `stepPos` into
   * `out` starting at `outOffset`, converting to out's type (float32 out of float64 data rounds; float32 data into a
   * Float32Array is read straight into place). Random access: cost proportional to `count`, plus one checksum pass
   * over the whole payload on the first read of that (step, tensor).
   */
  readSlice(
    stepPos: number,
    name: string,
    offset: number,
    count: number,
    out: Float64Array | Float32Array,
    outOffset?: number,
  ): void;
  /** Whole tensor at one step position, as a new Float32Array (for streaming / live / sketch paths). */
  readTensor(stepPos: number, name: string): Float32Array;
  /** Re-scan for steps appended since opening (live mode). Returns the number of new steps; `info` is updated. */
  refresh?(): number;
  /**
   * Optimizer state logged with a step (gtrace only; other layouts return null or lack the method): the
   * momentum buffer of parameter `name` as a new Float32Array, or null when that step did not log it.
   */
  readState?(stepPos: number, name: string, kind: "momentum"): Float32Array | null;
  /** The range sketch Y = G·Ω of matrix-shaped tensor `name` at a step (rows × s, C order), or null when that step
   * did not log one (gtrace version 2 only). */
  readRangeSketch?(stepPos: number, name: string): Float32Array | null;
  close(): void;
}

export interface OpenTraceOptions {
  /** Force a layout instead of detecting it. */
  readonly format?: TraceFormat;
  /** Directory for temporary block-transposed copies (formats without random access, e.g. deflated npz). */
  readonly tmpDir?: string;
  /** gtrace only: verify payload checksums of the "last" record at open (default; every other payload is verified
   * on its first read) or of "all" records at open (failing records are then skipped and reported). */
  readonly verify?: "last" | "all";
}

export interface StepExtras {
  readonly loss?: number;
  readonly lr?: number;
  /** Optional optimizer state, e.g. { "fc1.weight": momentumBuffer }: stored as a momentum entry beside the gradient of
   * that name and read back with `TraceReader.readState(stepPos, name, "momentum")`. */
  readonly momentum?: Readonly<Record<string, Float32Array>>;
  /** Range sketches Y = G·Ω (rows × s values) of tensors the writer declared in `rangeSketch`. */
  readonly range?: Readonly<Record<string, Float32Array>>;
}

export interface TraceWriter {
  /** Appends one step: every tensor declared at creation, in any order. */
  append(
    step: number,
    tensors: Readonly<Record<string, Float32Array | Float64Array>>,
    extras?: StepExtras,
  ): void;
  close(): void;
}
