/** @file Public API of the io layer: positioned reads with clear errors, and the one atomic, refuse-to-overwrite
 * file writer every other layer uses. */

export {
  type FileContent,
  refuseExisting,
  type WriteFileOptions,
  writeFileAtomic,
  writeJsonAtomic,
} from "./atomicWrite.ts";
export { FdPool, fileSize, ioError, readExactly, readRegion } from "./files.ts";
