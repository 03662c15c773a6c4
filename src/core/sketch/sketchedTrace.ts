/** @file The sketched trace: the k-dim sketches S·g_t of T steps (O(k·T) memory, whatever p is) and their T×T Gram,
 * so the exact metrics pipeline (path lengths from the Gram, spectrum summaries) runs unchanged on sketched vectors.
 * ⟨S g_s, S g_t⟩ ≈ ⟨g_s, g_t⟩ within the sketch's `errorBound`. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat, type Vec } from "../matrix.ts";
import type { Sketch } from "./types.ts";

/** T×T Gram ⟨v_s, v_t⟩ of equal-length vectors, accumulated in float64. */
export function sketchGram(vectors: readonly Float64Array[]): Mat {
  const t = vectors.length;
  const gram = mat(t, t);
  const k = t > 0 ? vectors[0].length : 0;
  for (let a = 0; a < t; a++) {
    if (vectors[a].length !== k) {
      throw new GradtraceError(
        "E_SHAPE",
        `sketchGram: vector ${a} has length ${vectors[a].length}, expected ${k}`,
      );
    }
  }
  for (let a = 0; a < t; a++) {
    const va = vectors[a];
    for (let b = a; b < t; b++) {
      const vb = vectors[b];
      let s = 0;
      for (let i = 0; i < k; i++) s += va[i] * vb[i];
      gram.data[a * t + b] = s;
      gram.data[b * t + a] = s;
    }
  }
  return gram;
}

export interface SketchedTraceOptions {
  /** Sketch applied by `add` / used by `openStep`; optional when vectors arrive already sketched. */
  readonly sketch?: Sketch | null;
  /** Sketch dimension; defaults to sketch.k. */
  readonly k?: number;
}

export class SketchedTrace {
  readonly k: number;
  readonly sketch: Sketch | null;
  private readonly steps: Float64Array[] = [];

  constructor({ sketch = null, k = sketch?.k }: SketchedTraceOptions = {}) {
    if (k === undefined || !Number.isInteger(k) || k < 1) {
      throw new GradtraceError("E_ARG", `SketchedTrace: give a sketch or a positive integer k, got k = ${k}`);
    }
    if (sketch !== null && sketch.k !== k) {
      throw new GradtraceError(
        "E_ARG",
        `SketchedTrace: k = ${k} disagrees with the sketch's k = ${sketch.k}`,
      );
    }
    this.k = k;
    this.sketch = sketch;
  }

  /** Number of steps held. */
  get length(): number {
    return this.steps.length;
  }

  /** Sketches a whole gradient vector and appends it as the next step. */
  add(g: Vec): void {
    if (this.sketch === null)
      throw new GradtraceError("E_ARG", "SketchedTrace.add: no sketch given; use addSketched");
    this.steps.push(this.sketch.apply(g));
  }

  /** Appends an already sketched step (e.g. read from a sketched trace); copies it. */
  addSketched(v: Vec): void {
    if (v.length !== this.k) {
      throw new GradtraceError(
        "E_SHAPE",
        `SketchedTrace.addSketched: step ${this.steps.length} has length ${v.length}, expected k = ${this.k}`,
      );
    }
    this.steps.push(Float64Array.from(v));
  }

  /** Appends a zero step and returns it, to be filled slice by slice with sketch.accumulate(slice, offset, out). */
  openStep(): Float64Array {
    const v = new Float64Array(this.k);
    this.steps.push(v);
    return v;
  }

  /** The sketched vector of step position t (a view, not a copy). */
  get(t: number): Float64Array {
    const v = this.steps[t];
    if (v === undefined) {
      throw new GradtraceError(
        "E_NOT_FOUND",
        `SketchedTrace.get: step ${t} not in [0, ${this.steps.length})`,
      );
    }
    return v;
  }

  /** T×T Gram of the sketched steps: the input of the Gram-based metrics. */
  gram(): Mat {
    return sketchGram(this.steps);
  }
}
