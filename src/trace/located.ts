/** @file The generic reader behind every per-step-file layout (safetensors, npy, npz, raw manifest data): each layout
 * only has to say where each (step, tensor) lives — file, byte offset, dtype, endianness, memory order, and the
 * checksum covering it where the layout stores one (zip CRC-32 of npz members) — and this module validates
 * consistency across steps and serves readSlice / readTensor by positioned reads. A checksummed (step, tensor) is
 * verified on its first access, before any byte is handed out, and the verdict kept; a failure is a
 * `CorruptDataError` naming step and tensor, raised on every later access too.
 *
 * Bytes that cannot be addressed in place (deflated npz members; Fortran-ordered arrays, which must be handed out
 * in C order) are materialised lazily, on first access of that (step, tensor), into one raw cache file in a private
 * temporary directory under `tmpDir`; later reads are positioned reads into the cache. Memory stays bounded by one
 * read chunk for inflation and by one tensor for a Fortran transpose. The directory is deleted on close(). */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Inflate } from "fflate";
import { CorruptDataError, GradtraceError } from "../core/index.ts";
import { crc32, crc32OfRegion, FdPool, ioError } from "../io/index.ts";
import { decodeInto, dtypeSize, NATIVE_LITTLE_ENDIAN } from "./dtype.ts";
import { findMissingSteps } from "./steps.ts";
import type {
  DType,
  SketchInfo,
  TensorInfo,
  TraceFormat,
  TraceInfo,
  TraceProblem,
  TraceReader,
} from "./types.ts";

/** A deflated zip member holding an .npy file whose payload starts `headerLength` bytes into the inflated stream. */
export interface DeflatedSource {
  readonly member: string;
  readonly dataOffset: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly headerLength: number;
  readonly crc32: number;
}

/** A stored checksum over a file region holding (at least) one tensor's bytes, e.g. a stored zip member. */
export interface RegionChecksum {
  readonly offset: number;
  readonly length: number;
  readonly crc32: number;
  /** What the region is, for messages ("member w.npy"). */
  readonly what: string;
}

export interface TensorLocation {
  readonly file: string;
  /** Byte offset of element 0 in `file` (unused while `deflated` is set). */
  readonly offset: number;
  readonly dtype: DType;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  readonly numel: number;
  readonly deflated?: DeflatedSource;
  /** Verified on first access (deflated members are checked against their own CRC while inflating). */
  readonly checksum?: RegionChecksum;
}

export interface StepTable {
  readonly step: number;
  /** File (or directory) that holds this step, for error messages. */
  readonly file: string;
  readonly tensors: Map<string, TensorLocation>;
  readonly loss: number | null;
  readonly lr: number | null;
}

/** Bytes read per positioned read: bounds memory of readTensor/readSlice to this scratch size. */
const CHUNK_BYTES = 8 << 20;

/**
 * Checks every step holds the same tensor names with the same shapes as the first one; returns the TensorInfo list.
 * Missing or extra tensors are E_FORMAT naming the step, file and tensors; a shape change is E_SHAPE.
 */
export function checkStepConsistency(tables: readonly StepTable[], where: string): TensorInfo[] {
  if (tables.length === 0) return [];
  const first = tables[0];
  const infos: TensorInfo[] = [...first.tensors.entries()].map(([name, loc]) => ({
    name,
    shape: [...loc.shape],
    dtype: loc.dtype,
    numel: loc.numel,
  }));
  for (const table of tables.slice(1)) {
    const missing = infos.filter((t) => !table.tensors.has(t.name)).map((t) => t.name);
    if (missing.length > 0) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: step ${table.step} (${table.file}) lacks tensor(s) ${missing.join(", ")} present at step ${first.step}`,
      );
    }
    if (table.tensors.size !== infos.length) {
      const extra = [...table.tensors.keys()].filter((n) => !first.tensors.has(n));
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: step ${table.step} (${table.file}) has tensor(s) ${extra.join(", ")} absent at step ${first.step}`,
      );
    }
    for (const info of infos) {
      const loc = table.tensors.get(info.name)!;
      if (loc.shape.length !== info.shape.length || loc.shape.some((d, i) => d !== info.shape[i])) {
        throw new GradtraceError(
          "E_SHAPE",
          `${where}: tensor ${info.name} has shape [${loc.shape.join(", ")}] at step ${table.step} (${table.file}) ` +
            `but [${info.shape.join(", ")}] at step ${first.step}`,
        );
      }
    }
  }
  return infos;
}

/** Validates readSlice arguments against a tensor, naming the function and the bad value. */
export function checkSliceArgs(
  fn: string,
  info: TraceInfo,
  stepPos: number,
  tensor: TensorInfo | undefined,
  name: string,
  offset: number,
  count: number,
  out: { length: number } | null,
  outOffset: number,
): TensorInfo {
  if (!Number.isInteger(stepPos) || stepPos < 0 || stepPos >= info.steps.length) {
    throw new GradtraceError("E_ARG", `${fn}: step position ${stepPos} is outside [0, ${info.steps.length})`);
  }
  if (tensor === undefined)
    throw new GradtraceError("E_NOT_FOUND", `${fn}: no tensor named ${JSON.stringify(name)}`);
  if (
    !Number.isInteger(offset) ||
    !Number.isInteger(count) ||
    offset < 0 ||
    count < 0 ||
    offset + count > tensor.numel
  ) {
    throw new GradtraceError(
      "E_ARG",
      `${fn}: elements [${offset}, ${offset + count}) are outside tensor ${name} of ${tensor.numel} elements`,
    );
  }
  if (out !== null && (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + count > out.length)) {
    throw new GradtraceError(
      "E_ARG",
      `${fn}: output of length ${out.length} cannot hold ${count} values at ${outOffset}`,
    );
  }
  return tensor;
}

/** Raw cache of materialised tensors (C order, original dtype and endianness) in a private temp directory. */
class MaterialCache {
  private dir: string | null = null;
  private fd: number | null = null;
  private size = 0;
  file = "";
  constructor(private readonly tmpDir: string) {}

  append(bytes: Uint8Array): number {
    if (this.fd === null) {
      try {
        this.dir = fs.mkdtempSync(path.join(this.tmpDir, "gradtrace-cache-"));
      } catch (err) {
        throw ioError(err, this.tmpDir, "creating a temporary cache directory");
      }
      this.file = path.join(this.dir, "materialised.raw");
      this.fd = fs.openSync(this.file, "w");
    }
    const at = this.size;
    let done = 0;
    while (done < bytes.byteLength)
      done += fs.writeSync(this.fd, bytes, done, bytes.byteLength - done, at + done);
    this.size += bytes.byteLength;
    return at;
  }

  get bytes(): number {
    return this.size;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    if (this.dir !== null) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

/** Deflate cannot expand data by more than ~1032:1; a member claiming more is lying (a zip bomb). */
export const MAX_DEFLATE_RATIO = 1032;

export interface LocatedReaderInit {
  readonly path: string;
  readonly format: TraceFormat;
  readonly tables: readonly StepTable[];
  readonly problems: readonly TraceProblem[];
  readonly sketch?: SketchInfo;
  readonly tmpDir?: string;
  /** Overrides TensorInfo (e.g. a manifest's declared dtypes); default: from the first step. */
  readonly tensors?: readonly TensorInfo[];
  /** Live mode: tables of the steps after `lastStep` that appeared since (directory layouts re-list their files). */
  readonly rescan?: (lastStep: number) => StepTable[];
}

export class LocatedReader implements TraceReader {
  private current: TraceInfo;
  private readonly tables: StepTable[];
  private readonly byName: Map<string, TensorInfo>;
  private readonly pool = new FdPool(64);
  private readonly cache: MaterialCache;
  /** Locations rewritten after materialisation, keyed by `${stepPos}\u0000${name}`. */
  private readonly materialised = new Map<string, TensorLocation>();
  /** Checksum verdicts of (step position, tensor), same keys; absent = not yet checked. */
  private readonly verdicts = new Map<string, CorruptDataError | null>();
  private readonly rescan?: (lastStep: number) => StepTable[];
  /** Problems found at open other than missing steps (those are recomputed on refresh). */
  private readonly staticProblems: TraceProblem[];
  private scratch: Uint8Array = new Uint8Array(0);
  private closed = false;

  constructor({
    path: p,
    format,
    tables,
    problems,
    sketch,
    tmpDir = os.tmpdir(),
    tensors,
    rescan,
  }: LocatedReaderInit) {
    this.tables = [...tables];
    const infos = tensors ?? checkStepConsistency(tables, p);
    this.byName = new Map(infos.map((t) => [t.name, t]));
    this.rescan = rescan;
    this.staticProblems = problems.filter((q) => q.kind !== "missing-step");
    this.current = {
      path: p,
      format,
      steps: [],
      tensors: infos,
      loss: [],
      lr: [],
      ...(sketch ? { sketch } : {}),
      problems,
      payloadBytes: 0,
    };
    this.current = this.buildInfo(problems.filter((q) => q.kind === "missing-step"));
    this.cache = new MaterialCache(tmpDir);
  }

  get info(): TraceInfo {
    return this.current;
  }

  /**
   * Live mode for directory layouts: picks up step files numbered after the last known step (writers create them
   * atomically by rename, so a file that exists is complete). Steps that appear with a smaller number than the last
   * known one are ignored until the trace is reopened, so step positions never shift under a running analysis.
   */
  refresh(): number {
    this.checkOpen("refresh");
    if (!this.rescan || this.tables.length === 0) return 0;
    const fresh = this.rescan(this.tables[this.tables.length - 1].step);
    if (fresh.length === 0) return 0;
    checkStepConsistency([this.tables[0], ...fresh], this.current.path);
    this.tables.push(...fresh);
    this.current = this.buildInfo(
      findMissingSteps(
        this.tables.map((t) => t.step),
        this.current.path,
      ),
    );
    return fresh.length;
  }

  private buildInfo(missing: readonly TraceProblem[]): TraceInfo {
    let payloadBytes = 0;
    for (const t of this.tables)
      for (const loc of t.tensors.values()) payloadBytes += loc.numel * dtypeSize(loc.dtype);
    return {
      ...this.current,
      steps: this.tables.map((t) => t.step),
      loss: this.tables.map((t) => t.loss),
      lr: this.tables.map((t) => t.lr),
      problems: [...missing, ...this.staticProblems],
      payloadBytes,
    };
  }

  /** Bytes written to the materialisation cache so far (0 when every tensor was addressable in place). */
  get cacheBytes(): number {
    return this.cache.bytes;
  }

  get openFds(): number {
    return this.pool.openCount;
  }

  readSlice(
    stepPos: number,
    name: string,
    offset: number,
    count: number,
    out: Float64Array | Float32Array,
    outOffset = 0,
  ): void {
    this.checkOpen("readSlice");
    checkSliceArgs(
      "readSlice",
      this.info,
      stepPos,
      this.byName.get(name),
      name,
      offset,
      count,
      out,
      outOffset,
    );
    this.readInto(stepPos, name, offset, count, out, outOffset);
  }

  readTensor(stepPos: number, name: string): Float32Array {
    this.checkOpen("readTensor");
    const t = checkSliceArgs("readTensor", this.info, stepPos, this.byName.get(name), name, 0, 0, null, 0);
    const out = new Float32Array(t.numel);
    this.readInto(stepPos, name, 0, t.numel, out, 0);
    return out;
  }

  readState(): Float32Array | null {
    return null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.closeAll();
    this.cache.close();
  }

  private checkOpen(fn: string): void {
    if (this.closed) throw new GradtraceError("E_ARG", `${fn}: trace ${this.info.path} is closed`);
  }

  private readInto(
    stepPos: number,
    name: string,
    offset: number,
    count: number,
    out: Float64Array | Float32Array,
    outOffset: number,
  ): void {
    const loc = this.resolve(stepPos, name);
    const size = dtypeSize(loc.dtype);
    if (out instanceof Float32Array && loc.dtype === "F32" && loc.littleEndian === NATIVE_LITTLE_ENDIAN) {
      // Same representation on disk and in memory: read straight into the caller's array, no copy.
      const bytes = new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * 4);
      try {
        this.pool.read(loc.file, bytes, 0, bytes.byteLength, loc.offset + offset * 4);
      } catch (err) {
        throw withContext(err, `step ${this.info.steps[stepPos]}, tensor ${name}`);
      }
      return;
    }
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / size));
    let done = 0;
    while (done < count) {
      const n = Math.min(perChunk, count - done);
      const bytes = n * size;
      if (this.scratch.byteLength < bytes)
        this.scratch = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(bytes, 2 * this.scratch.byteLength)));
      const view = this.scratch.subarray(0, bytes);
      try {
        this.pool.read(loc.file, view, 0, bytes, loc.offset + (offset + done) * size);
      } catch (err) {
        throw withContext(err, `step ${this.info.steps[stepPos]}, tensor ${name}`);
      }
      decodeInto(view, loc.dtype, loc.littleEndian, n, out, outOffset + done);
      done += n;
    }
  }

  /** Location of C-ordered, directly addressable, verified bytes, materialising them first if needed. */
  private resolve(stepPos: number, name: string): TensorLocation {
    const key = `${stepPos}\u0000${name}`;
    const verdict = this.verdicts.get(key);
    if (verdict) throw verdict;
    const hit = this.materialised.get(key);
    if (hit) return hit;
    let loc = this.tables[stepPos].tensors.get(name)!;
    const step = this.tables[stepPos].step;
    if (loc.checksum && verdict === undefined) this.verify(key, loc, loc.checksum, step, name);
    if (!loc.deflated && !loc.fortranOrder) return loc;
    const where = `${loc.file}: step ${step}, tensor ${name}`;
    if (loc.deflated) {
      try {
        loc = this.inflateMember(loc, loc.deflated, where);
      } catch (err) {
        // A damaged member (bad deflate stream, wrong length, CRC mismatch) is corrupt data of this step.
        if (!(err instanceof GradtraceError) || err.code === "E_IO" || err.code === "E_NOT_FOUND") throw err;
        const corrupt = new CorruptDataError({ step, tensor: name, file: loc.file }, err.message);
        this.verdicts.set(key, corrupt);
        throw corrupt;
      }
      this.verdicts.set(key, null);
    }
    if (loc.fortranOrder) loc = this.transposeFortran(loc, where);
    this.materialised.set(key, loc);
    return loc;
  }

  private verify(key: string, loc: TensorLocation, sum: RegionChecksum, step: number, name: string): void {
    const { crc, scratch } = crc32OfRegion(this.pool, loc.file, sum.offset, sum.length, this.scratch);
    this.scratch = scratch;
    const verdict =
      crc === sum.crc32 >>> 0
        ? null
        : new CorruptDataError(
            { step, tensor: name, file: loc.file },
            `${loc.file}: step ${step}, tensor ${name}: ${sum.what} fails its CRC-32 check; the data is corrupt`,
          );
    this.verdicts.set(key, verdict);
    if (verdict) throw verdict;
  }

  private inflateMember(loc: TensorLocation, src: DeflatedSource, where: string): TensorLocation {
    const payloadBytes = loc.numel * dtypeSize(loc.dtype);
    let produced = 0;
    let crc = 0;
    const cacheStart = this.cache.bytes;
    const inflater = new Inflate((chunk: Uint8Array) => {
      if (produced + chunk.byteLength > src.uncompressedSize) {
        throw new GradtraceError(
          "E_FORMAT",
          `${where}: member ${src.member} inflates beyond its declared ${src.uncompressedSize} bytes (zip bomb?); refusing`,
        );
      }
      crc = crc32(chunk, crc);
      // Drop the npy header that precedes the payload in the inflated stream.
      const skip = Math.max(0, Math.min(chunk.byteLength, src.headerLength - produced));
      if (skip < chunk.byteLength) this.cache.append(chunk.subarray(skip));
      produced += chunk.byteLength;
    });
    // Small compressed pieces bound what one push can inflate to (~16 KiB × 1032 ≈ 17 MB) even for a lying member.
    const inBuf = new Uint8Array(16 << 10);
    let consumed = 0;
    try {
      while (consumed < src.compressedSize) {
        const n = Math.min(inBuf.byteLength, src.compressedSize - consumed);
        this.pool.read(loc.file, inBuf, 0, n, src.dataOffset + consumed);
        consumed += n;
        inflater.push(inBuf.slice(0, n), consumed === src.compressedSize);
      }
    } catch (err) {
      if (err instanceof GradtraceError) throw err;
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: member ${src.member} is not valid deflate data (${String(err)})`,
      );
    }
    if (produced !== src.uncompressedSize) {
      throw new GradtraceError(
        "E_TRUNCATED",
        `${where}: member ${src.member} inflates to ${produced} bytes, its zip entry declares ${src.uncompressedSize}`,
      );
    }
    if (crc >>> 0 !== src.crc32 >>> 0) {
      throw new GradtraceError("E_CHECKSUM", `${where}: member ${src.member} fails its zip CRC-32 check`);
    }
    if (this.cache.bytes - cacheStart !== payloadBytes) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: member ${src.member} payload is not ${payloadBytes} bytes`,
      );
    }
    return { ...loc, file: this.cache.file, offset: cacheStart, deflated: undefined };
  }

  /** Rewrites a Fortran-ordered tensor in C order into the cache (needs the one tensor in memory). */
  private transposeFortran(loc: TensorLocation, where: string): TensorLocation {
    const size = dtypeSize(loc.dtype);
    const src = new Uint8Array(loc.numel * size);
    try {
      this.pool.read(loc.file, src, 0, src.byteLength, loc.offset);
    } catch (err) {
      throw withContext(err, where);
    }
    const dst = new Uint8Array(src.byteLength);
    const shape = loc.shape;
    const nd = shape.length;
    const fstride: number[] = [];
    let s = 1;
    for (let k = 0; k < nd; k++) {
      fstride.push(s);
      s *= shape[k];
    }
    const idx = new Array<number>(nd).fill(0);
    let f = 0;
    for (let c = 0; c < loc.numel; c++) {
      dst.set(src.subarray(f * size, f * size + size), c * size);
      // Advance the C-order multi-index (last axis fastest) and keep the Fortran offset in step.
      for (let k = nd - 1; k >= 0; k--) {
        idx[k]++;
        f += fstride[k];
        if (idx[k] < shape[k]) break;
        f -= fstride[k] * shape[k];
        idx[k] = 0;
      }
    }
    const at = this.cache.append(dst);
    return { ...loc, file: this.cache.file, offset: at, fortranOrder: false };
  }
}

function withContext(err: unknown, context: string): unknown {
  if (err instanceof GradtraceError)
    return new GradtraceError(err.code, `${err.message} (${context})`, { cause: err });
  return err;
}
