/** @file Layer geometry without full gradients, checked against the full gradients of the same run: a PyTorch MLP
 * logged in full *and* with range sketches Y_t = G_t·Ω (matrix_sketch = 32) in one file; the exact geometry
 * (matrixGeometry: SVDs of the gradients) and the range-sketch estimate (rangeGeometry: randomized range finder,
 * jackknife error) are compared number by number — top singular values at sampled steps, stale-projector energy and
 * subspace drift per refresh interval. The stated error is an estimate with ≈95% nominal coverage, so the test asks
 * for ≥ 85% of the numbers inside their stated error and every one inside three times it. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { matrixGeometry } from "../../src/analysis/matrixGeometry.ts";
import { rangeGeometry } from "../../src/analysis/rangeGeometry.ts";
import { openTrace, type TraceReader } from "../../src/trace/index.ts";
import { describeTorch, runPython } from "./harness.ts";

describeTorch("range-sketch geometry vs exact geometry on a real PyTorch run", () => {
  let dir: string;
  let reader: TraceReader;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-geo-"));
    runPython([
      "test/python/train_mlp.py",
      dir,
      "--sizes",
      "256,128,96,10",
      "--steps",
      "28",
      "--full",
      "--matrix-sketch",
      "32",
    ]);
    reader = openTrace(path.join(dir, "full.gtrace"));
  }, 600_000);
  afterAll(() => {
    reader?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("estimates cover the exact values within their stated error", { timeout: 600_000 }, () => {
    const rs = reader.info.rangeSketch!;
    expect(rs.s).toBe(32);
    expect(rs.tensors.map((t) => t.name)).toEqual(["0.weight", "2.weight", "4.weight"]);
    expect(reader.info.steps.length).toBe(28);
    const kept = reader.info.steps.map((_, i) => i);
    let inside = 0;
    let total = 0;
    let worst = 0;
    const lines: string[] = [];
    for (const t of reader.info.tensors.filter((x) => x.shape.length === 2)) {
      const exact = matrixGeometry(reader, t, kept, { drift: true })!;
      const est = rangeGeometry(reader, t.name, kept)!;
      expect(est.source).toBe("rangeSketch");
      expect(est.at).toEqual(exact.at);
      expect(est.staleEnergy.delta).toEqual(exact.staleEnergy.delta);
      const compare = (what: string, a: number, b: number, err: number): void => {
        const ratio = Math.abs(a - b) / err;
        total++;
        if (ratio <= 1) inside++;
        worst = Math.max(worst, ratio);
        expect(Number.isFinite(err) && err > 0, `${t.name} ${what}`).toBe(true);
      };
      const top = Math.min(4, est.singularValues[0].length);
      exact.singularValues.forEach((sv, i) => {
        for (let j = 0; j < top; j++)
          compare(`σ${j + 1}@${i}`, est.singularValues[i][j], sv[j], est.error!.singularValues[i][j]);
      });
      // Same projector rank on both sides (capped by the layer's rows).
      expect(est.staleEnergy.k).toBe(exact.staleEnergy.k);
      exact.staleEnergy.energy.forEach((e, j) => {
        compare(
          `stale Δ=${exact.staleEnergy.delta[j]}`,
          est.staleEnergy.energy[j],
          e,
          est.error!.staleEnergy[j],
        );
      });
      exact.drift!.value.forEach((d, j) => {
        compare(`drift Δ=${exact.drift!.delta[j]}`, est.drift!.value[j], d, est.error!.drift[j]);
      });
      lines.push(
        `${t.name} ${t.shape.join("×")}: stale energy exact ${exact.staleEnergy.energy.map((x) => x.toFixed(3)).join(" ")} | sketch ${est.staleEnergy.energy.map((x, j) => `${x.toFixed(3)}±${est.error!.staleEnergy[j].toFixed(3)}`).join(" ")}`,
      );
    }
    console.log(`${lines.join("\n")}\ncoverage ${inside}/${total}, worst |error|/stated ${worst.toFixed(2)}`);
    expect(inside / total).toBeGreaterThanOrEqual(0.85);
    expect(worst).toBeLessThanOrEqual(3);
  });
});
