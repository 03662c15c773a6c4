/** @file Byte layout of gradtrace's own append-only `.gtrace` file (documented in docs/trace-format.md): shared by
 * the reader and the writer so the two cannot drift. All integers and floats are little-endian.
 *
 *   file header (16 bytes + J):  "GTRACE" | u16 version | u32 J | u32 crc32(json) | J bytes of UTF-8 JSON
 *                                JSON = { tensors: [{ name, shape, dtype }], meta?: {…} }
 *   record (48 + 16·E + P bytes): "GREC" | u32 E (entries) | u64 P (payload bytes) | f64 step | f64 loss | f64 lr |
 *                                u32 flags (1: loss present, 2: lr present) | u32 crc32(bytes 0..44 ‖ entry table)
 *                                then E entries of 16 bytes: u32 tensor index | u8 dtype code | u8 kind | u16 0 |
 *                                u32 crc32(entry payload) | u32 0
 *                                then the E payloads back to back, in table order (numel × dtype size bytes each).
 *
 * Version 2 (written only by files that declare range sketches, so other files stay readable by version-1 readers)
 * adds entry kind 2, the range sketch Y = G·Ω of a matrix-shaped tensor: rows × s values, sizes declared by the
 * header's `rangeSketch` field. The header may also carry `sketch` (the run logged sketched gradients: every tensor
 * holds k numbers; kind, k, seed and the seeding scheme) — an optional field that version-1 readers ignore.
 *
 * The record checksum covers the fixed fields and the entry table, which holds each payload's checksum: the reader
 * indexes a file by reading 48 + 16·E bytes per record, and verifies payload checksums when it reads whole tensors. */

import type { DType } from "./types.ts";

export const GTRACE_MAGIC = "GTRACE";
/** Version written when a file needs no version-2 feature; readers accept every version in GTRACE_VERSIONS. */
export const GTRACE_VERSION = 1;
/** Version of files that hold range-sketch entries (kind 2). */
export const GTRACE_VERSION_RANGE = 2;
export const GTRACE_VERSIONS: readonly number[] = [1, 2];
export const FILE_HEADER_BYTES = 16;
export const RECORD_MAGIC = 0x43455247; // "GREC" read as little-endian u32
export const RECORD_HEADER_BYTES = 48;
export const ENTRY_BYTES = 16;
/** Bytes covered by the record checksum before the entry table. */
export const RECORD_CRC_PREFIX = 44;
export const FLAG_LOSS = 1;
export const FLAG_LR = 2;
/** Upper bound on the JSON header, so a corrupt length cannot force a huge allocation. */
export const MAX_HEADER_JSON = 64 << 20;

export const DTYPE_CODES: Readonly<Record<DType, number>> = { F64: 1, F32: 2, F16: 3, BF16: 4 };
export const DTYPE_BY_CODE: readonly (DType | undefined)[] = [undefined, "F64", "F32", "F16", "BF16"];

/** Kinds of per-tensor payloads in a record: the gradient itself, optimizer states, and (version 2) the range sketch
 * of a matrix-shaped tensor. */
export const ENTRY_KINDS = { gradient: 0, momentum: 1, range: 2 } as const;
/** Entry kinds with the tensor's own size, read through `readState`. */
export type StateKind = "momentum";
