/** @file The fuzz suite (issue 15): 10,000 mutated inputs per run (GRADTRACE_FUZZ_CASES widens it,
 * GRADTRACE_FUZZ_SEED explores other cases) across every layout, manifests, sketched traces and the Python writers'
 * outputs, run in worker processes under a memory limit with a per-case deadline. Every case must end in a coded
 * GradtraceError or a valid result — no uncaught exception, no hang, no memory beyond the cap — and no checksummed
 * (gtrace) input may read back changed values without a report. Inputs that once failed are kept in
 * test/fixtures/fuzz-regressions/ and replayed here in process (see test/fuzz/replay.ts to add one). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runFuzz } from "./driver.ts";
import { REGRESSIONS, type RegressionCase } from "./replay.ts";
import { readReference, runCase, writeFiles } from "./runCase.ts";
import { buildSeeds, readTree } from "./seeds.ts";

const CASES = Number(process.env.GRADTRACE_FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.GRADTRACE_FUZZ_SEED ?? 20261201);

describe("fuzzing the trace readers", () => {
  it(`${CASES} mutated traces (seed ${SEED}) each end in a coded error or a valid, unchanged result`, async () => {
    const report = await runFuzz({ seed: SEED, cases: CASES });
    const shown = report.failures
      .slice(0, 20)
      .map(
        (f) =>
          `case ${f.i} (${f.kind}, ${f.seed}): ${f.detail.split("\n").slice(0, 4).join(" | ")}${f.steps ? ` ← ${f.steps.join("; ")}` : ""}`,
      )
      .join("\n");
    expect(report.failures, `replay with: npx tsx test/fuzz/replay.ts ${SEED} <case>\n${shown}`).toEqual([]);
    expect(report.cases).toBe(CASES);
    // The inputs reached the readers' deep paths: every seed produced valid results and refusals, and corrupt
    // gtrace payloads were caught by their checksums (not merely by broken headers).
    for (const [name, s] of Object.entries(report.bySeed)) {
      expect(s.ok, `${name}: no mutated input was still readable`).toBeGreaterThan(0);
      expect(s.error, `${name}: no mutated input was refused`).toBeGreaterThan(0);
    }
    expect(Object.keys(report.bySeed).length).toBe(buildSeeds().length);
    expect(report.corruptionCaught).toBeGreaterThan(0);
  }, 600_000);
});

describe("fuzz regression corpus", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-fuzz-regressions-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const names = fs.existsSync(REGRESSIONS) ? fs.readdirSync(REGRESSIONS).sort() : [];
  const seeds = buildSeeds();

  it("holds inputs that once failed", () => {
    expect(names.length).toBeGreaterThan(0);
  });

  it.each(names)("%s", async (name) => {
    const record = JSON.parse(
      fs.readFileSync(path.join(REGRESSIONS, name, "case.json"), "utf8"),
    ) as RegressionCase;
    const seed = seeds.find((s) => s.name === record.seed);
    expect(seed, `seed ${record.seed}`).toBeDefined();
    writeFiles(path.join(dir, `${name}-ref`), seed!.files);
    const ref = seed!.checksummed ? readReference(path.join(dir, `${name}-ref`), seed!) : null;
    const files = readTree(path.join(REGRESSIONS, name, "files"));
    const outcome = await runCase(path.join(dir, name), seed!, files, ref, { analyze: true, convert: true });
    const got =
      outcome.kind === "error"
        ? { kind: "error", code: outcome.code }
        : outcome.kind === "ok"
          ? { kind: "ok", corrupt: outcome.corrupt }
          : { kind: outcome.kind };
    expect(got, JSON.stringify(outcome)).toEqual(record.expect);
  });
});
