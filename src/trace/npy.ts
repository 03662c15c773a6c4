/** @file The NumPy .npy format (versions 1.0, 2.0, 3.0): a validating header parser (magic, version, header length,
 * the Python-literal dict with descr / fortran_order / shape) and an encoder/writer. Only float dtypes f2/f4/f8 in
 * either byte order are read; bfloat16 has no standard .npy descr (ml_dtypes writes an opaque void type), so it is
 * refused with a clear E_UNSUPPORTED rather than guessed. */

import { GradtraceError } from "../core/index.ts";
import { fileSize, readRegion, refuseExisting, writeFileAtomic } from "../io/index.ts";
import { dtypeSize, encodeLittleEndian, shapeNumel } from "./dtype.ts";
import type { DType } from "./types.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** numpy itself refuses headers over 10 kB by default; allow more, but never an unbounded allocation. */
export const MAX_NPY_HEADER = 1 << 20;

export interface NpyHeader {
  /** Bytes before the payload (magic, version, length field, dict, padding). */
  readonly headerLength: number;
  readonly dtype: DType;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly numel: number;
}

/** Total header length announced by the first 12 bytes (needs at least 10, or 12 for v2/v3). */
export function npyHeaderLength(bytes: Uint8Array, where: string): number {
  if (bytes.byteLength < 10)
    throw new GradtraceError("E_TRUNCATED", `${where}: too short for an .npy header`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new GradtraceError("E_FORMAT", `${where}: not an .npy file (bad magic)`);
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) return 10 + dv.getUint16(8, true);
  if (major === 2 || major === 3) {
    if (bytes.byteLength < 12)
      throw new GradtraceError("E_TRUNCATED", `${where}: too short for an .npy v${major} header`);
    const n = dv.getUint32(8, true);
    if (n > MAX_NPY_HEADER)
      throw new GradtraceError("E_FORMAT", `${where}: .npy header of ${n} bytes exceeds ${MAX_NPY_HEADER}`);
    return 12 + n;
  }
  throw new GradtraceError(
    "E_UNSUPPORTED",
    `${where}: .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`,
  );
}

function descrToDtype(descr: string, where: string): { dtype: DType; littleEndian: boolean } {
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  if (!m)
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${where}: descr ${JSON.stringify(descr)} is not a float dtype (f2, f4, f8)`,
    );
  const [, order, kind, sizeText] = m;
  const size = Number(sizeText);
  if (kind !== "f" || (size !== 2 && size !== 4 && size !== 8)) {
    const hint = kind === "V" && size === 2 ? " (bfloat16 arrays: convert to float32 before np.save)" : "";
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${where}: descr ${JSON.stringify(descr)} is not f2, f4 or f8${hint}`,
    );
  }
  if (order === "|")
    throw new GradtraceError("E_FORMAT", `${where}: descr ${descr}: a ${size}-byte float needs a byte order`);
  const dtype: DType = size === 2 ? "F16" : size === 4 ? "F32" : "F64";
  return { dtype, littleEndian: order !== ">" };
}

/** Parses the header dict; `bytes` must hold at least `npyHeaderLength(bytes)` bytes. */
export function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  const headerLength = npyHeaderLength(bytes, where);
  if (bytes.byteLength < headerLength) {
    throw new GradtraceError(
      "E_TRUNCATED",
      `${where}: .npy header declares ${headerLength} bytes, only ${bytes.byteLength} present`,
    );
  }
  const start = bytes[6] === 1 ? 10 : 12;
  const text = new TextDecoder(bytes[6] === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, headerLength),
  );
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!text.trimStart().startsWith("{") || !descr || !fortran || !shapeMatch) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new GradtraceError("E_UNSUPPORTED", `${where}: structured (record) dtypes are not gradients`);
    }
    throw new GradtraceError(
      "E_FORMAT",
      `${where}: .npy header must be a dict with 'descr', 'fortran_order' and 'shape', got ${JSON.stringify(text.slice(0, 120))}`,
    );
  }
  const parts = shapeMatch[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const shape = parts.map((p, i) => {
    // Python 2 era files may write longs as "3L".
    const digits = p.replace(/L$/, "");
    if (!/^[0-9]+$/.test(digits))
      throw new GradtraceError(
        "E_FORMAT",
        `${where}: shape[${i}] is ${JSON.stringify(p)}, not a non-negative integer`,
      );
    return Number(digits);
  });
  const numel = shapeNumel(shape, where);
  const { dtype, littleEndian } = descrToDtype(descr[2], where);
  return { headerLength, dtype, littleEndian, fortranOrder: fortran[1] === "True", shape, numel };
}

/** Reads and validates the header of an .npy file, checking the file holds exactly the declared payload. */
export function readNpyFileHeader(file: string): NpyHeader {
  const size = fileSize(file);
  const head = readRegion(file, 0, Math.min(size, 12));
  const total = npyHeaderLength(head, file);
  if (total > size)
    throw new GradtraceError("E_TRUNCATED", `${file}: .npy header declares ${total} bytes, file has ${size}`);
  const header = parseNpyHeader(readRegion(file, 0, total), file);
  const payload = header.numel * dtypeSize(header.dtype);
  if (size - total < payload) {
    throw new GradtraceError(
      "E_TRUNCATED",
      `${file}: shape [${header.shape.join(", ")}] of ${header.dtype} needs ${payload} bytes of data, file has ${size - total}`,
    );
  }
  return header;
}

export interface NpyTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Uint16Array;
}

/** Encodes an .npy v1.0 file (little-endian, C order, header padded to 64 bytes as numpy does). */
export function encodeNpy(tensor: NpyTensor, where = "writeNpy"): Uint8Array[] {
  const { dtype, shape, data } = tensor;
  if (dtype === "BF16")
    throw new GradtraceError("E_UNSUPPORTED", `${where}: .npy has no bfloat16 dtype; use F32 or F16`);
  const numel = shapeNumel(shape, where);
  if (data.length !== numel) {
    throw new GradtraceError(
      "E_SHAPE",
      `${where}: shape [${shape.join(", ")}] needs ${numel} values, got ${data.length}`,
    );
  }
  const descr = `<f${dtypeSize(dtype)}`;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  dict += " ".repeat((64 - (unpadded % 64)) % 64);
  dict += "\n";
  if (dict.length > 65535)
    throw new GradtraceError("E_UNSUPPORTED", `${where}: shape too long for an .npy v1.0 header`);
  const head = new Uint8Array(10 + dict.length);
  head.set(MAGIC, 0);
  head[6] = 1;
  head[7] = 0;
  new DataView(head.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) head[10 + i] = dict.charCodeAt(i);
  return [head, encodeLittleEndian(data, dtype)];
}

/** Writes an .npy file atomically (temp + fsync + rename); E_EXISTS unless `force`. */
export function writeNpy(file: string, tensor: NpyTensor, { force = false }: { force?: boolean } = {}): void {
  refuseExisting(file, force, "writeNpy");
  writeFileAtomic(file, encodeNpy(tensor, `writeNpy ${file}`), { force, what: "writeNpy" });
}
