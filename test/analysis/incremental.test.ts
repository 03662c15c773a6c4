/** @file The streaming analysis fed step by step (IncrementalAnalysis, serve's live mode) against `analyzeWithSeries`
 * on the same trace: a writer appends steps (one of them NaN) while the incremental analysis follows through
 * `refresh()`; at every stop its output equals a fresh analysis of the trace so far whenever that analysis streams,
 * its per-step numbers equal the output's series, and its windows are the result's windows. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeWithSeries, IncrementalAnalysis } from "../../src/analysis/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-incremental-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SHAPES: Record<string, number[]> = { "a.weight": [4, 5], "b.bias": [3] };
const OPTIONS = {
  predictors: ["zero", "last", "ema0.9", "linear", "ar2", "lowrank2w6"],
  window: 8,
  exactMaxSteps: 20,
  fdRows: 4,
  matrixGeometry: true,
} as const;

/** A writer of two tensors: a rotating rank-2 signal plus noise; step `nanAt` has a NaN in the first tensor. */
function growingTrace(file: string, nanAt: number) {
  const rng = createRng(3);
  const names = Object.keys(SHAPES);
  const numel = (n: string) => SHAPES[n].reduce((a, b) => a * b, 1);
  const basis = names.map((n) =>
    [0, 1].map(() => Float64Array.from({ length: numel(n) }, () => rng.normal())),
  );
  const writer = createGtraceWriter(file, {
    tensors: names.map((name) => ({ name, shape: SHAPES[name] })),
    fsync: "none",
  });
  let next = 0;
  return {
    writer,
    append(count: number) {
      for (let k = 0; k < count; k++, next++) {
        const t = next;
        const step: Record<string, Float32Array> = {};
        names.forEach((n, j) => {
          const g = new Float32Array(numel(n));
          for (let i = 0; i < g.length; i++) {
            g[i] =
              Math.cos(0.3 * t + j) * basis[j][0][i] +
              Math.sin(0.11 * t) * basis[j][1][i] +
              0.1 * rng.normal();
          }
          if (t === nanAt && j === 0) g[2] = Number.NaN;
          step[n] = g;
        });
        // Logged every 10th step from 1000: positions are not step numbers.
        writer.append(1000 + 10 * t, step);
      }
    },
  };
}

describe("IncrementalAnalysis", () => {
  it("equals analyzeWithSeries on the steps so far once that streams, and reads each position once", async () => {
    const file = path.join(dir, "grow.gtrace");
    const trace = growingTrace(file, 13);
    trace.append(12);
    const reads: number[] = [];
    const inner = openTrace(file);
    const reader = {
      ...inner,
      get info() {
        return inner.info;
      },
      readTensor: (pos: number, name: string) => {
        reads.push(pos);
        return inner.readTensor(pos, name);
      },
      refresh: () => inner.refresh!(),
      close: () => inner.close(),
    };
    const inc = new IncrementalAnalysis(reader, OPTIONS);
    try {
      for (const add of [0, 9, 1, 14, 5]) {
        trace.append(add);
        reader.refresh();
        reads.length = 0;
        const before = inc.positions;
        inc.advance();
        const n = reader.info.steps.length;
        expect(inc.positions).toBe(n);
        // Only the new positions were read, each once per tensor.
        expect([...reads].sort((a, b) => a - b)).toEqual(
          Array.from({ length: 2 * (n - before) }, (_, i) => before + Math.floor(i / 2)),
        );
        const fresh = openTrace(file);
        const want = await analyzeWithSeries(fresh, OPTIONS);
        fresh.close();
        expect(inc.matchesAnalyze()).toBe(want.result.mode === "streaming");
        expect(inc.steps).toBe(want.result.trace.steps);
        expect(inc.acceptedSteps(0)).toEqual(want.stepIndices);
        // The per-step numbers of every track, read by range, are those of the analysis' series.
        const names = [...inc.tensors, "total"];
        names.forEach((name, track) => {
          const got = inc.seriesRange(track, 0, inc.steps);
          const s = want.series.get(name)!;
          for (const id of OPTIONS.predictors) {
            got.error[id].forEach((v, t) => {
              expect(Math.abs(v - s.error[id][t])).toBeLessThanOrEqual(1e-9 * Math.max(1, s.gradNormSq[t]));
            });
          }
          if (want.result.mode === "streaming") {
            expect(Array.from(got.gradNormSq)).toEqual(Array.from(s.gradNormSq));
          } else {
            // The exact mode's ‖g_t‖² is the Gram kernel's diagonal: another summation order (wasm SIMD lanes).
            got.gradNormSq.forEach((v, t) => {
              expect(Math.abs(v - s.gradNormSq[t])).toBeLessThanOrEqual(1e-12 * s.gradNormSq[t]);
            });
          }
        });
        if (want.result.mode === "streaming") {
          const got = inc.output();
          // Same code, same order of arithmetic: equal, not merely close (JSON: NaN as null on both sides).
          expect(JSON.parse(JSON.stringify(got.result))).toEqual(JSON.parse(JSON.stringify(want.result)));
          expect(got.stepIndices).toEqual(want.stepIndices);
          // Windows closed so far are the result's windows, in order.
          const closed = inc.closedWindows(0);
          expect(closed.starts).toEqual(want.result.total.windows!.starts);
          expect(closed.predictableRank[2][0]).toEqual(want.result.total.windows!.predictableRank["0.1"]);
        }
      }
      expect(inc.matchesAnalyze()).toBe(true);
      expect(inc.steps).toBe(40); // 41 positions, one NaN
    } finally {
      reader.close();
      trace.writer.close();
    }
  });

  it("refuses what the streaming mode refuses, with the streaming mode's message", () => {
    const file = path.join(dir, "small.gtrace");
    const trace = growingTrace(file, -1);
    trace.append(3);
    trace.writer.close();
    const reader = openTrace(file);
    try {
      expect(() => new IncrementalAnalysis(reader, { sketch: "fd:8" })).toThrow(
        /Frequent Directions over the coordinates/,
      );
      expect(() => new IncrementalAnalysis(reader, { eps: [2] })).toThrow(/eps 2/);
    } finally {
      reader.close();
    }
  });
});
