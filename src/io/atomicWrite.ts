/** @file The one way gradtrace writes a whole file (traces, reports, the serve cache, lab outputs, CLI outputs):
 * into a temp file beside the target, fsync, then into place. A crash, a full disk or a refused permission leaves
 * no partial file under the final name, and an existing file is never replaced unless the caller forces it. */

import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import { ioError, makeDir } from "./files.ts";

export interface WriteFileOptions {
  /** Replace an existing target (default false: E_EXISTS). */
  readonly force?: boolean;
  /** Who writes, for messages: "--json", "writeNpy", "demo" … */
  readonly what?: string;
  /** Create missing parent directories (default false: a missing directory is E_NOT_FOUND). */
  readonly mkdir?: boolean;
}

export type FileContent = string | Uint8Array | readonly Uint8Array[];

/** E_EXISTS unless `force`: writers never silently replace an output. A cheap early check; the write itself is
 * still no-clobber (see `writeFileAtomic`), so a file appearing in between is not replaced either. */
export function refuseExisting(target: string, force: boolean, what: string): void {
  if (!force && fs.existsSync(target)) throw existsError(target, what);
}

function existsError(target: string, what: string): GradtraceError {
  return new GradtraceError(
    "E_EXISTS",
    `${what}: ${target} already exists (pass --force / { force: true } to overwrite)`,
  );
}

function chunksOf(content: FileContent): readonly Uint8Array[] {
  if (typeof content === "string") return [new TextEncoder().encode(content)];
  if (content instanceof Uint8Array) return [content];
  return content;
}

let tempCounter = 0;

/**
 * Writes `content` to `target` atomically: a temp file in the same directory (same filesystem, so the final step
 * is a rename), fsync, then into place. Without `force` the final step is `link` (fails with EEXIST if the target
 * appeared meanwhile), falling back to an exists-check + rename on filesystems without hard links.
 */
export function writeFileAtomic(target: string, content: FileContent, options: WriteFileOptions = {}): void {
  const { force = false, what = "write", mkdir = false } = options;
  const dir = path.dirname(path.resolve(target));
  if (mkdir) makeDir(dir, what);
  else if (!fs.existsSync(dir)) {
    throw new GradtraceError("E_NOT_FOUND", `${what}: directory ${dir} does not exist`);
  }
  refuseExisting(target, force, what);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${tempCounter++}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, "wx");
    for (const chunk of chunksOf(content)) {
      let done = 0;
      while (done < chunk.byteLength) done += fs.writeSync(fd, chunk, done, chunk.byteLength - done);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    if (force) fs.renameSync(tmp, target);
    else placeWithoutClobber(tmp, target, what);
  } catch (err) {
    // Clean up whatever we can; the error reported is the first one (e.g. ENOSPC), not a follow-up failure.
    try {
      if (fd !== null) fs.closeSync(fd);
    } catch {
      // closing may fail for the same reason the write did
    }
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // a temp name starting with "." is all that can be left behind, never a partial file under the target name
    }
    throw ioError(err, target, `${what}: atomic write`);
  }
}

function placeWithoutClobber(tmp: string, target: string, what: string): void {
  try {
    fs.linkSync(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw existsError(target, what);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV") throw err;
    // No hard links here (some network and FAT filesystems): the check-then-rename window is the best we have.
    refuseExisting(target, false, what);
    fs.renameSync(tmp, target);
    return;
  }
  fs.rmSync(tmp, { force: true });
}

/** `writeFileAtomic` of `JSON.stringify(value, null, 1)` plus a newline. */
export function writeJsonAtomic(target: string, value: unknown, options: WriteFileOptions = {}): void {
  writeFileAtomic(target, `${JSON.stringify(value, null, 1)}\n`, options);
}
