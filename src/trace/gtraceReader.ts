/** @file Reader of `.gtrace` files: one scan over record headers and entry tables builds an offset index without
 * touching payloads. Policy (docs/trace-format.md): a truncated or checksum-failing *last* record is what a run
 * killed mid-write leaves behind, so it is reported in `info.problems` and skipped; a bad record followed by more
 * records is an error naming file, record and step (resynchronising inside a corrupt file could silently misalign
 * steps, so we refuse). refresh() resumes the scan where it stopped, for live mode. */

import * as zlib from "node:zlib";
import { GradtraceError } from "../core/index.ts";
import { FdPool, fileSize, readRegion } from "../io/index.ts";
import { decodeInto, dtypeSize, isDType, NATIVE_LITTLE_ENDIAN, shapeNumel } from "./dtype.ts";
import {
  DTYPE_BY_CODE,
  ENTRY_BYTES,
  ENTRY_KINDS,
  FILE_HEADER_BYTES,
  FLAG_LOSS,
  FLAG_LR,
  GTRACE_MAGIC,
  GTRACE_VERSION,
  MAX_HEADER_JSON,
  RECORD_CRC_PREFIX,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
  type StateKind,
} from "./gtraceFormat.ts";
import { checkSliceArgs } from "./located.ts";
import { findMissingSteps } from "./steps.ts";
import type { DType, TensorInfo, TraceInfo, TraceProblem, TraceReader } from "./types.ts";

interface EntryLoc {
  readonly offset: number;
  readonly dtype: DType;
  readonly crc32: number;
}

interface RecordIndex {
  readonly step: number;
  readonly loss: number | null;
  readonly lr: number | null;
  /** Keyed by `${tensorIndex}:${kind}`. */
  readonly entries: Map<string, EntryLoc>;
  readonly payloadBytes: number;
}

export interface GtraceHeader {
  readonly tensors: TensorInfo[];
  readonly meta: Record<string, unknown>;
  /** Byte offset of the first record. */
  readonly recordsStart: number;
}

export function readGtraceHeader(file: string): GtraceHeader {
  const size = fileSize(file);
  if (size < FILE_HEADER_BYTES)
    throw new GradtraceError("E_TRUNCATED", `${file}: ${size} bytes, too short for a gtrace header`);
  const head = readRegion(file, 0, FILE_HEADER_BYTES);
  if (new TextDecoder().decode(head.subarray(0, 6)) !== GTRACE_MAGIC) {
    throw new GradtraceError("E_FORMAT", `${file}: not a gtrace file (magic must be "GTRACE")`);
  }
  const dv = new DataView(head.buffer);
  const version = dv.getUint16(6, true);
  if (version !== GTRACE_VERSION) {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${file}: gtrace version ${version} (this reader handles ${GTRACE_VERSION})`,
    );
  }
  const jsonLen = dv.getUint32(8, true);
  if (jsonLen > MAX_HEADER_JSON || FILE_HEADER_BYTES + jsonLen > size) {
    throw new GradtraceError(
      "E_TRUNCATED",
      `${file}: header JSON of ${jsonLen} bytes does not fit in the ${size}-byte file`,
    );
  }
  const jsonBytes = readRegion(file, FILE_HEADER_BYTES, jsonLen);
  if (zlib.crc32(jsonBytes) >>> 0 !== dv.getUint32(12, true)) {
    throw new GradtraceError("E_CHECKSUM", `${file}: header JSON fails its CRC-32 check`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (err) {
    throw new GradtraceError("E_FORMAT", `${file}: header is not valid JSON (${(err as Error).message})`);
  }
  const obj = json as { tensors?: unknown; meta?: unknown };
  if (typeof json !== "object" || json === null || !Array.isArray(obj.tensors)) {
    throw new GradtraceError("E_FORMAT", `${file}: header field tensors must be an array`);
  }
  const seen = new Set<string>();
  const tensors = obj.tensors.map((t: unknown, i: number): TensorInfo => {
    const where = `${file}: header tensors[${i}]`;
    const { name, shape, dtype } = (t ?? {}) as { name?: unknown; shape?: unknown; dtype?: unknown };
    if (typeof name !== "string" || name.length === 0)
      throw new GradtraceError("E_FORMAT", `${where}.name must be a non-empty string`);
    if (seen.has(name)) throw new GradtraceError("E_FORMAT", `${where}: tensor name ${name} appears twice`);
    seen.add(name);
    if (!isDType(dtype)) throw new GradtraceError("E_FORMAT", `${where}.dtype must be F64, F32, F16 or BF16`);
    const numel = shapeNumel(shape, `${where}.shape`);
    return { name, shape: [...(shape as number[])], dtype, numel };
  });
  const meta = typeof obj.meta === "object" && obj.meta !== null ? (obj.meta as Record<string, unknown>) : {};
  return { tensors, meta, recordsStart: FILE_HEADER_BYTES + jsonLen };
}

export interface GtraceOpenOptions {
  /** "last" (default): verify payload checksums of the last record at open; "all": of every record. */
  readonly verify?: "last" | "all";
}

export class GtraceReader implements TraceReader {
  private readonly header: GtraceHeader;
  private readonly byName: Map<string, { index: number; info: TensorInfo }>;
  private readonly records: RecordIndex[] = [];
  private readonly pool = new FdPool(1);
  private readonly verify: "last" | "all";
  /** Offset just past the last good record: refresh() resumes here. */
  private scanEnd: number;
  private tailProblems: TraceProblem[] = [];
  private current: TraceInfo;
  private closed = false;
  /** Reused read buffer (grows to the largest read, at most one tensor). */
  private scratch = new Uint8Array(0);

  constructor(
    private readonly file: string,
    { verify = "last" }: GtraceOpenOptions = {},
  ) {
    this.verify = verify;
    this.header = readGtraceHeader(file);
    this.byName = new Map(this.header.tensors.map((info, index) => [info.name, { index, info }]));
    this.scanEnd = this.header.recordsStart;
    this.scan();
    this.current = this.buildInfo();
  }

  get info(): TraceInfo {
    return this.current;
  }

  /** Run metadata given to the writer. */
  get meta(): Readonly<Record<string, unknown>> {
    return this.header.meta;
  }

  refresh(): number {
    this.checkOpen("refresh");
    const before = this.records.length;
    this.pool.drop(this.file);
    this.scan();
    this.current = this.buildInfo();
    return this.records.length - before;
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
    const t = this.byName.get(name);
    checkSliceArgs("readSlice", this.current, stepPos, t?.info, name, offset, count, out, outOffset);
    const loc = this.records[stepPos].entries.get(`${t!.index}:${ENTRY_KINDS.gradient}`)!;
    this.readRange(loc, offset, count, out, outOffset, null);
  }

  readTensor(stepPos: number, name: string): Float32Array {
    this.checkOpen("readTensor");
    const t = this.byName.get(name);
    const info = checkSliceArgs("readTensor", this.current, stepPos, t?.info, name, 0, 0, null, 0);
    const loc = this.records[stepPos].entries.get(`${t!.index}:${ENTRY_KINDS.gradient}`)!;
    const out = new Float32Array(info.numel);
    this.readRange(loc, 0, info.numel, out, 0, `step ${this.records[stepPos].step}, tensor ${name}`);
    return out;
  }

  /** Optimizer state stored with a step (e.g. the momentum buffer of `name`), or null when not logged. */
  readState(stepPos: number, name: string, kind: StateKind): Float32Array | null {
    this.checkOpen("readState");
    const t = this.byName.get(name);
    const info = checkSliceArgs("readState", this.current, stepPos, t?.info, name, 0, 0, null, 0);
    const code = ENTRY_KINDS[kind];
    if (code === undefined)
      throw new GradtraceError("E_ARG", `readState: unknown state kind ${JSON.stringify(kind)}`);
    const loc = this.records[stepPos].entries.get(`${t!.index}:${code}`);
    if (!loc) return null;
    const out = new Float32Array(info.numel);
    this.readRange(loc, 0, info.numel, out, 0, `step ${this.records[stepPos].step}, ${kind} of ${name}`);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.closeAll();
  }

  private checkOpen(fn: string): void {
    if (this.closed) throw new GradtraceError("E_ARG", `${fn}: trace ${this.file} is closed`);
  }

  /** Reads elements; when `verifyAs` is given the read covers the whole payload and its checksum is verified. */
  private readRange(
    loc: EntryLoc,
    offset: number,
    count: number,
    out: Float64Array | Float32Array,
    outOffset: number,
    verifyAs: string | null,
  ): void {
    const size = dtypeSize(loc.dtype);
    const byteLength = count * size;
    // float32 out of float32 data on a little-endian machine: read straight into the caller's array, no copy.
    const direct = out instanceof Float32Array && loc.dtype === "F32" && NATIVE_LITTLE_ENDIAN;
    let bytes: Uint8Array;
    if (direct) {
      bytes = new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, byteLength);
    } else {
      if (this.scratch.byteLength < byteLength)
        this.scratch = new Uint8Array(Math.max(byteLength, 2 * this.scratch.byteLength));
      bytes = this.scratch.subarray(0, byteLength);
    }
    this.pool.read(this.file, bytes, 0, byteLength, loc.offset + offset * size);
    if (verifyAs !== null && zlib.crc32(bytes) >>> 0 !== loc.crc32) {
      throw new GradtraceError("E_CHECKSUM", `${this.file}: ${verifyAs}: payload fails its CRC-32 check`);
    }
    if (!direct) decodeInto(bytes, loc.dtype, true, count, out, outOffset);
  }

  private buildInfo(): TraceInfo {
    const steps = this.records.map((r) => r.step);
    return {
      path: this.file,
      format: "gtrace",
      steps,
      tensors: this.header.tensors,
      loss: this.records.map((r) => r.loss),
      lr: this.records.map((r) => r.lr),
      problems: [...findMissingSteps(steps, this.file), ...this.tailProblems],
      payloadBytes: this.records.reduce((s, r) => s + r.payloadBytes, 0),
    };
  }

  /** Scans records from `scanEnd` to the end of the file, extending the index. */
  private scan(): void {
    const size = fileSize(this.file);
    this.tailProblems = [];
    const nTensors = this.header.tensors.length;
    let pos = this.scanEnd;
    while (pos < size) {
      const recordNo = this.records.length;
      const where = `${this.file}: record ${recordNo} at offset ${pos}`;
      const tail = (kind: TraceProblem["kind"], message: string, step?: number): void => {
        this.tailProblems.push({
          kind,
          file: this.file,
          message: `${where}: ${message}`,
          ...(step !== undefined ? { step } : {}),
        });
      };
      if (pos + RECORD_HEADER_BYTES > size) {
        tail(
          "truncated-record",
          `file ends inside the record header (${size - pos} of ${RECORD_HEADER_BYTES} bytes); skipped`,
        );
        break;
      }
      const head = new Uint8Array(RECORD_HEADER_BYTES);
      this.pool.read(this.file, head, 0, RECORD_HEADER_BYTES, pos);
      const dv = new DataView(head.buffer);
      const magicOk = dv.getUint32(0, true) === RECORD_MAGIC;
      const nEntries = dv.getUint32(4, true);
      const payload = Number(dv.getBigUint64(8, true));
      const step = dv.getFloat64(16, true);
      const tableBytes = nEntries * ENTRY_BYTES;
      const plausible = magicOk && nEntries <= 2 * nTensors && Number.isSafeInteger(payload);
      if (!plausible) {
        // After an OS crash some file systems leave the last record's blocks allocated but zero-filled.
        if (this.zeroFrom(pos, size)) {
          tail(
            "truncated-record",
            `${size - pos} zero bytes where a record should start (crash while writing?); skipped`,
          );
          break;
        }
        throw new GradtraceError(
          "E_FORMAT",
          `${where}: not a valid record header (bad magic or lengths); file is corrupt`,
        );
      }
      const total = RECORD_HEADER_BYTES + tableBytes + payload;
      if (pos + total > size) {
        tail(
          "truncated-record",
          `step ${step}: record needs ${total} bytes, file ends after ${size - pos} (run killed mid-write?); skipped`,
          Number.isSafeInteger(step) ? step : undefined,
        );
        break;
      }
      const isLast = pos + total === size;
      const table = new Uint8Array(tableBytes);
      this.pool.read(this.file, table, 0, tableBytes, pos + RECORD_HEADER_BYTES);
      const crc = zlib.crc32(table, zlib.crc32(head.subarray(0, RECORD_CRC_PREFIX))) >>> 0;
      if (crc !== dv.getUint32(RECORD_CRC_PREFIX, true)) {
        if (isLast) {
          tail("corrupt-record", `step field ${step}: record checksum mismatch in the last record; skipped`);
          break;
        }
        throw new GradtraceError(
          "E_CHECKSUM",
          `${where} (step field ${step}): record checksum mismatch; file is corrupt`,
        );
      }
      const record = this.indexRecord(
        where,
        step,
        dv,
        table,
        nEntries,
        payload,
        pos + RECORD_HEADER_BYTES + tableBytes,
      );
      if (this.verify === "all" || isLast) {
        const bad = this.badPayload(record);
        if (bad !== null) {
          if (isLast) {
            tail(
              "corrupt-record",
              `step ${step}: ${bad} fails its checksum in the last record; skipped`,
              step,
            );
            break;
          }
          throw new GradtraceError(
            "E_CHECKSUM",
            `${where} (step ${step}): ${bad} fails its checksum; file is corrupt`,
          );
        }
      }
      this.records.push(record);
      pos += total;
      this.scanEnd = pos;
    }
  }

  private indexRecord(
    where: string,
    step: number,
    dv: DataView,
    table: Uint8Array,
    nEntries: number,
    payload: number,
    payloadStart: number,
  ): RecordIndex {
    if (!Number.isSafeInteger(step) || step < 0)
      throw new GradtraceError("E_FORMAT", `${where}: step ${step} is not a non-negative integer`);
    const prev = this.records.at(-1);
    if (prev && step <= prev.step) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: step ${step} does not follow step ${prev.step} (steps must increase)`,
      );
    }
    const flags = dv.getUint32(40, true);
    const tdv = new DataView(table.buffer);
    const entries = new Map<string, EntryLoc>();
    let offset = payloadStart;
    for (let i = 0; i < nEntries; i++) {
      const index = tdv.getUint32(i * ENTRY_BYTES, true);
      const dtype = DTYPE_BY_CODE[table[i * ENTRY_BYTES + 4]];
      const kind = table[i * ENTRY_BYTES + 5];
      const info = this.header.tensors[index];
      if (!info || !dtype || (kind !== ENTRY_KINDS.gradient && kind !== ENTRY_KINDS.momentum)) {
        throw new GradtraceError(
          "E_FORMAT",
          `${where} (step ${step}): entry ${i} has tensor index ${index}, dtype code ${table[i * ENTRY_BYTES + 4]}, kind ${kind}`,
        );
      }
      const key = `${index}:${kind}`;
      if (entries.has(key))
        throw new GradtraceError("E_FORMAT", `${where} (step ${step}): tensor ${info.name} appears twice`);
      entries.set(key, { offset, dtype, crc32: tdv.getUint32(i * ENTRY_BYTES + 8, true) });
      offset += info.numel * dtypeSize(dtype);
    }
    if (offset - payloadStart !== payload) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where} (step ${step}): payload length ${payload} ≠ ${offset - payloadStart} implied by its entries`,
      );
    }
    const missing = this.header.tensors
      .filter((_, i) => !entries.has(`${i}:${ENTRY_KINDS.gradient}`))
      .map((t) => t.name);
    if (missing.length > 0) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where} (step ${step}): tensor(s) ${missing.join(", ")} missing`,
      );
    }
    return {
      step,
      loss: flags & FLAG_LOSS ? dv.getFloat64(24, true) : null,
      lr: flags & FLAG_LR ? dv.getFloat64(32, true) : null,
      entries,
      payloadBytes: payload,
    };
  }

  /** True when every byte from `pos` to `size` is zero (checked up to 64 MiB; beyond that, assume not). */
  private zeroFrom(pos: number, size: number): boolean {
    if (size - pos > 64 << 20) return false;
    const buf = new Uint8Array(size - pos);
    this.pool.read(this.file, buf, 0, buf.byteLength, pos);
    return buf.every((b) => b === 0);
  }

  /** Name of the first entry whose payload checksum fails, or null. */
  private badPayload(record: RecordIndex): string | null {
    for (const [key, loc] of record.entries) {
      const [index, kind] = key.split(":").map(Number);
      const info = this.header.tensors[index];
      const bytes = new Uint8Array(info.numel * dtypeSize(loc.dtype));
      this.pool.read(this.file, bytes, 0, bytes.byteLength, loc.offset);
      if (zlib.crc32(bytes) >>> 0 !== loc.crc32)
        return kind === 0 ? `tensor ${info.name}` : `momentum of ${info.name}`;
    }
    return null;
  }
}
