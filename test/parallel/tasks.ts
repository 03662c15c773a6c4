/** @file Task module for the worker-pool tests (pool.test.ts): each export is a task a pool can run. */
import { threadId } from "node:worker_threads";
import { GradtraceError } from "../../src/core/index.ts";
import { transferResult } from "../../src/parallel/index.ts";

/** Σ x² in float64, the same code the test calls in-process. */
export function sumSquares(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** Returns the values scaled by `a`, with non-finite values kept as they are. */
export async function scaled(values: number[], a: number): Promise<number[]> {
  return values.map((v) => v * a);
}

export function failCoded(step: number): never {
  throw new GradtraceError("E_NUMERIC", `step ${step}: gradient has NaN`);
}

export function failPlain(): never {
  throw new RangeError("plain failure");
}

/** A buffer of `n` values i/2 moved (not copied) back to the caller. */
export function makeBuffer(n: number) {
  const out = new Float64Array(n).map((_, i) => i / 2);
  return transferResult({ values: out, threadId }, [out.buffer]);
}

/** Bumps a shared counter, then waits (up to 10 s) until `expected` tasks have bumped it: true when they all did,
 * which can only happen if that many tasks run at the same time. */
export function rendezvous(counter: Int32Array, expected: number): { met: boolean; threadId: number } {
  Atomics.add(counter, 0, 1);
  const deadline = Date.now() + 10_000;
  while (Atomics.load(counter, 0) < expected && Date.now() < deadline)
    Atomics.wait(counter, 0, Atomics.load(counter, 0), 50);
  return { met: Atomics.load(counter, 0) >= expected, threadId };
}

/** Never returns on its own (until aborted): blocks its thread. */
export function spin(ms: number): number {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

/** Where this task runs: the worker's flags and this module's own URL. */
export function whereAmI(): { execArgv: string[]; url: string } {
  return { execArgv: process.execArgv, url: import.meta.url };
}
