/** @file Reader of `.gtrace` files: one scan over record headers and entry tables builds an offset index without
 * touching payloads (the record checksum covers the header and the entry table, which holds each payload's
 * checksum). Policy (docs/trace-format.md):
 * - every payload is verified before any of its bytes is handed out: whole reads check it each time, the first
 *   partial read of a (step, tensor) checks the whole payload once and the verdict is kept; a failure is a
 *   `CorruptDataError` naming step and tensor, which the analysis turns into an excluded step;
 * - a record that stops at the end of the file (a run killed mid-write) is reported as `truncated-record`, skipped,
 *   and picked up by refresh() once complete; a reader therefore never indexes a record that is not complete;
 * - a record whose header fails its checksum is skipped up to the next record whose header verifies (its step is
 *   then read from that verified header, so steps cannot be misaligned) and reported as `corrupt-record`.
 * refresh() resumes the scan where it stopped, for live mode. */

import { CorruptDataError, GradtraceError } from "../core/index.ts";
import { crc32, crc32OfRegion, FdPool, fileSize, readRegion } from "../io/index.ts";
import { decodeInto, dtypeSize, isDType, NATIVE_LITTLE_ENDIAN, shapeNumel } from "./dtype.ts";
import {
  DTYPE_BY_CODE,
  ENTRY_BYTES,
  ENTRY_KINDS,
  FILE_HEADER_BYTES,
  FLAG_LOSS,
  FLAG_LR,
  GTRACE_MAGIC,
  GTRACE_VERSIONS,
  MAX_HEADER_JSON,
  RECORD_CRC_PREFIX,
  RECORD_HEADER_BYTES,
  RECORD_MAGIC,
  type StateKind,
} from "./gtraceFormat.ts";
import { checkSliceArgs } from "./located.ts";
import { parseRangeSketchInfo, parseSketchInfo } from "./sketchInfo.ts";
import { findMissingSteps } from "./steps.ts";
import type {
  DType,
  RangeSketchInfo,
  SketchInfo,
  TensorInfo,
  TraceInfo,
  TraceProblem,
  TraceReader,
} from "./types.ts";

/** Verification state of a payload. */
const UNCHECKED = 0;
const VERIFIED = 1;
const FAILED = 2;

interface EntryLoc {
  readonly offset: number;
  readonly bytes: number;
  readonly dtype: DType;
  readonly crc32: number;
  /** UNCHECKED, VERIFIED or FAILED (kept so a partial read verifies the payload once). */
  state: number;
}

interface RecordIndex {
  /** Record number in the file (0-based, counting skipped records) and byte offset, for messages. */
  readonly ordinal: number;
  readonly offset: number;
  readonly step: number;
  readonly loss: number | null;
  readonly lr: number | null;
  /** Keyed by `${tensorIndex}:${kind}`. */
  readonly entries: Map<string, EntryLoc>;
  readonly payloadBytes: number;
}

export interface GtraceHeader {
  readonly version: number;
  readonly tensors: TensorInfo[];
  readonly meta: Record<string, unknown>;
  /** The run logged sketches of every tensor (header field `sketch`). */
  readonly sketch?: SketchInfo;
  /** Range sketches of matrix-shaped tensors (header field `rangeSketch`, version 2). */
  readonly rangeSketch?: RangeSketchInfo;
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
  if (!GTRACE_VERSIONS.includes(version)) {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${file}: gtrace version ${version} (this reader handles ${GTRACE_VERSIONS.join(" and ")})`,
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
  if (crc32(jsonBytes) !== dv.getUint32(12, true)) {
    throw new GradtraceError("E_CHECKSUM", `${file}: header JSON fails its CRC-32 check`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonBytes));
  } catch (err) {
    throw new GradtraceError("E_FORMAT", `${file}: header is not valid JSON (${(err as Error).message})`);
  }
  const obj = json as { tensors?: unknown; meta?: unknown; sketch?: unknown; rangeSketch?: unknown };
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
  const where = `${file}: header`;
  const sketch = obj.sketch !== undefined ? parseSketchInfo(obj.sketch, tensors, where) : undefined;
  if (obj.rangeSketch !== undefined && version < 2) {
    throw new GradtraceError(
      "E_FORMAT",
      `${where}: field rangeSketch needs gtrace version 2, the file says ${version}`,
    );
  }
  const rangeSketch =
    obj.rangeSketch !== undefined ? parseRangeSketchInfo(obj.rangeSketch, tensors, sketch, where) : undefined;
  return {
    version,
    tensors,
    meta,
    ...(sketch ? { sketch } : {}),
    ...(rangeSketch ? { rangeSketch } : {}),
    recordsStart: FILE_HEADER_BYTES + jsonLen,
  };
}

export interface GtraceOpenOptions {
  /** "last" (default): verify payload checksums of the last record at open, every other payload on its first read;
   * "all": verify every payload at open (records that fail are skipped and reported). */
  readonly verify?: "last" | "all";
}

/** Where appending may continue: the end of the last complete, verified record (see `GtraceReader.appendPoint`). */
export interface GtraceAppendPoint {
  readonly offset: number;
  readonly lastStep: number | null;
  /** Problems of the file's tail (a truncated or corrupt last record), which lie beyond `offset`. */
  readonly tail: readonly TraceProblem[];
}

type RecordRead =
  | { readonly kind: "ok"; readonly record: RecordIndex; readonly total: number }
  | { readonly kind: "short"; readonly message: string; readonly step?: number }
  | { readonly kind: "bad"; readonly message: string };

/** Bytes searched per read while looking for the next record after a damaged one. */
const RESYNC_CHUNK = 1 << 20;
const RECORD_MAGIC_BYTES = new Uint8Array([0x47, 0x52, 0x45, 0x43]); // "GREC"

export class GtraceReader implements TraceReader {
  private readonly header: GtraceHeader;
  private readonly byName: Map<string, { index: number; info: TensorInfo }>;
  /** Values per range-sketch entry (rows × s), by tensor index. */
  private readonly rangeSize = new Map<number, number>();
  private readonly records: RecordIndex[] = [];
  private readonly pool = new FdPool(1);
  private readonly verify: "last" | "all";
  /** Offset just past the last good record: refresh() resumes here. */
  private scanEnd: number;
  /** Records met so far, skipped ones included (for "record N" in messages). */
  private ordinal = 0;
  /** Damaged records skipped in the middle of the file (kept across refreshes). */
  private readonly skipped: TraceProblem[] = [];
  /** Problems of the file's end (recomputed by every scan: a record still being written may complete). */
  private tailProblems: TraceProblem[] = [];
  private current: TraceInfo;
  private closed = false;
  /** Reused read buffer (grows to the largest read, at most one tensor). */
  private scratch: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly file: string,
    { verify = "last" }: GtraceOpenOptions = {},
  ) {
    this.verify = verify;
    this.header = readGtraceHeader(file);
    this.byName = new Map(this.header.tensors.map((info, index) => [info.name, { index, info }]));
    const rs = this.header.rangeSketch;
    for (const t of rs?.tensors ?? []) this.rangeSize.set(this.byName.get(t.name)!.index, t.rows * rs!.s);
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

  /** Where a resumed writer continues: just past the last complete, verified record. */
  appendPoint(): GtraceAppendPoint {
    return {
      offset: this.scanEnd,
      lastStep: this.records.at(-1)?.step ?? null,
      tail: [...this.tailProblems],
    };
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
    const record = this.records[stepPos];
    const loc = record.entries.get(`${t!.index}:${ENTRY_KINDS.gradient}`)!;
    if (loc.state !== VERIFIED) this.verifyEntry(record, loc, name, "tensor");
    this.readRange(loc, offset, count, out, outOffset);
  }

  readTensor(stepPos: number, name: string): Float32Array {
    this.checkOpen("readTensor");
    const t = this.byName.get(name);
    const info = checkSliceArgs("readTensor", this.current, stepPos, t?.info, name, 0, 0, null, 0);
    const record = this.records[stepPos];
    const loc = record.entries.get(`${t!.index}:${ENTRY_KINDS.gradient}`)!;
    return this.readWhole(record, loc, info.name, info.numel, "tensor");
  }

  /** Optimizer state stored with a step (e.g. the momentum buffer of `name`), or null when not logged. */
  readState(stepPos: number, name: string, kind: StateKind): Float32Array | null {
    this.checkOpen("readState");
    const t = this.byName.get(name);
    const info = checkSliceArgs("readState", this.current, stepPos, t?.info, name, 0, 0, null, 0);
    const code = ENTRY_KINDS[kind];
    if (code === undefined)
      throw new GradtraceError("E_ARG", `readState: unknown state kind ${JSON.stringify(kind)}`);
    const record = this.records[stepPos];
    const loc = record.entries.get(`${t!.index}:${code}`);
    if (!loc) return null;
    return this.readWhole(record, loc, info.name, info.numel, `${kind} buffer`);
  }

  readRangeSketch(stepPos: number, name: string): Float32Array | null {
    this.checkOpen("readRangeSketch");
    const t = this.byName.get(name);
    checkSliceArgs("readRangeSketch", this.current, stepPos, t?.info, name, 0, 0, null, 0);
    const count = this.rangeSize.get(t!.index);
    const record = this.records[stepPos];
    const loc = record.entries.get(`${t!.index}:${ENTRY_KINDS.range}`);
    if (count === undefined || !loc) return null;
    return this.readWhole(record, loc, name, count, "range sketch");
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.closeAll();
  }

  private checkOpen(fn: string): void {
    if (this.closed) throw new GradtraceError("E_ARG", `${fn}: trace ${this.file} is closed`);
  }

  private corrupt(record: RecordIndex, name: string, what: string): CorruptDataError {
    return new CorruptDataError(
      { step: record.step, tensor: name, file: this.file },
      `${this.file}: step ${record.step}, ${what === "tensor" ? `tensor ${name}` : `${what} of ${name}`}: ` +
        `payload fails its CRC-32 check (record ${record.ordinal} at offset ${record.offset}); the data is corrupt`,
    );
  }

  /** Checks a payload's CRC over the file (in bounded pieces) unless already verified; throws if it fails. */
  private verifyEntry(record: RecordIndex, loc: EntryLoc, name: string, what: string): void {
    if (loc.state === UNCHECKED) {
      const { crc, scratch } = crc32OfRegion(this.pool, this.file, loc.offset, loc.bytes, this.scratch);
      this.scratch = scratch;
      loc.state = crc === loc.crc32 ? VERIFIED : FAILED;
    }
    if (loc.state === FAILED) throw this.corrupt(record, name, what);
  }

  /** A whole payload as float32, its checksum verified on the bytes read (every time: they are in hand anyway). */
  private readWhole(
    record: RecordIndex,
    loc: EntryLoc,
    name: string,
    count: number,
    what: string,
  ): Float32Array {
    if (loc.state === FAILED) throw this.corrupt(record, name, what);
    const out = new Float32Array(count);
    // float32 data on a little-endian machine: read straight into the returned array, no copy.
    const direct = loc.dtype === "F32" && NATIVE_LITTLE_ENDIAN;
    let bytes: Uint8Array;
    if (direct) bytes = new Uint8Array(out.buffer, 0, loc.bytes);
    else {
      if (this.scratch.byteLength < loc.bytes)
        this.scratch = new Uint8Array(Math.max(loc.bytes, 2 * this.scratch.byteLength));
      bytes = this.scratch.subarray(0, loc.bytes);
    }
    this.pool.read(this.file, bytes, 0, loc.bytes, loc.offset);
    loc.state = crc32(bytes) === loc.crc32 ? VERIFIED : FAILED;
    if (loc.state === FAILED) throw this.corrupt(record, name, what);
    if (!direct) decodeInto(bytes, loc.dtype, true, count, out, 0);
    return out;
  }

  /** Reads elements [offset, offset + count) of a verified payload, widened to float64. */
  private readRange(
    loc: EntryLoc,
    offset: number,
    count: number,
    out: Float64Array | Float32Array,
    outOffset: number,
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
      problems: [...findMissingSteps(steps, this.file), ...this.skipped, ...this.tailProblems],
      payloadBytes: this.records.reduce((s, r) => s + r.payloadBytes, 0),
      ...(this.header.sketch ? { sketch: this.header.sketch } : {}),
      ...(this.header.rangeSketch ? { rangeSketch: this.header.rangeSketch } : {}),
    };
  }

  private problem(
    kind: TraceProblem["kind"],
    message: string,
    site: { step?: number; tensor?: string } = {},
  ): TraceProblem {
    return { kind, file: this.file, message, ...site };
  }

  /** Scans records from `scanEnd` to the end of the file, extending the index. */
  private scan(): void {
    const size = fileSize(this.file);
    this.tailProblems = [];
    let pos = this.scanEnd;
    while (pos < size) {
      const where = `${this.file}: record ${this.ordinal} at offset ${pos}`;
      const got = this.readRecordAt(pos, size, where);
      if (got.kind === "short") {
        const step = got.step !== undefined && Number.isSafeInteger(got.step) ? { step: got.step } : {};
        this.tailProblems.push(this.problem("truncated-record", `${where}: ${got.message}; skipped`, step));
        break;
      }
      if (got.kind === "ok") {
        const { record, total } = got;
        const isLast = pos + total === size;
        if (this.verify === "all" || isLast) {
          const bad = this.firstBadPayload(record);
          if (bad !== null) {
            const site = { step: record.step, tensor: bad.name };
            const message = `${where}: step ${record.step}: ${bad.what} fails its checksum; record skipped`;
            if (isLast) {
              // The last record is what a crash may have damaged; refresh() looks at it again.
              this.tailProblems.push(this.problem("corrupt-record", message, site));
              break;
            }
            this.skipped.push(this.problem("corrupt-record", message, site));
            pos += total;
            this.scanEnd = pos;
            this.ordinal++;
            continue;
          }
        }
        this.records.push(record);
        pos += total;
        this.scanEnd = pos;
        this.ordinal++;
        continue;
      }
      // A damaged header: its lengths cannot be trusted, so continue at the next record whose header verifies.
      const next = this.findNextRecord(pos + 1, size);
      if (next === null) {
        if (this.zeroFrom(pos, size)) {
          // After an OS crash some file systems leave the last record's blocks allocated but zero-filled.
          this.tailProblems.push(
            this.problem(
              "truncated-record",
              `${where}: ${size - pos} zero bytes where a record should start (crash while writing?); skipped`,
            ),
          );
        } else {
          this.tailProblems.push(
            this.problem(
              "corrupt-record",
              `${where}: ${got.message}; no verifiable record follows in the remaining ${size - pos} bytes; skipped`,
            ),
          );
        }
        break;
      }
      this.skipped.push(
        this.problem(
          "corrupt-record",
          `${where}: ${got.message}; skipped ${next - pos} bytes up to the next record that verifies (offset ${next})`,
        ),
      );
      pos = next;
      this.scanEnd = pos;
      this.ordinal++;
    }
  }

  /** Reads and checks the record header and entry table at `pos` (payloads are not touched). */
  private readRecordAt(pos: number, size: number, where: string): RecordRead {
    if (pos + RECORD_HEADER_BYTES > size) {
      return {
        kind: "short",
        message: `file ends inside the record header (${size - pos} of ${RECORD_HEADER_BYTES} bytes)`,
      };
    }
    const head = new Uint8Array(RECORD_HEADER_BYTES);
    this.pool.read(this.file, head, 0, RECORD_HEADER_BYTES, pos);
    const dv = new DataView(head.buffer);
    const magicOk = dv.getUint32(0, true) === RECORD_MAGIC;
    const nEntries = dv.getUint32(4, true);
    const payload = Number(dv.getBigUint64(8, true));
    const step = dv.getFloat64(16, true);
    const tableBytes = nEntries * ENTRY_BYTES;
    if (!magicOk) return { kind: "bad", message: "no record magic (GREC)" };
    if (nEntries > 3 * this.header.tensors.length || !Number.isSafeInteger(payload))
      return { kind: "bad", message: `implausible lengths (${nEntries} entries, ${payload} payload bytes)` };
    const stepText = Number.isSafeInteger(step) ? { step } : {};
    if (pos + RECORD_HEADER_BYTES + tableBytes > size) {
      return {
        kind: "short",
        message: `step field ${step}: file ends inside the entry table (run killed mid-write?)`,
        ...stepText,
      };
    }
    const table = new Uint8Array(tableBytes);
    this.pool.read(this.file, table, 0, tableBytes, pos + RECORD_HEADER_BYTES);
    if (crc32(table, crc32(head.subarray(0, RECORD_CRC_PREFIX))) !== dv.getUint32(RECORD_CRC_PREFIX, true))
      return { kind: "bad", message: `step field ${step}: record header fails its checksum` };
    const total = RECORD_HEADER_BYTES + tableBytes + payload;
    if (pos + total > size) {
      return {
        kind: "short",
        message: `step ${step}: record needs ${total} bytes, file ends after ${size - pos} (run killed mid-write?)`,
        ...stepText,
      };
    }
    const record = this.indexRecord(where, pos, step, dv, table, nEntries, payload);
    return { kind: "ok", record, total };
  }

  /** Offset of the first record header after `from` whose magic and checksum verify, or null. */
  private findNextRecord(from: number, size: number): number | null {
    const buf = new Uint8Array(Math.min(RESYNC_CHUNK, Math.max(0, size - from)));
    const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let at = from; at + RECORD_HEADER_BYTES <= size; ) {
      const n = Math.min(buf.byteLength, size - at);
      this.pool.read(this.file, buf, 0, n, at);
      const view = bytes.subarray(0, n);
      for (let i = view.indexOf(RECORD_MAGIC_BYTES); i >= 0; i = view.indexOf(RECORD_MAGIC_BYTES, i + 1)) {
        const q = at + i;
        if (q + RECORD_HEADER_BYTES > size) return null;
        if (this.headerVerifies(q, size)) return q;
      }
      if (n < buf.byteLength) break;
      at += n - (RECORD_MAGIC_BYTES.byteLength - 1); // overlap: a magic split across two reads is still found
    }
    return null;
  }

  private headerVerifies(pos: number, size: number): boolean {
    const head = new Uint8Array(RECORD_HEADER_BYTES);
    this.pool.read(this.file, head, 0, RECORD_HEADER_BYTES, pos);
    const dv = new DataView(head.buffer);
    const nEntries = dv.getUint32(4, true);
    if (nEntries > 2 * this.header.tensors.length) return false;
    const tableBytes = nEntries * ENTRY_BYTES;
    if (pos + RECORD_HEADER_BYTES + tableBytes > size) return false;
    const table = new Uint8Array(tableBytes);
    this.pool.read(this.file, table, 0, tableBytes, pos + RECORD_HEADER_BYTES);
    return crc32(table, crc32(head.subarray(0, RECORD_CRC_PREFIX))) === dv.getUint32(RECORD_CRC_PREFIX, true);
  }

  private indexRecord(
    where: string,
    pos: number,
    step: number,
    dv: DataView,
    table: Uint8Array,
    nEntries: number,
    payload: number,
  ): RecordIndex {
    // The header verified: anything wrong below was written that way (a writer bug), not damaged on disk.
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
    const payloadStart = pos + RECORD_HEADER_BYTES + table.byteLength;
    let offset = payloadStart;
    for (let i = 0; i < nEntries; i++) {
      const index = tdv.getUint32(i * ENTRY_BYTES, true);
      const dtype = DTYPE_BY_CODE[table[i * ENTRY_BYTES + 4]];
      const kind = table[i * ENTRY_BYTES + 5];
      const info = this.header.tensors[index];
      const count = this.entryCount(index, kind);
      if (!info || !dtype || count === undefined) {
        throw new GradtraceError(
          "E_FORMAT",
          `${where} (step ${step}): entry ${i} has tensor index ${index}, dtype code ${table[i * ENTRY_BYTES + 4]}, kind ${kind}`,
        );
      }
      const key = `${index}:${kind}`;
      if (entries.has(key))
        throw new GradtraceError("E_FORMAT", `${where} (step ${step}): tensor ${info.name} appears twice`);
      const bytes = count * dtypeSize(dtype);
      entries.set(key, {
        offset,
        bytes,
        dtype,
        crc32: tdv.getUint32(i * ENTRY_BYTES + 8, true),
        state: UNCHECKED,
      });
      offset += bytes;
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
      ordinal: this.ordinal,
      offset: pos,
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

  /** The first payload of a record whose checksum fails (all are verified, and their verdicts kept), or null. */
  /** Values an entry of this tensor and kind holds, or undefined when the kind is unknown or not declared for it
   * (range sketches: only tensors listed in the header's rangeSketch). */
  private entryCount(index: number, kind: number): number | undefined {
    const info = this.header.tensors[index];
    if (!info) return undefined;
    if (kind === ENTRY_KINDS.gradient || kind === ENTRY_KINDS.momentum) return info.numel;
    if (kind === ENTRY_KINDS.range) return this.rangeSize.get(index);
    return undefined;
  }

  private firstBadPayload(record: RecordIndex): { name: string; what: string } | null {
    const what = ["tensor", "momentum buffer of", "range sketch of"];
    let bad: { name: string; what: string } | null = null;
    for (const [key, loc] of record.entries) {
      const [index, kind] = key.split(":").map(Number);
      const name = this.header.tensors[index].name;
      if (loc.state === UNCHECKED) {
        const { crc, scratch } = crc32OfRegion(this.pool, this.file, loc.offset, loc.bytes, this.scratch);
        this.scratch = scratch;
        loc.state = crc === loc.crc32 ? VERIFIED : FAILED;
      }
      if (loc.state === FAILED && bad === null) bad = { name, what: `${what[kind]} ${name}` };
    }
    return bad;
  }
}
