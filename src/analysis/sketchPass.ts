/** @file The sketched mode's streaming pass: every step's tensors are read once and sketched to k numbers each
 * (independent seeded sketches per tensor, so the sum of the tensors' sketches is a sketch of the whole-model
 * vector by the block matrix [S_1 … S_m]); the metrics then run on the k×T sketches exactly as on full vectors. */

import type { Mat } from "../core/index.ts";
import { createSketch, deriveSeed, GramAccumulator, type Sketch, type SketchKind } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { type CorruptStep, corruptStepOf } from "./corruption.ts";
import type { GramPassProgress } from "./gramPass.ts";

export interface SketchPassOptions {
  readonly tensors: readonly string[];
  readonly kind: SketchKind;
  readonly k: number;
  readonly seed?: number;
  readonly onProgress?: (p: GramPassProgress) => void;
  /** Let a checksum failure end the pass instead of excluding the step. */
  readonly strict?: boolean;
}

export interface SketchPassResult {
  /** Gram of the sketched vectors, per tensor and for the whole model. */
  readonly grams: Map<string, Mat>;
  readonly total: Mat;
  readonly sketches: Map<string, Sketch>;
  /** Rows (step positions) of the Grams to drop: NaN/Inf gradients, and data failing its checksum. */
  readonly nonFiniteSteps: number[];
  readonly corrupt: CorruptStep[];
}

export function sketchGrams(
  reader: TraceReader,
  { tensors, kind, k, seed = 0, onProgress, strict = false }: SketchPassOptions,
): SketchPassResult {
  const n = reader.info.steps.length;
  const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const sketches = new Map<string, Sketch>();
  tensors.forEach((name, i) => {
    sketches.set(
      name,
      createSketch({ kind, k, seed: deriveSeed(seed, i), dim: infoByName.get(name)!.numel }),
    );
  });
  // Row t of each buffer is the sketch of g_t: n × k, the layout GramAccumulator.addBlock expects.
  const perTensor = new Map(tensors.map((name) => [name, new Float64Array(n * k)]));
  const total = new Float64Array(n * k);
  const bad: number[] = [];
  const corrupt: CorruptStep[] = [];
  const bytesPerStep = tensors.reduce((s, name) => s + infoByName.get(name)!.numel * 4, 0);
  for (let pos = 0; pos < n; pos++) {
    let finite = true;
    let intact = true;
    for (const name of tensors) {
      let x: Float32Array;
      try {
        x = reader.readTensor(pos, name);
      } catch (err) {
        corrupt.push(corruptStepOf(err, pos, strict));
        intact = false;
        break;
      }
      const row = perTensor.get(name)!.subarray(pos * k, (pos + 1) * k);
      sketches.get(name)!.accumulate(x, 0, row);
      // Every coordinate lands in some output row with a non-zero weight, so a NaN/Inf anywhere in x makes the
      // sketched row non-finite: checking k numbers replaces a pass over all p.
      for (let j = 0; j < k; j++) {
        if (!Number.isFinite(row[j])) {
          finite = false;
          break;
        }
      }
      if (!finite) break;
      for (let j = 0; j < k; j++) total[pos * k + j] += row[j];
    }
    if (!finite || !intact) {
      if (intact) bad.push(pos);
      for (const buf of perTensor.values()) buf.fill(0, pos * k, (pos + 1) * k);
      total.fill(0, pos * k, (pos + 1) * k);
    }
    onProgress?.({ phase: "sketch", done: pos + 1, total: n, bytes: (pos + 1) * bytesPerStep });
  }
  const gramOf = (rows: Float64Array): Mat => {
    const acc = new GramAccumulator(n);
    acc.addBlock(rows, k);
    return acc.gram;
  };
  const grams = new Map<string, Mat>();
  for (const [name, rows] of perTensor) grams.set(name, gramOf(rows));
  return { grams, total: gramOf(total), sketches, nonFiniteSteps: bad, corrupt };
}
