/** @file Test helpers for trace tests: temporary directories and deterministic tensors. */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, expect } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { createRng } from "../../src/core/rng.ts";

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-test-"));
  dirs.push(d);
  return d;
}

export function randomValues(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Asserts `fn` throws a GradtraceError with `code` whose message matches `pattern`. */
export function expectError(fn: () => unknown, code: string, pattern?: RegExp): GradtraceError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected a GradtraceError").toBeInstanceOf(GradtraceError);
  const e = caught as GradtraceError;
  expect(e.code, e.message).toBe(code);
  if (pattern) expect(e.message).toMatch(pattern);
  return e;
}
