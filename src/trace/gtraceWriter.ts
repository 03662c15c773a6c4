/** @file Writer of `.gtrace` files. The header is written atomically (temp + rename); each step is then appended as
 * one record in a single positioned write, followed by fsync under the default policy, so a crash loses at most
 * the record being written (which the reader reports as a truncated last record and skips). `resume` reopens a
 * file a killed run left behind: the partial last record is cut off (and reported) and appending continues after
 * the last complete one. One writer per file: an advisory lock file (`<file>.lock`, see src/io/lock.ts) is held from
 * creation to close, so a second writer — in this process or another — is refused with E_LOCKED. */

import * as fs from "node:fs";
import { GradtraceError } from "../core/index.ts";
import {
  acquireWriteLock,
  crc32,
  fileSize,
  ioError,
  refuseExisting,
  type WriteLock,
  writeFileAtomic,
} from "../io/index.ts";
import { dtypeSize, encodeLittleEndian, isDType, shapeNumel } from "./dtype.ts";
import {
  DTYPE_CODES,
  ENTRY_BYTES,
  ENTRY_KINDS,
  FILE_HEADER_BYTES,
  FLAG_LOSS,
  FLAG_LR,
  GTRACE_MAGIC,
  GTRACE_VERSION,
  GTRACE_VERSION_RANGE,
  RECORD_CRC_PREFIX,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
} from "./gtraceFormat.ts";
import { GtraceReader } from "./gtraceReader.ts";
import { parseRangeSketchInfo, parseSketchInfo } from "./sketchInfo.ts";
import type { DType, RangeSketchInfo, SketchInfo, StepExtras, TraceProblem, TraceWriter } from "./types.ts";

export interface GtraceTensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Storage dtype (default F32). */
  readonly dtype?: DType;
}

export interface GtraceWriterOptions {
  readonly tensors: readonly GtraceTensorSpec[];
  /** Run metadata stored in the header (JSON-serialisable). */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** The tensors hold sketches (k values each) of this kind and seeding (header field `sketch`). */
  readonly sketch?: SketchInfo;
  /** Range sketches the records may carry (`extras.range`); makes the file gtrace version 2. */
  readonly rangeSketch?: RangeSketchInfo;
  /** Replace an existing file instead of failing with E_EXISTS. */
  readonly force?: boolean;
  /**
   * "record" (default): fsync after every record — a crash (even of the OS) loses at most the record being
   * written. "close": fsync only on close — a killed process still loses at most one record, an OS crash may lose
   * unsynced records. "none": never fsync.
   */
  readonly fsync?: "record" | "close" | "none";
  /**
   * Continue an existing file instead of creating one (a new file is created when there is none): its header must
   * declare the same tensors (names, shapes, dtypes, in order); a truncated last record — what a killed writer
   * leaves — is cut off and reported in `resumed.problems`; steps must then continue above the last one in the file.
   * A file whose tail is not a clean cut (a complete record failing its checksum) is refused (E_CHECKSUM).
   */
  readonly resume?: boolean;
}

/** What `resume` found in the existing file. */
export interface GtraceResumeInfo {
  /** Complete records kept. */
  readonly steps: number;
  readonly lastStep: number | null;
  /** The partial record cut off (kind "truncated-record"), if any, and damage found earlier in the file. */
  readonly problems: readonly TraceProblem[];
  /** Bytes removed from the end of the file. */
  readonly truncatedBytes: number;
}

export interface GtraceWriter extends TraceWriter {
  /** Set when the writer resumed an existing file. */
  readonly resumed: GtraceResumeInfo | null;
}

export function createGtraceWriter(
  file: string,
  {
    tensors,
    meta,
    sketch,
    rangeSketch,
    force = false,
    fsync = "record",
    resume = false,
  }: GtraceWriterOptions,
): GtraceWriter {
  if (resume && force)
    throw new GradtraceError("E_ARG", "createGtraceWriter: resume and force exclude each other");
  const specs = tensors.map((t, i) => {
    const where = `createGtraceWriter: tensors[${i}]`;
    if (typeof t.name !== "string" || t.name.length === 0)
      throw new GradtraceError("E_ARG", `${where}.name must be a non-empty string`);
    const dtype = t.dtype ?? "F32";
    if (!isDType(dtype)) throw new GradtraceError("E_ARG", `${where}.dtype must be F64, F32, F16 or BF16`);
    let numel: number;
    try {
      numel = shapeNumel(t.shape, `${where}.shape`);
    } catch (err) {
      throw new GradtraceError("E_ARG", (err as Error).message);
    }
    return { name: t.name, shape: [...t.shape], dtype, numel };
  });
  const index = new Map<string, number>();
  specs.forEach((s, i) => {
    if (index.has(s.name))
      throw new GradtraceError("E_ARG", `createGtraceWriter: tensor ${s.name} declared twice`);
    index.set(s.name, i);
  });
  const infos = specs.map(({ name, shape, dtype, numel }) => ({ name, shape, dtype, numel }));
  // Parsed (checked and normalised as a reader would see them) for comparison with a resumed file's header.
  const sketchInfo = sketch ? parseSketchInfo(sketch, infos, "createGtraceWriter") : undefined;
  const rangeInfo = rangeSketch
    ? parseRangeSketchInfo(rangeSketch, infos, sketch, "createGtraceWriter")
    : undefined;
  const rangeSize = new Map((rangeSketch?.tensors ?? []).map((t) => [t.name, t.rows * rangeSketch!.s]));
  const lock = acquireWriteLock(file, "createGtraceWriter");
  let fd: number | null = null;
  let end: number;
  let lastStep = -1;
  let resumed: GtraceResumeInfo | null = null;
  try {
    if (resume && fs.existsSync(file)) {
      const found = resumeAt(file, specs, { sketch: sketchInfo, rangeSketch: rangeInfo });
      resumed = found.info;
      end = found.offset;
      lastStep = found.info.lastStep ?? -1;
      fd = openForAppend(file);
      if (found.info.truncatedBytes > 0) {
        try {
          fs.ftruncateSync(fd, end);
          fs.fsyncSync(fd);
        } catch (err) {
          throw ioError(err, file, "cutting off the partial last record");
        }
      }
    } else {
      refuseExisting(file, force, "createGtraceWriter");
      end = writeHeader(file, specs, { meta, sketch, rangeSketch }, force);
      fd = openForAppend(file);
    }
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    lock.release();
    throw err;
  }

  const append = (
    step: number,
    values: Readonly<Record<string, Float32Array | Float64Array>>,
    extras: StepExtras = {},
  ): void => {
    if (fd === null) throw new GradtraceError("E_ARG", `append: writer for ${file} is closed`);
    const where = `append(${file}, step ${step})`;
    if (!Number.isSafeInteger(step) || step < 0)
      throw new GradtraceError("E_ARG", `${where}: step must be a non-negative integer`);
    if (step <= lastStep)
      throw new GradtraceError("E_ARG", `${where}: steps must increase (previous ${lastStep})`);
    for (const name of Object.keys(values)) {
      if (!index.has(name)) throw new GradtraceError("E_ARG", `${where}: tensor ${name} was not declared`);
    }
    const entries: { index: number; kind: number; bytes: Uint8Array }[] = [];
    const add = (name: string, data: Float32Array | Float64Array, kind: number, what: string): void => {
      const i = index.get(name);
      if (i === undefined) throw new GradtraceError("E_ARG", `${where}: ${what} ${name} was not declared`);
      const spec = specs[i];
      const isRange = kind === ENTRY_KINDS.range;
      const numel = isRange ? rangeSize.get(name) : spec.numel;
      if (numel === undefined)
        throw new GradtraceError("E_ARG", `${where}: ${name} has no range sketch declared in rangeSketch`);
      if (data.length !== numel) {
        throw new GradtraceError(
          "E_SHAPE",
          `${where}: ${what} ${name} has ${data.length} values, ${isRange ? "rows × s" : `shape [${spec.shape.join(", ")}]`} needs ${numel}`,
        );
      }
      entries.push({ index: i, kind, bytes: encodeLittleEndian(data, isRange ? "F32" : spec.dtype) });
    };
    for (const spec of specs) {
      const data = values[spec.name];
      if (data === undefined) throw new GradtraceError("E_ARG", `${where}: tensor ${spec.name} missing`);
      add(spec.name, data, ENTRY_KINDS.gradient, "tensor");
    }
    for (const [name, data] of Object.entries(extras.momentum ?? {}))
      add(name, data, ENTRY_KINDS.momentum, "momentum of");
    for (const [name, data] of Object.entries(extras.range ?? {}))
      add(name, data, ENTRY_KINDS.range, "range sketch of");
    const payload = entries.reduce((s, e) => s + e.bytes.byteLength, 0);
    const tableBytes = entries.length * ENTRY_BYTES;
    const record = new Uint8Array(RECORD_HEADER_BYTES + tableBytes + payload);
    const dv = new DataView(record.buffer);
    dv.setUint32(0, RECORD_MAGIC, true);
    dv.setUint32(4, entries.length, true);
    dv.setBigUint64(8, BigInt(payload), true);
    dv.setFloat64(16, step, true);
    dv.setFloat64(24, extras.loss ?? 0, true);
    dv.setFloat64(32, extras.lr ?? 0, true);
    dv.setUint32(
      40,
      (extras.loss !== undefined ? FLAG_LOSS : 0) | (extras.lr !== undefined ? FLAG_LR : 0),
      true,
    );
    let at = RECORD_HEADER_BYTES + tableBytes;
    entries.forEach((e, k) => {
      const p = RECORD_HEADER_BYTES + k * ENTRY_BYTES;
      dv.setUint32(p, e.index, true);
      record[p + 4] = DTYPE_CODES[e.kind === ENTRY_KINDS.range ? "F32" : specs[e.index].dtype];
      record[p + 5] = e.kind;
      dv.setUint32(p + 8, crc32(e.bytes), true);
      record.set(e.bytes, at);
      at += e.bytes.byteLength;
    });
    const crc = crc32(
      record.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + tableBytes),
      crc32(record.subarray(0, RECORD_CRC_PREFIX)),
    );
    dv.setUint32(RECORD_CRC_PREFIX, crc, true);
    try {
      let done = 0;
      while (done < record.byteLength)
        done += fs.writeSync(fd, record, done, record.byteLength - done, end + done);
      if (fsync === "record") fs.fsyncSync(fd);
    } catch (err) {
      // Leave no partial record behind when the failure is ours to clean (e.g. ENOSPC).
      try {
        fs.ftruncateSync(fd, end);
      } catch {
        // the reader will report the partial record as truncated
      }
      throw ioError(err, file, `appending step ${step}`);
    }
    end += record.byteLength;
    lastStep = step;
  };

  return {
    append,
    resumed,
    close(): void {
      if (fd === null) return;
      const closing = fd;
      fd = null;
      try {
        if (fsync !== "none") fs.fsyncSync(closing);
      } catch (err) {
        throw ioError(err, file, "syncing on close");
      } finally {
        fs.closeSync(closing);
        releaseLock(lock);
      }
    },
  };
}

function releaseLock(lock: WriteLock): void {
  try {
    lock.release();
  } catch {
    // a lock we cannot remove is stale once this process exits; the next writer breaks it
  }
}

function openForAppend(file: string): number {
  try {
    return fs.openSync(file, "r+");
  } catch (err) {
    throw ioError(err, file, "open for append");
  }
}

type Spec = { name: string; shape: number[]; dtype: DType; numel: number };

/** Writes the file header atomically; returns its length (where the first record goes). */
function writeHeader(
  file: string,
  specs: readonly Spec[],
  { meta, sketch, rangeSketch }: Pick<GtraceWriterOptions, "meta" | "sketch" | "rangeSketch">,
  force: boolean,
): number {
  const json = new TextEncoder().encode(
    JSON.stringify({
      tensors: specs.map(({ name, shape, dtype }) => ({ name, shape, dtype })),
      ...(sketch ? { sketch } : {}),
      ...(rangeSketch ? { rangeSketch } : {}),
      ...(meta ? { meta } : {}),
    }),
  );
  const head = new Uint8Array(FILE_HEADER_BYTES);
  head.set(new TextEncoder().encode(GTRACE_MAGIC), 0);
  const hdv = new DataView(head.buffer);
  hdv.setUint16(6, rangeSketch ? GTRACE_VERSION_RANGE : GTRACE_VERSION, true);
  hdv.setUint32(8, json.byteLength, true);
  hdv.setUint32(12, crc32(json), true);
  writeFileAtomic(file, [head, json], { force, what: "createGtraceWriter" });
  return FILE_HEADER_BYTES + json.byteLength;
}

/** Checks an existing file against the declared tensors and finds where appending continues. */
function resumeAt(
  file: string,
  specs: readonly Spec[],
  declaredSketches: Pick<GtraceWriterOptions, "sketch" | "rangeSketch">,
): { offset: number; info: GtraceResumeInfo } {
  const reader = new GtraceReader(file);
  try {
    const declared = reader.info.tensors;
    const same =
      declared.length === specs.length &&
      declared.every(
        (t, i) =>
          t.name === specs[i].name &&
          t.dtype === specs[i].dtype &&
          t.shape.length === specs[i].shape.length &&
          t.shape.every((d, k) => d === specs[i].shape[k]),
      );
    if (!same) {
      const show = (ts: readonly { name: string; shape: readonly number[]; dtype: string }[]) =>
        ts.map((t) => `${t.name} [${t.shape.join(", ")}] ${t.dtype}`).join(", ");
      throw new GradtraceError(
        "E_SHAPE",
        `createGtraceWriter (resume): ${file} declares tensors ${show(declared)}; the writer was given ${show(specs)}`,
      );
    }
    // A sketched run resumes with the same sketch (kind, k, seeding): appended steps must sketch like the old ones.
    for (const key of ["sketch", "rangeSketch"] as const) {
      const had = JSON.stringify(reader.info[key] ?? null);
      const given = JSON.stringify(declaredSketches[key] ?? null);
      if (had !== given) {
        throw new GradtraceError(
          "E_SHAPE",
          `createGtraceWriter (resume): ${file} declares ${key} ${had}; the writer was given ${given}`,
        );
      }
    }
    const point = reader.appendPoint();
    const bad = point.tail.find((p) => p.kind !== "truncated-record");
    if (bad) {
      throw new GradtraceError(
        "E_CHECKSUM",
        `createGtraceWriter (resume): ${file} does not end in a clean cut (${bad.message}); refusing to append ` +
          "after damaged data (convert the trace to a new file to keep what verifies)",
      );
    }
    const problems = reader.info.problems.filter((p) => p.kind !== "missing-step");
    return {
      offset: point.offset,
      info: {
        steps: reader.info.steps.length,
        lastStep: point.lastStep,
        problems,
        truncatedBytes: fileSize(file) - point.offset,
      },
    };
  } finally {
    reader.close();
  }
}

/** Bytes one record of these tensors takes (for progress estimates and tests). */
export function gtraceRecordBytes(tensors: readonly GtraceTensorSpec[]): number {
  let n = RECORD_HEADER_BYTES + tensors.length * ENTRY_BYTES;
  for (const t of tensors) n += shapeNumel(t.shape, "gtraceRecordBytes") * dtypeSize(t.dtype ?? "F32");
  return n;
}
