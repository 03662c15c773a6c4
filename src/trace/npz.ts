/** @file The .npz format (a zip of .npy members): a validating central-directory reader (zip64 aware, as numpy
 * writes zip64 local headers) that locates each member's npy payload without inflating it, zip-bomb guards, and a
 * writer built on fflate. Stored members are addressed in place; deflated members are inflated lazily into the
 * reader's cache (see located.ts). Only the central directory is trusted for sizes, after checking it. */

import { Inflate, zipSync } from "fflate";
import { GradtraceError } from "../core/index.ts";
import { fileSize, readRegion, refuseExisting, writeFileAtomic } from "../io/index.ts";
import { dtypeSize } from "./dtype.ts";
import { type DeflatedSource, MAX_DEFLATE_RATIO, type TensorLocation } from "./located.ts";
import {
  encodeNpy,
  MAX_NPY_HEADER,
  type NpyHeader,
  type NpyTensor,
  npyHeaderLength,
  parseNpyHeader,
} from "./npy.ts";

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localOffset: number;
}

const u64 = (dv: DataView, at: number): number => {
  const v = dv.getBigUint64(at, true);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
};

/** Reads the central directory of a zip file; every offset and size is checked against the file size. */
export function readZipDirectory(file: string): { entries: ZipEntry[]; size: number } {
  const size = fileSize(file);
  const tailLen = Math.min(size, 22 + 65535);
  const tail = readRegion(file, size - tailLen, tailLen);
  const dvTail = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (dvTail.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new GradtraceError("E_FORMAT", `${file}: not a zip archive (no end-of-central-directory record)`);
  const eocdPos = size - tailLen + eocd;
  let count = dvTail.getUint16(eocd + 10, true);
  let cdSize = dvTail.getUint32(eocd + 12, true);
  let cdOffset = dvTail.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20)
      throw new GradtraceError("E_FORMAT", `${file}: zip64 end record expected but file too short`);
    const loc = new DataView(readRegion(file, eocdPos - 20, 20).buffer);
    if (loc.getUint32(0, true) !== 0x07064b50)
      throw new GradtraceError("E_FORMAT", `${file}: missing zip64 locator`);
    const z64At = u64(loc, 8);
    if (z64At + 56 > eocdPos)
      throw new GradtraceError("E_FORMAT", `${file}: zip64 end record offset ${z64At} out of range`);
    const z = new DataView(readRegion(file, z64At, 56).buffer);
    if (z.getUint32(0, true) !== 0x06064b50)
      throw new GradtraceError("E_FORMAT", `${file}: bad zip64 end record`);
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  if (cdOffset + cdSize > eocdPos || count * 46 > cdSize) {
    throw new GradtraceError(
      "E_FORMAT",
      `${file}: central directory (${count} entries, ${cdSize} bytes at ${cdOffset}) does not fit before its end record`,
    );
  }
  const cd = readRegion(file, cdOffset, cdSize);
  const dv = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || dv.getUint32(p, true) !== 0x02014b50) {
      throw new GradtraceError("E_FORMAT", `${file}: central directory entry ${i} is malformed`);
    }
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc32 = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let uncompressedSize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) {
      throw new GradtraceError("E_FORMAT", `${file}: central directory entry ${i} runs past the directory`);
    }
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new GradtraceError("E_UNSUPPORTED", `${file}: member ${name} is encrypted`);
    // Zip64 extra field: 64-bit values for exactly those fields that hold 0xFFFFFFFF, in this order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len)
            throw new GradtraceError("E_FORMAT", `${file}: member ${name} has a short zip64 field`);
          const v = u64(dv, q);
          q += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      e += 4 + len;
    }
    entries.push({ name, method, crc32, compressedSize, uncompressedSize, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { entries, size };
}

export interface NpzMember {
  /** Member name without ".npy". */
  readonly key: string;
  readonly location: TensorLocation;
}

/** Inflates only as much of a deflated member as its npy header needs (bounded by the header size limit). */
function inflateHead(file: string, dataStart: number, entry: ZipEntry, where: string): Uint8Array {
  const pieces: Uint8Array[] = [];
  let have = 0;
  let need = 12;
  const inflater = new Inflate((chunk: Uint8Array) => {
    pieces.push(chunk);
    have += chunk.byteLength;
  });
  let consumed = 0;
  const step = 4096;
  const join = (): Uint8Array => {
    const out = new Uint8Array(have);
    let o = 0;
    for (const piece of pieces) {
      out.set(piece, o);
      o += piece.byteLength;
    }
    return out;
  };
  while (have < need && consumed < entry.compressedSize) {
    const n = Math.min(step, entry.compressedSize - consumed);
    const input = readRegion(file, dataStart + consumed, n);
    consumed += n;
    try {
      inflater.push(input, consumed === entry.compressedSize);
    } catch (err) {
      throw new GradtraceError("E_FORMAT", `${where}: not valid deflate data (${String(err)})`);
    }
    if (have >= 12 && need === 12) {
      need = npyHeaderLength(join(), where);
      if (need > MAX_NPY_HEADER + 12) throw new GradtraceError("E_FORMAT", `${where}: .npy header too large`);
    }
    if (have > need + (64 << 20)) break; // one push never needs to produce more; stop reading early
  }
  return join();
}

/** Lists the .npy members of an .npz file with their validated payload locations. */
export function readNpzMembers(file: string): NpzMember[] {
  const { entries, size } = readZipDirectory(file);
  const ranges: { start: number; end: number; name: string }[] = [];
  const members: NpzMember[] = [];
  for (const entry of entries) {
    const where = `${file}: member ${entry.name}`;
    if (!entry.name.endsWith(".npy")) continue;
    if (!Number.isFinite(entry.localOffset) || entry.localOffset + 30 > size) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: local header offset ${entry.localOffset} is outside the file`,
      );
    }
    const local = new DataView(readRegion(file, entry.localOffset, 30).buffer);
    if (local.getUint32(0, true) !== 0x04034b50)
      throw new GradtraceError("E_FORMAT", `${where}: bad local header signature`);
    const dataStart = entry.localOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    if (!Number.isFinite(entry.compressedSize) || dataStart + entry.compressedSize > size) {
      throw new GradtraceError(
        "E_TRUNCATED",
        `${where}: ${entry.compressedSize} compressed bytes at offset ${dataStart} run past the end of the ${size}-byte file`,
      );
    }
    ranges.push({ start: entry.localOffset, end: dataStart + entry.compressedSize, name: entry.name });
    let header: NpyHeader;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.uncompressedSize) {
        throw new GradtraceError(
          "E_FORMAT",
          `${where}: stored member with compressed size ≠ uncompressed size`,
        );
      }
      const head = readRegion(file, dataStart, Math.min(12, entry.compressedSize));
      const total = npyHeaderLength(head, where);
      if (total > entry.compressedSize)
        throw new GradtraceError("E_TRUNCATED", `${where}: .npy header runs past the member`);
      header = parseNpyHeader(readRegion(file, dataStart, total), where);
    } else if (entry.method === 8) {
      if (entry.uncompressedSize > MAX_DEFLATE_RATIO * entry.compressedSize + 1024) {
        throw new GradtraceError(
          "E_FORMAT",
          `${where}: declares ${entry.uncompressedSize} bytes from ${entry.compressedSize} compressed, beyond deflate's ` +
            `maximum ratio ${MAX_DEFLATE_RATIO}:1 (zip bomb?); refusing`,
        );
      }
      header = parseNpyHeader(inflateHead(file, dataStart, entry, where), where);
    } else {
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `${where}: zip compression method ${entry.method} (only stored and deflate)`,
      );
    }
    const payload = header.numel * dtypeSize(header.dtype);
    if (entry.uncompressedSize !== header.headerLength + payload) {
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: zip entry declares ${entry.uncompressedSize} bytes but its .npy header (shape [${header.shape.join(", ")}], ` +
          `${header.dtype}) implies ${header.headerLength + payload}`,
      );
    }
    const deflated: DeflatedSource | undefined =
      entry.method === 8
        ? {
            member: entry.name,
            dataOffset: dataStart,
            compressedSize: entry.compressedSize,
            uncompressedSize: entry.uncompressedSize,
            headerLength: header.headerLength,
            crc32: entry.crc32,
          }
        : undefined;
    members.push({
      key: entry.name.slice(0, -4),
      location: {
        file,
        offset: dataStart + header.headerLength,
        dtype: header.dtype,
        littleEndian: header.littleEndian,
        fortranOrder: header.fortranOrder,
        shape: header.shape,
        numel: header.numel,
        ...(deflated
          ? { deflated }
          : {
              // The zip CRC-32 covers the stored member (npy header + payload): verified on first access.
              checksum: {
                offset: dataStart,
                length: entry.compressedSize,
                crc32: entry.crc32,
                what: `member ${entry.name}`,
              },
            }),
      },
    });
  }
  ranges.sort((a, b) => a.start - b.start);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].start < ranges[i - 1].end) {
      throw new GradtraceError(
        "E_FORMAT",
        `${file}: members ${ranges[i - 1].name} and ${ranges[i].name} overlap (zip bomb?)`,
      );
    }
  }
  return members;
}

export interface WriteNpzOptions {
  /** Deflate members (np.savez_compressed) instead of storing them (np.savez). */
  readonly compress?: boolean;
  readonly force?: boolean;
}

/** Writes an .npz atomically; each tensor becomes member `<name>.npy`. One step's tensors are held in memory. */
export function writeNpz(
  file: string,
  tensors: Readonly<Record<string, NpyTensor>>,
  { compress = false, force = false }: WriteNpzOptions = {},
): void {
  refuseExisting(file, force, "writeNpz");
  const members: Record<string, Uint8Array> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const chunks = encodeNpy(t, `writeNpz ${file}: tensor ${name}`);
    const joined = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
    let o = 0;
    for (const c of chunks) {
      joined.set(c, o);
      o += c.byteLength;
    }
    members[`${name}.npy`] = joined;
  }
  writeFileAtomic(file, [zipSync(members, { level: compress ? 6 : 0 })], { force, what: "writeNpz" });
}
