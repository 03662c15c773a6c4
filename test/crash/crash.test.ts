/** @file Crash safety of the TypeScript gtrace writer, by killing it: a handful of SIGKILL trials at seeded random
 * moments (bench/crash.bench.ts runs ≥ 100 and reports the figures). Each trial checks that every complete record is
 * recovered with its values, that a partial record is reported, and that appending resumes on the same file. */
import * as fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { scratchDir } from "../scratch.ts";
import { crashTrial } from "./crashTrial.ts";

const TRIALS = Number(process.env.GRADTRACE_CRASH_TRIALS ?? 4);

describe("SIGKILL at random moments", () => {
  const dir = scratchDir("gradtrace-crash-", 256 * 2 ** 20);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`${TRIALS} trials: complete records recovered, the partial one reported, appending resumes`, async () => {
    const results = [];
    for (let t = 0; t < TRIALS; t++) results.push(await crashTrial(dir, t, 1 << 18, 400));
    for (const r of results) expect(r.failures, JSON.stringify(r)).toEqual([]);
    // The kills landed while the writer was working (not before its first record, every time).
    expect(results.some((r) => r.recovered > 0)).toBe(true);
  }, 120_000);
});
