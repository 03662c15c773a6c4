/** @file Low-level reads shared by every reader: a bounded LRU pool of read-only file descriptors (a 10,000-step
 * directory must not exhaust fds), exact positioned reads that turn short reads into E_TRUNCATED errors naming the
 * file, and the mapping of Node's I/O errors onto GradtraceError codes. */

import * as fs from "node:fs";
import { GradtraceError } from "../core/index.ts";

/** Errno codes that mean "the system refused the I/O" (not "the file is malformed"), with the words users read. */
const SYSTEM_REFUSALS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large for the file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EIO: "input/output error",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
};

/** Turns a Node I/O error into a GradtraceError naming the file and the cause: ENOENT → E_NOT_FOUND; disk full,
 * permissions, read-only file systems and device errors → E_IO (exit code 5); anything else → E_FORMAT. */
export function ioError(err: unknown, file: string, what: string): GradtraceError {
  if (err instanceof GradtraceError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "ENOENT")
    return new GradtraceError("E_NOT_FOUND", `${file}: no such file (${what})`, { cause: err });
  const refusal = code === undefined ? undefined : SYSTEM_REFUSALS[code];
  if (refusal !== undefined)
    return new GradtraceError("E_IO", `${file}: ${what} failed: ${refusal} (${code})`, { cause: err });
  return new GradtraceError("E_FORMAT", `${file}: ${what} failed: ${message}`, { cause: err });
}

/** `mkdir -p` whose failure is a GradtraceError naming the directory and the cause. */
export function makeDir(dir: string, what: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw ioError(err, dir, `${what}: creating the directory`);
  }
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (err) {
    throw ioError(err, file, "stat");
  }
}

/** Reads exactly `length` bytes at `position` into `buf[bufOffset...]`; a short read is E_TRUNCATED. */
export function readExactly(
  fd: number,
  file: string,
  buf: Uint8Array,
  bufOffset: number,
  length: number,
  position: number,
): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, bufOffset + done, length - done, position + done);
    } catch (err) {
      throw ioError(err, file, `read of ${length} bytes at offset ${position}`);
    }
    if (n === 0) {
      throw new GradtraceError(
        "E_TRUNCATED",
        `${file}: expected ${length} bytes at offset ${position}, file ends after ${done} of them`,
      );
    }
    done += n;
  }
}

/** A small LRU of open read-only descriptors keyed by path. */
export class FdPool {
  private readonly fds = new Map<string, number>();
  constructor(private readonly maxOpen = 64) {}

  get(file: string): number {
    const hit = this.fds.get(file);
    if (hit !== undefined) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.fds.delete(file);
      this.fds.set(file, hit);
      return hit;
    }
    if (this.fds.size >= this.maxOpen) {
      const [oldFile, oldFd] = this.fds.entries().next().value as [string, number];
      this.fds.delete(oldFile);
      fs.closeSync(oldFd);
    }
    let fd: number;
    try {
      fd = fs.openSync(file, "r");
    } catch (err) {
      throw ioError(err, file, "open");
    }
    this.fds.set(file, fd);
    return fd;
  }

  read(file: string, buf: Uint8Array, bufOffset: number, length: number, position: number): void {
    readExactly(this.get(file), file, buf, bufOffset, length, position);
  }

  /** Forgets a descriptor (e.g. after the file grew or was replaced). */
  drop(file: string): void {
    const fd = this.fds.get(file);
    if (fd !== undefined) {
      this.fds.delete(file);
      fs.closeSync(fd);
    }
  }

  get openCount(): number {
    return this.fds.size;
  }

  closeAll(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

/** Reads a whole small file region (header) into a new buffer. */
export function readRegion(file: string, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw ioError(err, file, "open");
  }
  try {
    readExactly(fd, file, buf, 0, length, position);
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}
