/** @file The acceptance test: a PyTorch MLP (≈2M parameters) trained 60 steps with two GradientLoggers on one
 * optimizer — countsketch:512 and full gradients, so both record the very same run — and both traces analysed by
 * `gradtrace analyze`: κ(last) from the sketches agrees with the exact κ(last) within the bound the sketched analysis
 * states (analysis/sketchBounds.ts), and the bound itself is informative (well below 1). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { AnalysisResult } from "../../src/analysis/index.ts";
import { main } from "../../src/cli/main.ts";
import { describeTorch, runPython } from "./harness.ts";

async function analyzeJson(trace: string, out: string): Promise<AnalysisResult> {
  const quiet = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    const code = await main(["node", "gradtrace", "analyze", trace, "--json", out, "--no-matrix", "-q"]);
    expect(code).toBe(0);
  } finally {
    quiet.mockRestore();
  }
  return JSON.parse(fs.readFileSync(out, "utf8")) as AnalysisResult;
}

describeTorch("PyTorch MLP, 60 steps: sketched vs full κ through gradtrace analyze", () => {
  let dir: string;
  let run: { params: number; bytes: { sketch: number; full: number } };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "gt-mlp-"));
    const out = runPython([
      "test/python/train_mlp.py",
      dir,
      "--sizes",
      "784,1536,512,10",
      "--steps",
      "60",
      "--sketch",
      "countsketch:512",
      "--full",
      "--momentum",
    ]);
    run = JSON.parse(out.trim().split("\n").at(-1)!);
  }, 900_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("κ(last) agrees within the stated bound; momentum predictor on the sketched run too", {
    timeout: 900_000,
  }, async () => {
    expect(run.params).toBeGreaterThan(1.9e6);
    expect(run.params).toBeLessThan(2.1e6);
    const full = await analyzeJson(path.join(dir, "full.gtrace"), path.join(dir, "full.json"));
    const sk = await analyzeJson(path.join(dir, "sketch.gtrace"), path.join(dir, "sketch.json"));
    expect(full.trace.steps).toBe(60);
    expect(sk.trace.steps).toBe(60);
    expect(full.total.sketch).toBeUndefined();
    const report = sk.total.sketch!;
    expect(report).toMatchObject({ kind: "countsketch", k: 512, confidence: 0.95 });
    const bound = report.kappaBound!.last;
    const exact = full.total.kappa.last;
    const sketched = sk.total.kappa.last;
    const relError = Math.abs(sketched - exact) / exact;
    console.log(
      `MLP ${run.params} params, 60 steps: κ(last) full ${exact.toFixed(4)}, countsketch:512 ${sketched.toFixed(4)}, ` +
        `relative error ${relError.toExponential(2)}, stated bound ${bound.toFixed(3)} (95%); ` +
        `bytes written: sketch ${run.bytes.sketch}, full ${run.bytes.full}`,
    );
    expect(relError).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThan(0.5);
    // Every fixed-coefficient predictor gets a bound, and each holds here too (95% statements, 60 steps).
    for (const [id, b] of Object.entries(report.kappaBound!)) {
      const e = Math.abs(sk.total.kappa[id] - full.total.kappa[id]) / full.total.kappa[id];
      expect(e, id).toBeLessThanOrEqual(b);
    }
    expect(report.kappaBound!.ar2).toBeUndefined();
    // The momentum buffers were logged with the gradients' sketch: the momentum predictor runs on both.
    expect(full.options.predictors).toContain("momentum");
    expect(sk.options.predictors).toContain("momentum");
    const em = Math.abs(sk.total.kappa.momentum - full.total.kappa.momentum) / full.total.kappa.momentum;
    expect(em).toBeLessThanOrEqual(report.kappaBound!.momentum);
    // The sketch is ~640× smaller per step here (k = 512 per tensor instead of the tensor).
    expect(run.bytes.sketch * 100).toBeLessThan(run.bytes.full);
  });
});
