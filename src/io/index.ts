/** @file Public API of the io layer: positioned reads with clear errors, CRC-32 checks, the one atomic,
 * refuse-to-overwrite file writer every other layer uses, and the advisory write lock of append-only files. */

export {
  type FileContent,
  refuseExisting,
  type WriteFileOptions,
  writeFileAtomic,
  writeJsonAtomic,
} from "./atomicWrite.ts";
export { crc32, crc32OfRegion } from "./crc32.ts";
export { FdPool, fileSize, ioError, makeDir, readExactly, readRegion } from "./files.ts";
export { acquireWriteLock, lockPathFor, type WriteLock } from "./lock.ts";
