/** @file The block passes on worker threads (src/parallel via analysis/taskRunner.ts) give exactly the numbers of
 * one thread: the exact pass's per-tensor Grams (ranges' Grams added in range order) and the sketched pass's rows,
 * compared bit for bit, on a gtrace file and a safetensors directory with float32, float16 and float64 tensors,
 * several ranges per tensor, lengths that are not multiples of anything, and a step holding NaN. The one-thread
 * Gram is also checked against brute-force dot products (float64 bound), so "identical" is identical to a right
 * answer. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accumulateGrams, planGramTasks, TASK_COORDINATES } from "../../src/analysis/gramPass.ts";
import { sketchGrams } from "../../src/analysis/sketchPass.ts";
import { inProcessRunner, type TaskRunner, workerRunner } from "../../src/analysis/taskRunner.ts";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter, openTrace, type TraceReader, writeSafetensors } from "../../src/trace/index.ts";

const STEPS = 9;
const NAN_STEP = 4;
const SHAPES: Record<string, number[]> = {
  big: [2 * TASK_COORDINATES + 1001], // two ranges of 150 000 (blocks of 50 000), 3 blocks each
  mat: [37, 53],
  one: [1],
};

function makeSteps(): Record<string, Float32Array>[] {
  const rng = createRng(77);
  return Array.from({ length: STEPS }, (_, t) => {
    const step: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(SHAPES)) {
      const n = shape.reduce((a, b) => a * b, 1);
      step[name] = Float32Array.from({ length: n }, () => rng.normal());
    }
    if (t === NAN_STEP) step.big[TASK_COORDINATES + 5] = Number.NaN;
    return step;
  });
}

let dir: string;
let gtrace: string;
let stDir: string;
let data: Record<string, Float32Array>[];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-parallel-"));
  data = makeSteps();
  gtrace = path.join(dir, "run.gtrace");
  const w = createGtraceWriter(gtrace, {
    tensors: Object.entries(SHAPES).map(([name, shape]) => ({ name, shape })),
    fsync: "none",
  });
  data.forEach((step, t) => {
    w.append(t, step);
  });
  w.close();
  stDir = path.join(dir, "st");
  fs.mkdirSync(stDir);
  data.forEach((step, t) => {
    writeSafetensors(path.join(stDir, `step_${String(t).padStart(6, "0")}.safetensors`), {
      big: { dtype: "F32", shape: SHAPES.big, data: step.big },
      mat: { dtype: "F16", shape: SHAPES.mat, data: step.mat },
      one: { dtype: "F64", shape: SHAPES.one, data: Float64Array.from(step.one) },
    });
  });
});

/** One reader and one 2-thread pool per layout, shared by the tests (starting workers is the slow part). */
const opened = new Map<string, { reader: TraceReader; pool: TaskRunner }>();
function layout(name: string): { reader: TraceReader; pool: TaskRunner } {
  let o = opened.get(name);
  if (!o) {
    const reader = openTrace(name === "gtrace" ? gtrace : stDir);
    o = { reader, pool: workerRunner(reader, 2) };
    opened.set(name, o);
  }
  return o;
}

afterAll(async () => {
  for (const { reader, pool } of opened.values()) {
    await pool.close();
    reader.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

async function withRunners<T>(
  name: string,
  fn: (reader: TraceReader, runner: TaskRunner) => Promise<T>,
): Promise<[T, T]> {
  const { reader, pool } = layout(name);
  return [await fn(reader, inProcessRunner(reader)), await fn(reader, pool)];
}

describe("block passes on worker threads equal one thread, bit for bit", () => {
  it.each(["gtrace", "safetensors-dir"])(
    "exact pass (%s): per-tensor Grams and the NaN step",
    async (name) => {
      const { reader } = layout(name);
      {
        const tensors = Object.keys(SHAPES);
        // A small block budget: several blocks per range as well as several ranges per tensor.
        const [a, b] = await withRunners(name, (r, runner) =>
          accumulateGrams(r, { tensors, memoryBytes: 8 * STEPS * 50_000, runner }),
        );
        expect(planGramTasks([{ name: "big", numel: SHAPES.big[0] }], [0], 50_000, "wasm").length).toBe(2);
        expect(a.nonFiniteSteps).toEqual([NAN_STEP]);
        expect(b.nonFiniteSteps).toEqual(a.nonFiniteSteps);
        for (const name of tensors) {
          expect(Array.from(b.grams.get(name)!.data), name).toEqual(Array.from(a.grams.get(name)!.data));
        }
        // And the one-thread Gram is right: brute force over the kept steps (as the file holds them: f16 rounded).
        const kept = data.map((_, t) => t).filter((t) => t !== NAN_STEP);
        for (const name of tensors) {
          const k = a.grams.get(name)!;
          const vecs = kept.map((t) => {
            const v = new Float64Array(reader.info.tensors.find((x) => x.name === name)!.numel);
            reader.readSlice(t, name, 0, v.length, v);
            return v;
          });
          for (let s = 0; s < kept.length; s++) {
            for (let t = 0; t < kept.length; t++) {
              let dot = 0;
              let abs = 0;
              for (let c = 0; c < vecs[s].length; c++) {
                dot += vecs[s][c] * vecs[t][c];
                abs += Math.abs(vecs[s][c] * vecs[t][c]);
              }
              expect(Math.abs(k.data[s * kept.length + t] - dot)).toBeLessThanOrEqual(
                4 * vecs[s].length * 2 ** -53 * abs,
              );
            }
          }
        }
      }
    },
  );

  it.each(["countsketch", "sparsejl", "srht"] as const)("sketched pass (%s:64)", async (kind) => {
    {
      const tensors = Object.keys(SHAPES);
      const [a, b] = await withRunners("safetensors-dir", (r, runner) =>
        sketchGrams(r, { tensors, kind, k: 64, seed: 5, runner }),
      );
      expect(a.nonFiniteSteps).toEqual([NAN_STEP]);
      expect(b.nonFiniteSteps).toEqual(a.nonFiniteSteps);
      for (const name of tensors)
        expect(Array.from(b.grams.get(name)!.data)).toEqual(Array.from(a.grams.get(name)!.data));
    }
  });

  it("a step whose payload fails its checksum: excluded as corruption, same Grams and sketches as one thread", async () => {
    const CORRUPT_STEP = 2;
    const file = path.join(dir, "corrupt.gtrace");
    const full = fs.readFileSync(gtrace);
    // The "mat" payload of a middle step (its bytes are unique in the file: random float32 values).
    const at = full.indexOf(Buffer.from(data[CORRUPT_STEP].mat.buffer));
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(full);
    bad[at + 7] ^= 0x10;
    fs.writeFileSync(file, bad);
    const reader = openTrace(file);
    const pool = workerRunner(reader, 2);
    try {
      const tensors = Object.keys(SHAPES);
      const exact = [inProcessRunner(reader), pool].map((runner) =>
        accumulateGrams(reader, { tensors, memoryBytes: 8 * STEPS * 50_000, runner }),
      );
      const [a, b] = await Promise.all(exact);
      for (const r of [a, b]) {
        expect(r.nonFiniteSteps).toEqual([NAN_STEP]);
        expect(r.corrupt.map((c) => [c.position, c.step, c.tensor])).toEqual([
          [CORRUPT_STEP, CORRUPT_STEP, "mat"],
        ]);
      }
      for (const name of tensors) {
        expect(a.grams.get(name)!.rows).toBe(STEPS - 2);
        expect(Array.from(b.grams.get(name)!.data), name).toEqual(Array.from(a.grams.get(name)!.data));
      }
      // The kept steps' Grams equal those of the intact file with both excluded steps dropped.
      const intact = await accumulateGrams(layout("gtrace").reader, {
        tensors,
        memoryBytes: 8 * STEPS * 50_000,
      });
      const keep = [0, 1, 3, 5, 6, 7, 8];
      const k0 = intact.grams.get("big")!;
      const n0 = STEPS - 1;
      const kept0 = [0, 1, 2, 3, 5, 6, 7, 8]; // intact rows (the NaN step already dropped)
      const k1 = a.grams.get("big")!;
      for (const [i, s] of keep.entries()) {
        for (const [j, t] of keep.entries()) {
          expect(k1.data[i * keep.length + j]).toBe(k0.data[kept0.indexOf(s) * n0 + kept0.indexOf(t)]);
        }
      }
      const sketched = [inProcessRunner(reader), pool].map((runner) =>
        sketchGrams(reader, { tensors, kind: "countsketch", k: 32, seed: 5, runner }),
      );
      const [sa, sb] = await Promise.all(sketched);
      for (const r of [sa, sb]) {
        expect(r.nonFiniteSteps).toEqual([NAN_STEP]);
        expect(r.corrupt.map((c) => [c.position, c.tensor])).toEqual([[CORRUPT_STEP, "mat"]]);
      }
      for (const name of tensors) {
        expect(sa.grams.get(name)!.rows).toBe(STEPS);
        expect(Array.from(sb.grams.get(name)!.data)).toEqual(Array.from(sa.grams.get(name)!.data));
      }
      // Strict: the checksum failure ends the pass, with its code, from a worker too.
      await expect(accumulateGrams(reader, { tensors, runner: pool, strict: true })).rejects.toMatchObject({
        code: "E_CHECKSUM",
      });
    } finally {
      await pool.close();
      reader.close();
    }
  });
});
