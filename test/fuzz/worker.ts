/** @file A fuzz worker process (started by test/fuzz/fuzz.test.ts under a memory limit): builds the seeds, runs
 * cases [from, to) of the run's seed and reports each case's start and outcome over IPC, so the parent can tell a
 * hang (no outcome before the deadline) or a crash of the process (exit mid-case) from the case that caused it.
 * Case i is fully determined by (seed, i): `mutate(createRng(deriveSeed(seed, i)), seeds[i % seeds.length])`. */
import * as fs from "node:fs";
import * as path from "node:path";
import { createRng, deriveSeed } from "../../src/core/rng.ts";
import { mutate } from "./mutate.ts";
import { type Outcome, type Reference, readReference, runCase, writeFiles } from "./runCase.ts";
import { buildSeeds } from "./seeds.ts";

export interface WorkerTask {
  readonly seed: number;
  readonly from: number;
  readonly to: number;
  /** Scratch directory of this worker (one case directory at a time inside it). */
  readonly dir: string;
  /** Every how many cases to also analyze and convert. */
  readonly analyzeEvery: number;
  /** Peak resident set size (bytes) above which a case counts as using too much memory. */
  readonly rssCap: number;
}

export type WorkerMessage =
  | { readonly t: "start"; readonly i: number }
  | {
      readonly t: "done";
      readonly i: number;
      readonly seed: string;
      readonly outcome: Outcome;
      readonly steps?: string[];
    }
  | { readonly t: "memory"; readonly i: number; readonly seed: string; readonly rss: number }
  | { readonly t: "end" };

/** What the parent keeps of a case: the mutation steps only for failures (they are long). */
export function describeCase(seedName: string, steps: string[]): string {
  return `${seedName}: ${steps.join("; ")}`;
}

async function main(task: WorkerTask): Promise<void> {
  const send = (m: WorkerMessage) => process.send!(m);
  const seeds = buildSeeds();
  const refs = new Map<string, Reference>();
  fs.mkdirSync(task.dir, { recursive: true });
  for (const s of seeds) {
    if (!s.checksummed) continue;
    const d = path.join(task.dir, "reference");
    writeFiles(d, s.files);
    refs.set(s.name, readReference(d, s));
    fs.rmSync(d, { recursive: true, force: true });
  }
  const caseDir = path.join(task.dir, "case");
  for (let i = task.from; i < task.to; i++) {
    send({ t: "start", i });
    const seed = seeds[i % seeds.length];
    const { files, steps } = mutate(createRng(deriveSeed(task.seed, i)), seed);
    const heavy = i % task.analyzeEvery === 0;
    const outcome = await runCase(caseDir, seed, files, refs.get(seed.name) ?? null, {
      analyze: heavy,
      convert: heavy,
    });
    const failed = outcome.kind === "crash" || outcome.kind === "silent";
    send({ t: "done", i, seed: seed.name, outcome, ...(failed ? { steps } : {}) });
    const rss = process.resourceUsage().maxRSS * 1024;
    if (rss > task.rssCap) {
      // The peak only grows: report the case that crossed the cap and stop, the parent starts a fresh process.
      send({ t: "memory", i, seed: seed.name, rss });
      break;
    }
  }
  fs.rmSync(caseDir, { recursive: true, force: true });
  send({ t: "end" });
}

process.once("message", (task: WorkerTask) => {
  main(task).then(
    () => process.disconnect(),
    (err: unknown) => {
      process.stderr.write(`fuzz worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(70);
    },
  );
});
