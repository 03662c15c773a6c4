/** @file The sketched mode's streaming pass: every step's tensors are read once and sketched to k numbers each
 * (independent seeded sketches per tensor, so the sum of the tensors' sketches is a sketch of the whole-model
 * vector by the block matrix [S_1 … S_m]); the metrics then run on the k×T sketches exactly as on full vectors.
 * Tensor `name` is sketched with seed tensorSketchSeed(seed, name), the scheme the loggers use, so `analyze --sketch`
 * of a full trace reproduces what a logger with the same kind, k and seed would have written. */

import type { Mat } from "../core/index.ts";
import {
  createSketch,
  GramAccumulator,
  type Sketch,
  type SketchKind,
  tensorSketchSeed,
} from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import type { GramPassProgress } from "./gramPass.ts";

export interface SketchPassOptions {
  readonly tensors: readonly string[];
  readonly kind: SketchKind;
  readonly k: number;
  readonly seed?: number;
  readonly onProgress?: (p: GramPassProgress) => void;
}

export interface SketchPassResult {
  /** Gram of the sketched vectors, per tensor and for the whole model. */
  readonly grams: Map<string, Mat>;
  readonly total: Mat;
  readonly sketches: Map<string, Sketch>;
  readonly nonFiniteSteps: number[];
}

export function sketchGrams(
  reader: TraceReader,
  { tensors, kind, k, seed = 0, onProgress }: SketchPassOptions,
): SketchPassResult {
  const n = reader.info.steps.length;
  const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  const sketches = new Map<string, Sketch>();
  for (const name of tensors) {
    sketches.set(
      name,
      createSketch({ kind, k, seed: tensorSketchSeed(seed, name), dim: infoByName.get(name)!.numel }),
    );
  }
  // Row t of each buffer is the sketch of g_t: n × k, the layout GramAccumulator.addBlock expects.
  const perTensor = new Map(tensors.map((name) => [name, new Float64Array(n * k)]));
  const total = new Float64Array(n * k);
  const bad: number[] = [];
  const bytesPerStep = tensors.reduce((s, name) => s + infoByName.get(name)!.numel * 4, 0);
  for (let pos = 0; pos < n; pos++) {
    let finite = true;
    for (const name of tensors) {
      const x = reader.readTensor(pos, name);
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
    if (!finite) {
      bad.push(pos);
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
  return { grams, total: gramOf(total), sketches, nonFiniteSteps: bad };
}
