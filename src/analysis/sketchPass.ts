/** @file The sketched mode's pass over the steps: every step's tensors are read once and sketched to k numbers each
 * (independent seeded sketches per tensor); the metrics then run on the k×T sketches exactly as on full vectors.
 * Tensor `name` is sketched with seed tensorSketchSeed(seed, name), the scheme the loggers use, so `analyze --sketch`
 * of a full trace reproduces what a logger with the same kind, k and seed would have written.
 *
 * The whole model's sketch is the tensors' sketches side by side — the block-diagonal sketch diag(S_1, …, S_m), m·k
 * numbers per step — so its Gram is the sum of the tensors' sketched Grams, as the unsketched total's Gram is the
 * sum of the tensors' Grams, and as the streaming mode and the live accumulator build it. (Adding the tensors'
 * sketches into one k-vector, [S_1 … S_m]·g, would be a sketch too, but it adds the cross-tensor terms
 * ⟨S_i g_i, S_j g'_j⟩, i ≠ j, to every inner product: more variance for the same bound.) Each tensor's inner
 * products within ε‖x_i‖‖y_i‖ give the total's within Σ_i ε‖x_i‖‖y_i‖ ≤ ε‖x‖‖y‖ (Cauchy–Schwarz), so the per-tensor
 * ε holds for the total with the union bound over the m tensors.
 *
 * Steps are sketched in tasks of consecutive steps (blockTasks.ts) on this thread or on worker threads: each step's
 * sketch is the same sequence of additions wherever it runs, so the result does not depend on the thread count. */

import type { Mat } from "../core/index.ts";
import {
  createSketch,
  GramAccumulator,
  type Sketch,
  type SketchKind,
  tensorSketchSeed,
} from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import type { SketchTask, SketchTaskResult } from "./blockTasks.ts";
import type { CorruptStep } from "./corruption.ts";
import type { GramPassProgress } from "./gramPass.ts";
import { inProcessRunner, runInOrder, type TaskRunner } from "./taskRunner.ts";

export interface SketchPassOptions {
  readonly tensors: readonly string[];
  readonly kind: SketchKind;
  readonly k: number;
  readonly seed?: number;
  readonly onProgress?: (p: GramPassProgress) => void;
  /** Runs the sketching tasks (default: this thread). */
  readonly runner?: TaskRunner;
  /** Let a checksum failure end the pass instead of excluding the step. */
  readonly strict?: boolean;
}

export interface SketchPassResult {
  /** Gram of the sketched vectors, per tensor (the whole model's is their sum: see the file comment). */
  readonly grams: Map<string, Mat>;
  readonly sketches: Map<string, Sketch>;
  /** Rows (step positions) of the Grams to drop: NaN/Inf gradients, and data failing its checksum. */
  readonly nonFiniteSteps: number[];
  readonly corrupt: CorruptStep[];
}

/** Steps per task: a few tasks per thread so the threads finish together. */
function stepsPerTask(n: number, threads: number): number {
  return threads <= 1 ? n : Math.max(1, Math.ceil(n / (4 * threads)));
}

export async function sketchGrams(
  reader: TraceReader,
  { tensors, kind, k, seed = 0, onProgress, runner, strict = false }: SketchPassOptions,
): Promise<SketchPassResult> {
  const n = reader.info.steps.length;
  const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const sketches = new Map<string, Sketch>();
  for (const name of tensors) {
    sketches.set(
      name,
      createSketch({ kind, k, seed: tensorSketchSeed(seed, name), dim: infoByName.get(name)!.numel }),
    );
  }
  const run = runner ?? inProcessRunner(reader);
  // Row t of each buffer is the sketch of g_t: n × k, the layout GramAccumulator.addBlock expects.
  const perTensor = new Map(tensors.map((name) => [name, new Float64Array(n * k)]));
  const bad: number[] = [];
  const corrupt: CorruptStep[] = [];
  const bytesPerStep = tensors.reduce((s, name) => s + infoByName.get(name)!.numel * 4, 0);
  const per = stepsPerTask(n, run.threads);
  const taskCount = Math.ceil(n / per);
  await runInOrder<SketchTask, SketchTaskResult>(
    taskCount,
    (i) => ({ tensors, kind, k, seed, from: i * per, to: Math.min(n, (i + 1) * per), strict }),
    (task) => run.sketch(task),
    (result, task) => {
      const corruptRows = new Set(result.corrupt.map((c) => c.row));
      for (const c of result.corrupt) corrupt.push(c.step);
      for (let pos = task.from; pos < task.to; pos++) {
        // A corrupt step's rows are zero already; it is excluded and reported as corruption, not as NaN/Inf.
        let finite = true;
        tensors.forEach((name, i) => {
          const at = ((pos - task.from) * tensors.length + i) * k;
          const row = result.rows.subarray(at, at + k);
          perTensor.get(name)!.set(row, pos * k);
          // Every coordinate lands in some output row with a non-zero weight, so a NaN/Inf anywhere in x makes the
          // sketched row non-finite: checking k numbers replaces a pass over all p.
          for (let j = 0; j < k; j++) {
            if (!Number.isFinite(row[j])) {
              finite = false;
              break;
            }
          }
        });
        if (!finite || corruptRows.has(pos)) {
          if (!corruptRows.has(pos)) bad.push(pos);
          for (const buf of perTensor.values()) buf.fill(0, pos * k, (pos + 1) * k);
        }
        onProgress?.({ phase: "sketch", done: pos + 1, total: n, bytes: (pos + 1) * bytesPerStep });
      }
    },
    2 * run.threads,
  );
  const gramOf = (rows: Float64Array): Mat => {
    const acc = new GramAccumulator(n);
    acc.addBlock(rows, k);
    const g = acc.gram;
    acc.dispose();
    return g;
  };
  const grams = new Map<string, Mat>();
  for (const [name, rows] of perTensor) grams.set(name, gramOf(rows));
  return { grams, sketches, nonFiniteSteps: bad, corrupt };
}
