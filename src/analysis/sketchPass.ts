/** @file The sketched mode's pass over the steps: every step's tensors are read once and sketched to k numbers each
 * (independent seeded sketches per tensor); the metrics then run on the k×T sketches exactly as on full vectors.
 *
 * The whole model's sketch is the tensors' sketches side by side — the block-diagonal sketch diag(S_1, …, S_m), m·k
 * numbers per step — so its Gram is the sum of the tensors' sketched Grams, as the unsketched total's Gram is the
 * sum of the tensors' Grams, and as the streaming mode and the live accumulator build it. (Adding the tensors'
 * sketches into one k-vector, [S_1 … S_m]·g, would be a sketch too, but it adds the cross-tensor terms
 * ⟨S_i g_i, S_j g'_j⟩, i ≠ j, to every inner product: more variance for the same bound.) Each tensor's inner
 * products within ε‖x_i‖‖y_i‖ give the total's within Σ_i ε‖x_i‖‖y_i‖ ≤ ε‖x‖‖y‖ (Cauchy–Schwarz), so the per-tensor
 * ε holds for the total with the union bound over the m tensors. */

import type { Mat } from "../core/index.ts";
import { createSketch, deriveSeed, GramAccumulator, type Sketch, type SketchKind } from "../core/index.ts";
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
  /** Gram of the sketched vectors, per tensor (the whole model's is their sum: see the file comment). */
  readonly grams: Map<string, Mat>;
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
  tensors.forEach((name, i) => {
    sketches.set(
      name,
      createSketch({ kind, k, seed: deriveSeed(seed, i), dim: infoByName.get(name)!.numel }),
    );
  });
  // Row t of each buffer is the sketch of g_t: n × k, the layout GramAccumulator.addBlock expects.
  const perTensor = new Map(tensors.map((name) => [name, new Float64Array(n * k)]));
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
    }
    if (!finite) {
      bad.push(pos);
      for (const buf of perTensor.values()) buf.fill(0, pos * k, (pos + 1) * k);
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
  return { grams, sketches, nonFiniteSteps: bad };
}
