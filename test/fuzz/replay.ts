/** @file Replays one fuzz case, and keeps it as a regression input:
 *
 *   npx tsx test/fuzz/replay.ts <seed> <case>            # prints the mutations and the outcome
 *   npx tsx test/fuzz/replay.ts <seed> <case> --save <name> [--note "why"]
 *
 * `--save` writes the mutated input to test/fixtures/fuzz-regressions/<name>/ with a case.json recording the seed
 * trace, the entry path, the mutations and the outcome the current code gives (what fuzz.test.ts then expects). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRng, deriveSeed } from "../../src/core/rng.ts";
import { mutate } from "./mutate.ts";
import { readReference, runCase, writeFiles } from "./runCase.ts";
import { buildSeeds } from "./seeds.ts";

export const REGRESSIONS = path.resolve(import.meta.dirname, "../fixtures/fuzz-regressions");

export interface RegressionCase {
  /** Name of the seed trace (as in seeds.ts). */
  readonly seed: string;
  readonly entry: string;
  readonly checksummed: boolean;
  readonly mutations: string[];
  /** The outcome the current code gives: for errors the code, for valid results how many (step, tensor) pairs
   * were refused as corrupt. */
  readonly expect: { readonly kind: "ok" | "error"; readonly code?: string; readonly corrupt?: number };
  readonly note: string;
}

async function main(argv: string[]): Promise<void> {
  const [seedText, caseText] = argv;
  const save = argv.indexOf("--save");
  const noteAt = argv.indexOf("--note");
  const seeds = buildSeeds();
  const i = Number(caseText);
  const seed = seeds[i % seeds.length];
  const { files, steps } = mutate(createRng(deriveSeed(Number(seedText), i)), seed);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-replay-"));
  try {
    writeFiles(path.join(dir, "ref"), seed.files);
    const ref = seed.checksummed ? readReference(path.join(dir, "ref"), seed) : null;
    const outcome = await runCase(path.join(dir, "case"), seed, files, ref, { analyze: true, convert: true });
    process.stdout.write(`${seed.name}: ${steps.join("; ")}\n${JSON.stringify(outcome, null, 1)}\n`);
    if (save >= 0) {
      if (outcome.kind !== "ok" && outcome.kind !== "error")
        throw new Error(`the case still fails (${outcome.kind}): fix it before saving it as a regression`);
      const out = path.join(REGRESSIONS, argv[save + 1]);
      writeFiles(path.join(out, "files"), files);
      const record: RegressionCase = {
        seed: seed.name,
        entry: seed.entry,
        checksummed: seed.checksummed,
        mutations: steps,
        expect:
          outcome.kind === "error"
            ? { kind: "error", code: outcome.code }
            : { kind: "ok", corrupt: outcome.corrupt },
        note: noteAt >= 0 ? argv[noteAt + 1] : `fuzz seed ${seedText}, case ${i}`,
      };
      fs.writeFileSync(path.join(out, "case.json"), `${JSON.stringify(record, null, 1)}\n`);
      process.stdout.write(`saved ${out}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await main(process.argv.slice(2));
}
