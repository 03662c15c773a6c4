/** @file `reproduce galore-advice` end to end on its smoke budget, checked against independent computations: the
 * full-Adam arm is the plain trainer's run bit for bit (same seed ⇒ same initialisation and batches); each arm's
 * memory is the sum of galoreStateSize over the model's parameters for the recorded settings; the verdicts are
 * what the judge gives on the written JSON; the paired differences are recomputed by hand. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { meanInterval } from "../../src/core/index.ts";
import { createZooModel, galoreStateSize, train } from "../../src/lab/index.ts";
import { galoreAdviceBudget } from "../../src/reproduce/galore-advice/plan.ts";
import { judgeGaloreAdvice, pairedDifference } from "../../src/reproduce/galore-advice/judge.ts";
import type { ModelRecords } from "../../src/reproduce/galore-advice/run.ts";
import { reproduceGaloreAdvice } from "../../src/reproduce/index.ts";

const out = mkdtempSync(join(tmpdir(), "gradtrace-galore-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test("smoke: arms wired as stated, memory and verdicts recomputed from the records", async () => {
  const result = await reproduceGaloreAdvice({ outDir: out, budget: "smoke" });
  const budget = galoreAdviceBudget("smoke");
  expect(budget.seeds).toBeGreaterThanOrEqual(3);
  const json = JSON.parse(readFileSync(join(out, "galore-advice.json"), "utf8")) as {
    models: ModelRecords[];
    verdicts: unknown;
  };
  expect(json.verdicts).toEqual(JSON.parse(JSON.stringify(judgeGaloreAdvice(json.models))));
  expect(result.verdicts).toHaveLength(2 * budget.models.length);
  for (const m of json.models) {
    expect(m.runs).toHaveLength(budget.seeds * 3);
    const model = createZooModel(m.model);
    // Memory: full Adam is 2 numbers per parameter; the arms' memory follows from the recorded settings.
    expect(m.memory.adam).toBe(2 * m.parameterCount);
    const advice = Object.fromEntries(
      m.layers.filter((l) => l.projected).map((l) => [l.name, { rank: l.rank, interval: l.interval ?? 1 }]),
    );
    const uniform = Object.fromEntries(m.layers.map((l) => [l.name, m.uniform]));
    expect(m.memory.advice).toBe(
      model.params.reduce((s, p) => s + galoreStateSize(p.shape, advice[p.name]), 0),
    );
    expect(m.memory.uniform).toBe(
      model.params.reduce((s, p) => s + galoreStateSize(p.shape, uniform[p.name]), 0),
    );
    expect(m.memory.advice).toBeLessThan(m.memory.adam);
    // The full-Adam arm of seed 1 is the trainer's own Adam run.
    const plain = await train({ model, optimizer: "adam", steps: budget.steps, seed: 1 });
    expect(m.runs.find((r) => r.arm === "adam" && r.seed === 1)?.loss).toEqual(plain.loss);
    // Projected arms differ from it (projection changes the updates from the first step on).
    expect(m.runs.find((r) => r.arm === "advice" && r.seed === 1)?.loss).not.toEqual(plain.loss);
    // Paired difference by hand.
    const diffs = [0, 1, 2].map(
      (s) =>
        (m.runs.find((r) => r.arm === "advice" && r.seed === s)?.finalLoss ?? Number.NaN) -
        (m.runs.find((r) => r.arm === "uniform" && r.seed === s)?.finalLoss ?? Number.NaN),
    );
    const d = pairedDifference(m, "advice", "uniform");
    const ref = meanInterval(diffs);
    expect(d.mean).toBeCloseTo(ref.mean, 12);
    expect(d.hi).toBeCloseTo(ref.hi, 12);
  }
  const md = readFileSync(result.reportPath, "utf8");
  expect(md).toContain("## Verdicts");
  expect(md).toContain("Song, Ahn & Yun");
  expect(readFileSync(join(out, "galore-advice-vit.svg"), "utf8").startsWith("<svg")).toBe(true);
}, 180_000);
