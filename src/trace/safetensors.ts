/** @file The safetensors file format (8-byte little-endian header length, JSON header, byte buffer): a validating
 * header parser that never trusts a length, offset, dtype or shape before checking it against the file, and a
 * crash-safe writer (temp + rename). Hand-written: the format is tiny and no maintained JS package reads it
 * through positioned reads without loading the whole file. */

import { GradtraceError } from "../core/index.ts";
import { fileSize, readRegion, refuseExisting, writeFileAtomic } from "../io/index.ts";
import { dtypeSize, encodeLittleEndian, isDType, shapeNumel } from "./dtype.ts";
import type { DType } from "./types.ts";

/** Headers larger than this are refused (the reference implementation uses 100 MB as well). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

/** Dtypes safetensors defines that gradtrace does not read (integer / bool / fp8 tensors are not gradients). */
const KNOWN_UNSUPPORTED = new Set([
  "BOOL",
  "U8",
  "I8",
  "I16",
  "U16",
  "I32",
  "U32",
  "I64",
  "U64",
  "F8_E5M2",
  "F8_E4M3",
]);

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly numel: number;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  readonly file: string;
  readonly entries: SafetensorsEntry[];
  readonly metadata: Record<string, string>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function parseSafetensorsHeader(file: string): SafetensorsHeader {
  const size = fileSize(file);
  if (size < 8)
    throw new GradtraceError(
      "E_TRUNCATED",
      `${file}: ${size} bytes, too short for a safetensors header length`,
    );
  const lenBytes = readRegion(file, 0, 8);
  const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(size - 8)) {
    throw new GradtraceError(
      "E_TRUNCATED",
      `${file}: header length field says ${headerLen} bytes but only ${size - 8} follow it`,
    );
  }
  const n = Number(headerLen);
  if (n > MAX_SAFETENSORS_HEADER) {
    throw new GradtraceError(
      "E_FORMAT",
      `${file}: header of ${n} bytes exceeds the ${MAX_SAFETENSORS_HEADER}-byte limit`,
    );
  }
  const text = new TextDecoder("utf-8", { fatal: false }).decode(readRegion(file, 8, n));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GradtraceError("E_FORMAT", `${file}: header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw new GradtraceError("E_FORMAT", `${file}: header must be a JSON object`);
  const bufferStart = 8 + n;
  const bufferLen = size - bufferStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json)) {
    if (name === "__metadata__") {
      if (!isPlainObject(raw) || Object.values(raw).some((v) => typeof v !== "string")) {
        throw new GradtraceError("E_FORMAT", `${file}: __metadata__ must be an object of string values`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const where = `${file}: tensor ${name}`;
    if (!isPlainObject(raw)) throw new GradtraceError("E_FORMAT", `${where}: entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = raw;
    if (typeof dtype === "string" && KNOWN_UNSUPPORTED.has(dtype)) {
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `${where}: dtype ${dtype} is not a float gradient dtype (F64, F32, F16, BF16)`,
      );
    }
    if (!isDType(dtype)) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: field dtype must be one of F64, F32, F16, BF16, got ${JSON.stringify(dtype)}`,
      );
    }
    const numel = shapeNumel(shape, where);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: field data_offsets must be [begin, end] non-negative integers`,
      );
    }
    const [begin, end] = offsets as number[];
    if (end < begin)
      throw new GradtraceError("E_FORMAT", `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > bufferLen) {
      throw new GradtraceError(
        "E_TRUNCATED",
        `${where}: data_offsets end ${end} lies beyond the ${bufferLen}-byte data buffer`,
      );
    }
    const expected = numel * dtypeSize(dtype);
    if (end - begin !== expected) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: data_offsets span ${end - begin} bytes but shape [${(shape as number[]).join(", ")}] of ${dtype} needs ${expected}`,
      );
    }
    entries.push({
      name,
      dtype,
      shape: [...(shape as number[])],
      numel,
      offset: bufferStart + begin,
      byteLength: expected,
    });
  }
  // Empty tensors occupy no bytes and cannot overlap anything.
  const sorted = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) {
      throw new GradtraceError(
        "E_FORMAT",
        `${file}: data of tensors ${prev.name} and ${sorted[i].name} overlap`,
      );
    }
  }
  return { file, entries, metadata };
}

export interface SafetensorsTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Values (converted to `dtype`), or raw 16-bit patterns for F16/BF16. */
  readonly data: Float32Array | Float64Array | Uint16Array;
}

export interface WriteOptions {
  /** Replace an existing file instead of failing with E_EXISTS. */
  readonly force?: boolean;
}

/** Encodes one safetensors file in memory (header padded with spaces to an 8-byte boundary, as the reference does). */
export function encodeSafetensors(
  tensors: Readonly<Record<string, SafetensorsTensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const where = `writeSafetensors: tensor ${name}`;
    if (!isDType(t.dtype))
      throw new GradtraceError("E_ARG", `${where}: unknown dtype ${JSON.stringify(t.dtype)}`);
    const numel = shapeNumel(t.shape, where);
    if (t.data.length !== numel) {
      throw new GradtraceError(
        "E_SHAPE",
        `${where}: shape [${t.shape.join(", ")}] needs ${numel} values, got ${t.data.length}`,
      );
    }
    const bytes = encodeLittleEndian(t.data, t.dtype);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const encoded = new TextEncoder().encode(json);
  json += " ".repeat((8 - (encoded.byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [len, headerBytes, ...chunks];
}

/** Writes a safetensors file atomically (temp + fsync + rename); E_EXISTS unless `force`. */
export function writeSafetensors(
  file: string,
  tensors: Readonly<Record<string, SafetensorsTensor>>,
  metadata?: Readonly<Record<string, string>>,
  { force = false }: WriteOptions = {},
): void {
  refuseExisting(file, force, "writeSafetensors");
  writeFileAtomic(file, encodeSafetensors(tensors, metadata), { force, what: "writeSafetensors" });
}
