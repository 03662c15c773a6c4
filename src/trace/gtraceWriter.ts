/** @file Writer of `.gtrace` files. The header is written atomically (temp + rename); each step is then appended as
 * one record in a single positioned write, followed by fsync under the default policy, so a crash loses at most
 * the record being written (which the reader reports as a truncated last record and skips). */

import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { GradtraceError } from "../core/index.ts";
import { ioError, refuseExisting, writeFileAtomic } from "../io/index.ts";
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
import { parseRangeSketchInfo, parseSketchInfo } from "./sketchInfo.ts";
import type { DType, RangeSketchInfo, SketchInfo, StepExtras, TraceWriter } from "./types.ts";

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
}

export function createGtraceWriter(
  file: string,
  { tensors, meta, sketch, rangeSketch, force = false, fsync = "record" }: GtraceWriterOptions,
): TraceWriter {
  refuseExisting(file, force, "createGtraceWriter");
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
  if (sketch) parseSketchInfo(sketch, infos, "createGtraceWriter");
  if (rangeSketch) parseRangeSketchInfo(rangeSketch, infos, sketch, "createGtraceWriter");
  const rangeSize = new Map((rangeSketch?.tensors ?? []).map((t) => [t.name, t.rows * rangeSketch!.s]));
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
  hdv.setUint32(12, zlib.crc32(json) >>> 0, true);
  writeFileAtomic(file, [head, json], { force, what: "createGtraceWriter" });
  let fd: number | null;
  try {
    fd = fs.openSync(file, "r+");
  } catch (err) {
    throw ioError(err, file, "open for append");
  }
  let end = FILE_HEADER_BYTES + json.byteLength;
  let lastStep = -1;

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
      dv.setUint32(p + 8, zlib.crc32(e.bytes) >>> 0, true);
      record.set(e.bytes, at);
      at += e.bytes.byteLength;
    });
    const crc = zlib.crc32(
      record.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + tableBytes),
      zlib.crc32(record.subarray(0, RECORD_CRC_PREFIX)),
    );
    dv.setUint32(RECORD_CRC_PREFIX, crc >>> 0, true);
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
    close(): void {
      if (fd === null) return;
      if (fsync !== "none") fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
    },
  };
}

/** Bytes one record of these tensors takes (for progress estimates and tests). */
export function gtraceRecordBytes(tensors: readonly GtraceTensorSpec[]): number {
  let n = RECORD_HEADER_BYTES + tensors.length * ENTRY_BYTES;
  for (const t of tensors) n += shapeNumel(t.shape, "gtraceRecordBytes") * dtypeSize(t.dtype ?? "F32");
  return n;
}
