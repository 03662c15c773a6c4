/** @file The reproduction pipeline end to end on its "smoke" budget, checked against closed forms: for full-batch
 * SGD on the low-rank regression the increments have rank ≤ q = 3 (docs/zoo.md), so r*(ε) ≤ 3 at every T; κ of the
 * zero predictor is exactly 1; sketched κ stays within the sketch's stated bound. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { LOW_RANK_SHAPE } from "../../src/lab/zoo/models/linear.ts";
import { reproducePredictableManifolds } from "../../src/reproduce/index.ts";

const out = mkdtempSync(join(tmpdir(), "gradtrace-repro-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test("smoke reproduction: closed-form ranks, κ(zero) = 1, sketch within bound, files written", async () => {
  const result = await reproducePredictableManifolds({ outDir: out, budget: "smoke" });
  for (const run of result.runs) expect(run.kappa.zero).toBeCloseTo(1, 12);
  const sgd = result.runs.filter((r) => r.model === "lowrank" && r.optimizer === "sgd");
  expect(sgd.length).toBeGreaterThan(0);
  for (const run of sgd) {
    for (const eps of ["0.1", "0.01"]) {
      expect(run.predictableRank[eps]).toBeLessThanOrEqual(LOW_RANK_SHAPE.distinctEigenvalues);
      for (const r of run.prefixRank[eps]) expect(r).toBeLessThanOrEqual(LOW_RANK_SHAPE.distinctEigenvalues);
    }
  }
  for (const cell of result.cells) expect(cell.sketchKappaError).toBeLessThanOrEqual(cell.sketchErrorBound);
  const json = JSON.parse(readFileSync(result.files.json, "utf8")) as { cells: unknown[]; runs: unknown[] };
  expect(json.runs).toHaveLength(result.runs.length);
  expect(readFileSync(result.files.markdown, "utf8")).toContain("## Verdicts");
  for (const f of result.files.figures) expect(readFileSync(f, "utf8").startsWith("<svg")).toBe(true);
  expect(existsSync(join(out, "predictable-manifolds-rank.svg"))).toBe(true);
});
