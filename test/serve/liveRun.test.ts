/** @file LiveRun (src/serve/live.ts) on a long catch-up: the first event of a run longer than one event carries
 * only its latest steps (and the windows closing among them), yet its running κ covers every step — equal to a
 * direct analyze() — and the next event continues exactly where it stopped. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeWithSeries } from "../../src/analysis/index.ts";
import { LiveRun } from "../../src/serve/live.ts";
import { openTrace } from "../../src/trace/index.ts";
import { SMALL_MODEL, writeTrace } from "./traces.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-liverun-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const OPTIONS = { predictors: ["zero", "last"], window: 8, eps: [0.1] };
const STEPS = 700;
/** Steps per event for 3 tensors + total and 2 predictors with room for 1,200 numbers: 1,200 / 6 (the server's
 * default, LIVE_EVENT_VALUES, gives 4,096 here). */
const CAP = 200;

describe("LiveRun catch-up", () => {
  it("carries the latest steps of a long catch-up, with κ over all of them, then continues", async () => {
    const file = path.join(dir, "long.gtrace");
    const trace = writeTrace(file, { tensors: SMALL_MODEL, seed: 8 }, STEPS, { keepOpen: true });
    const live = new LiveRun({ absPath: file, analyzeOptions: OPTIONS, eventValues: 1200 });
    try {
      const first = (await live.advance())!;
      expect(first).toMatchObject({ from: STEPS - CAP, steps: STEPS, added: STEPS });
      expect(first.gradNorm).toHaveLength(CAP);
      expect(first.stepIndices[0]).toBe(STEPS - CAP);
      const reader = openTrace(file);
      const want = await analyzeWithSeries(reader, { ...OPTIONS, mode: "streaming" });
      reader.close();
      for (const id of OPTIONS.predictors) {
        expect(Math.abs(first.kappa[id]! - want.result.total.kappa[id])).toBeLessThanOrEqual(
          1e-9 * want.result.total.kappa[id],
        );
        want.result.tensors.forEach((t, i) => {
          expect(Math.abs(first.tensors[i].kappa[id]! - t.kappa[id])).toBeLessThanOrEqual(1e-9 * t.kappa[id]);
        });
      }
      // Windows (size 8, stride 4) ending after the first step carried: starts from (from − 7) rounded up to 4.
      const firstStart = Math.ceil((STEPS - CAP - 7) / 4) * 4;
      expect(first.windows.starts[0]).toBe(firstStart);
      expect(first.windows.starts[first.windows.starts.length - 1]).toBe(STEPS - 8);
      const w = want.result.total.windows!;
      const k0 = w.starts.indexOf(firstStart);
      first.windowKappa.last.forEach((v, j) => {
        expect(Math.abs(v! - w.kappa.last[k0 + j])).toBeLessThanOrEqual(
          1e-9 * Math.abs(w.kappa.last[k0 + j]),
        );
      });
      expect(first.windowRank["0.1"]).toEqual(w.predictableRank["0.1"].slice(k0));

      for (let s = STEPS; s < STEPS + 5; s++) trace.writer.append(s, trace.grad(s));
      const next = (await live.advance())!;
      expect(next).toMatchObject({ from: STEPS, steps: STEPS + 5, added: 5 });
      expect(next.stepIndices).toEqual([STEPS, STEPS + 1, STEPS + 2, STEPS + 3, STEPS + 4]);
      // One more window closed: [STEPS − 4, STEPS + 4).
      expect(next.windows.starts).toEqual([STEPS - 4]);
      expect(await live.advance()).toBeNull();
    } finally {
      live.close();
      trace.writer.close();
    }
  });
});
