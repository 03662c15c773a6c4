/** @file Crash safety of the TypeScript gtrace writer under SIGKILL (issue 15): ≥ 100 trials (GRADTRACE_BENCH_QUICK=1:
 * 10; GRADTRACE_CRASH_TRIALS overrides), each killing a writer process at a seeded random moment within 1.5 s of
 * its start, with 16 MiB records (so a kill often lands inside the record's write), then checking recovery and
 * resuming on the same file (test/crash/crashTrial.ts says exactly what is checked). Files live on /dev/shm when
 * present. Reported: trials passed, kills that left a partial record, complete records recovered. */
import * as fs from "node:fs";
import { crashTrial } from "../test/crash/crashTrial.ts";
import { scratchDir } from "../test/scratch.ts";
import type { BenchRow } from "./types.ts";

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const trials = Number(process.env.GRADTRACE_CRASH_TRIALS ?? (quick ? 10 : 100));
  const dir = scratchDir("gradtrace-crash-bench-", 2 ** 30);
  const results = [];
  try {
    for (let t = 0; t < trials; t++) results.push(await crashTrial(dir, 1000 + t, 4 << 20, 1500));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const passed = results.filter((r) => r.failures.length === 0).length;
  const partial = results.filter((r) => r.partial).length;
  const recovered = results.reduce((s, r) => s + r.recovered, 0);
  const failed = results.filter((r) => r.failures.length > 0);
  return [
    {
      name: "SIGKILL trials passed (all records recovered, partial reported, resume clean)",
      value: passed,
      unit: `of ${trials}`,
      target: "all",
      note:
        failed.length > 0 ? `first failure: ${failed[0].failures[0]}` : "16 MiB records, kill within 1.5 s",
    },
    {
      name: "kills that left a partial record (reported, cut off on resume)",
      value: partial,
      unit: `of ${trials}`,
      note: `cut ${results.reduce((s, r) => s + r.truncatedBytes, 0)} bytes in all`,
    },
    {
      name: "complete records recovered after the kills",
      value: recovered,
      unit: "records",
      note: `acknowledged before the kill: ${results.reduce((s, r) => s + r.acked + 1, 0)}`,
    },
  ];
}
