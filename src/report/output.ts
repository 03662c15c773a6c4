/** @file Writing report files: never over an existing file unless forced, always atomically (temp + rename), so a
 * user's file is never half-written or lost. */
import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/errors.ts";
import { refuseExisting, writeFileAtomic } from "../trace/io.ts";

export function writeOutput(target: string, content: string, { force = false, what = "output" } = {}): void {
  refuseExisting(target, force, what);
  const dir = path.dirname(path.resolve(target));
  if (!fs.existsSync(dir)) {
    throw new GradtraceError("E_NOT_FOUND", `${what}: directory ${dir} does not exist`);
  }
  writeFileAtomic(target, [new TextEncoder().encode(content)]);
}
