/** @file A trace with a NaN step and logged step numbers that are not positions (every 10th step): the analysis
 * returns the logged numbers of the steps it kept and, when asked, the Gram it used (checked against inner products
 * computed directly from the gradients written); the server's series and heatmap columns carry logged step numbers,
 * not positions. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeWithSeries } from "../../src/analysis/index.ts";
import type { HeatmapJson, SeriesResponse } from "../../src/serve/api-types.ts";
import { traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { rawGet } from "./http.ts";
import { makeGradients, SMALL_MODEL } from "./traces.ts";

const STEPS = Array.from({ length: 14 }, (_, i) => 10 * i);
const NAN_STEP = 50;
const KEPT = STEPS.filter((s) => s !== NAN_STEP);
let dir: string;
let file: string;
let server: RunningServer;
/** The gradients as written, by logged step (the generator draws fresh noise on every call). */
const written = new Map<number, Record<string, Float32Array>>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-dropped-"));
  file = path.join(dir, "nan.gtrace");
  const w = createGtraceWriter(file, { tensors: SMALL_MODEL, fsync: "none" });
  const grad = makeGradients({ tensors: SMALL_MODEL, seed: 11 });
  for (const s of STEPS) {
    const g = grad(s);
    written.set(s, g);
    if (s === NAN_STEP) g["conv1.bias"][1] = Number.NaN;
    w.append(s, g);
  }
  w.close();
  server = await startServer({ path: dir, webDir: null, pollMs: 50, engine: traceEngine });
  await server.store.idle();
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("dropped steps", () => {
  it("analyzeWithSeries returns the logged steps it kept and, when asked, the Gram of those steps", async () => {
    const reader = openTrace(file);
    try {
      const out = await analyzeWithSeries(reader, { predictors: ["zero", "last"], gram: true });
      expect(out.stepIndices).toEqual(KEPT);
      expect(out.result.trace.steps).toBe(KEPT.length);
      expect(out.result.trace.problems).toEqual([
        {
          kind: "nonfinite",
          step: 50,
          message: expect.stringMatching(/NaN\/Inf gradients were excluded: 50/),
        },
      ]);
      expect(out.series.get("total")!.gradNormSq.length).toBe(KEPT.length);
      // The Gram against inner products of the gradients as written (float32 values, summed in float64).
      const gram = out.gram!;
      expect([...gram.tensors.keys()].sort()).toEqual(SMALL_MODEL.map((t) => t.name).sort());
      expect(gram.total.rows).toBe(KEPT.length);
      for (let i = 0; i < KEPT.length; i++) {
        for (let j = 0; j < KEPT.length; j++) {
          const a = written.get(KEPT[i])!;
          const b = written.get(KEPT[j])!;
          let dot = 0;
          for (const t of SMALL_MODEL)
            for (let k = 0; k < a[t.name].length; k++) dot += a[t.name][k] * b[t.name][k];
          expect(Math.abs(gram.total.data[i * gram.total.cols + j] - dot)).toBeLessThanOrEqual(
            1e-12 * Math.max(1, Math.abs(dot)),
          );
        }
      }
      const plain = await analyzeWithSeries(reader, { predictors: ["zero", "last"] });
      expect(plain.gram).toBeUndefined();
      expect(plain.stepIndices).toEqual(KEPT);
    } finally {
      reader.close();
    }
  });

  it("the dashboard's series and heatmap columns are labelled with logged step numbers", async () => {
    const get = (p: string) => rawGet(server.port, p);
    const series = (await get("/api/runs/nan-gtrace/tensors/%40total/series")).json<SeriesResponse>();
    expect(series.stepIndices).toEqual(KEPT);
    expect(series.gradNorm.length).toBe(KEPT.length);
    const perStep = (await get("/api/runs/nan-gtrace/heatmap?metric=gradNorm")).json<HeatmapJson>();
    expect(perStep.starts).toEqual(KEPT.map((_, i) => i));
    expect(perStep.firstStep).toEqual(KEPT);
    expect(perStep.lastStep).toEqual(KEPT);
    const windows = (
      await get("/api/runs/nan-gtrace/heatmap?metric=kappa&predictor=last")
    ).json<HeatmapJson>();
    expect(windows.span).toBeGreaterThan(1);
    expect(windows.firstStep).toEqual(windows.starts.map((p) => KEPT[p]));
    expect(windows.lastStep).toEqual(
      windows.starts.map((p) => KEPT[Math.min(p + windows.span, KEPT.length) - 1]),
    );
    // A window across the dropped step spans more logged steps than the window has positions.
    const across = windows.starts.findIndex(
      (p) => KEPT[p] < NAN_STEP && KEPT[p + windows.span - 1] > NAN_STEP,
    );
    expect(across).toBeGreaterThanOrEqual(0);
    expect(windows.lastStep[across] - windows.firstStep[across]).toBe(10 * windows.span);
  });
});
