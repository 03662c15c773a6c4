/** @file Same sketch in both languages: tensors sketched by the Python logger (torch, on the tensor's device) equal
 * createSketch({ kind, k, seed: tensorSketchSeed(seed, name), dim }) applied in TypeScript to the same values —
 * exactly for integer-valued inputs (every float32 partial sum is exact; sparse JL only rounds its final 1/√s
 * scale), and within float32 summation error for normal floats — for CountSketch and sparse JL, power-of-two and
 * other k, and non-ASCII names. The full trace written alongside provides the values. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSketch, parseSketchSpec, tensorSketchSeed } from "../../src/core/index.ts";
import { openTrace } from "../../src/trace/index.ts";
import { describeTorch, runPython } from "./harness.ts";

const SEED = 11;

describeTorch("cross-language sketches (Python logger vs TypeScript createSketch)", () => {
  let dir: string;
  let files: { values: string; sketch: string | null; file: string }[];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-cross-"));
    files = JSON.parse(runPython(["test/python/sketch_values.py", dir, String(SEED)]).trim());
  }, 300_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("countsketch and sparse JL agree to float32 rounding", () => {
    let compared = 0;
    for (const kind of ["int", "float"]) {
      const full = openTrace(path.join(dir, files.find((f) => f.values === kind && f.sketch === null)!.file));
      for (const f of files.filter((x) => x.values === kind && x.sketch !== null)) {
        const sk = openTrace(path.join(dir, f.file));
        const { kind: sketchKind, k } = parseSketchSpec(f.sketch!);
        expect(sk.info.sketch).toMatchObject({ kind: sketchKind, k, seed: SEED, seeding: "name" });
        for (const t of full.info.tensors) {
          const x = full.readTensor(0, t.name);
          const s = createSketch({ kind: sketchKind, k, seed: tensorSketchSeed(SEED, t.name), dim: t.numel });
          const ts = s.apply(x);
          const py = sk.readTensor(0, t.name);
          const nz = sketchKind === "sparsejl" ? (sk.info.sketch!.s ?? 1) : 1;
          let maxAbs = 0;
          for (const v of x) maxAbs = Math.max(maxAbs, Math.abs(v));
          // Worst-case float32 summation error of a row: (terms)·2⁻²⁴·Σ|terms|, with terms ≤ 2·numel·s/k (a row
          // twice as full as the mean) each ≤ max|x|. Integer inputs sum exactly in float32; then only the rounding
          // of the final scale (Python) and of TypeScript's float64 sum of ±x/√s terms remain.
          const terms = Math.ceil((2 * t.numel * nz) / k) + 1;
          for (let i = 0; i < k; i++) {
            const tol =
              kind === "int"
                ? 2 ** -22 * Math.abs(ts[i]) + terms * terms * 2 ** -52 * maxAbs
                : terms * terms * 2 ** -24 * maxAbs + 2 ** -22 * Math.abs(ts[i]);
            expect(Math.abs(py[i] - ts[i]), `${f.file} ${t.name}[${i}]`).toBeLessThanOrEqual(tol);
            if (kind === "int" && nz === 1) expect(py[i]).toBe(ts[i]);
          }
          compared++;
        }
        sk.close();
      }
      full.close();
    }
    expect(compared).toBe(2 * 4 * 4);
  });
});
