/** @file Where tests and benchmarks that write many or large scratch files put them: a tmpfs (/dev/shm on Linux)
 * when one is writable with room to spare — writers fsync, and disks on shared machines are slow — else the OS
 * temporary directory. Containers often give /dev/shm only 64 MB, hence the free-space check. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function scratchRoot(minFreeBytes: number): string {
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    const s = fs.statfsSync("/dev/shm");
    if (s.bavail * s.bsize >= minFreeBytes) return "/dev/shm";
  } catch {
    // no tmpfs here
  }
  return os.tmpdir();
}

/** A fresh directory under `scratchRoot(minFreeBytes)`. */
export function scratchDir(prefix: string, minFreeBytes: number): string {
  return fs.mkdtempSync(path.join(scratchRoot(minFreeBytes), prefix));
}
