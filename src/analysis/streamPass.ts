/** @file The streaming mode's one pass over time: each step's tensors are read once (optionally sketched to k numbers
 * each) and fed to a StreamingState (src/core/streaming.ts), so the work is linear in the number of steps and the
 * memory does not grow with it (apart from O(T) scalar series). Steps with NaN/Inf anywhere are skipped as in the
 * exact pass, and so are steps whose data fails its checksum (reported as corruption; `strict`: an error). */

import {
  createSketch,
  type Sketch,
  type SketchKind,
  type StreamingSnapshot,
  StreamingState,
  tensorSketchSeed,
} from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { type CorruptStep, corruptStepOf } from "./corruption.ts";
import type { GramPassProgress } from "./gramPass.ts";

export interface StreamPassOptions {
  readonly tensors: readonly string[];
  readonly predictors: readonly string[];
  readonly eps: readonly number[];
  readonly windowSize: number;
  readonly fdRows: number;
  /** Random sketch applied to every step before the state sees it (k numbers per tensor). */
  readonly sketch?: { kind: SketchKind; k: number; seed: number };
  /** Read the optimizer's momentum buffers (a momentum predictor is on). */
  readonly momentum?: boolean;
  readonly onProgress?: (p: GramPassProgress) => void;
  /** Let a checksum failure end the pass instead of skipping the step. */
  readonly strict?: boolean;
}

export interface StreamPassResult {
  readonly snapshot: StreamingSnapshot;
  /** Step positions skipped for NaN/Inf values. */
  readonly nonFiniteSteps: number[];
  /** Step positions skipped because their data failed a checksum. */
  readonly corrupt: CorruptStep[];
  readonly sketches: Map<string, Sketch>;
}

const BYTES_PER_DTYPE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

export function streamSteps(
  reader: TraceReader,
  {
    tensors,
    predictors,
    eps,
    windowSize,
    fdRows,
    sketch,
    momentum = false,
    onProgress,
    strict = false,
  }: StreamPassOptions,
): StreamPassResult {
  const info = reader.info;
  const n = info.steps.length;
  const infoByName = new Map(info.tensors.map((t) => [t.name, t]));
  const sketches = new Map<string, Sketch>();
  if (sketch) {
    for (const name of tensors) {
      const dim = infoByName.get(name)!.numel;
      sketches.set(
        name,
        createSketch({ kind: sketch.kind, k: sketch.k, seed: tensorSketchSeed(sketch.seed, name), dim }),
      );
    }
  }
  const state = new StreamingState({
    tensors: tensors.map((name) => ({ name, numel: sketch ? sketch.k : infoByName.get(name)!.numel })),
    predictors,
    windowSize,
    eps,
    fdRows,
  });
  // float64 traces are read as float64 (readTensor rounds to float32); the others are exact in float32.
  const f64 = new Map(
    tensors
      .filter((name) => infoByName.get(name)!.dtype === "F64")
      .map((name) => [name, new Float64Array(infoByName.get(name)!.numel)]),
  );
  const sketched = new Map(tensors.map((name) => [name, new Float64Array(sketch?.k ?? 0)]));
  const bytesPerStep = tensors.reduce((s, name) => {
    const t = infoByName.get(name)!;
    return s + t.numel * (BYTES_PER_DTYPE[t.dtype] ?? 4);
  }, 0);
  const grads: Record<string, Float32Array | Float64Array> = {};
  const buffers: Record<string, Float32Array> = {};
  const nonFinite: number[] = [];
  const corrupt: CorruptStep[] = [];
  const progressEvery = Math.max(1, Math.floor(n / 200));
  for (let pos = 0; pos < n; pos++) {
    if (!readStep(pos)) continue;
    const accepted = state.observe(grads, momentum ? { momentum: buffers } : undefined);
    if (!accepted) nonFinite.push(pos);
    if (onProgress && ((pos + 1) % progressEvery === 0 || pos + 1 === n)) {
      onProgress({ phase: "stream", done: pos + 1, total: n, bytes: (pos + 1) * bytesPerStep });
    }
  }
  return { snapshot: state.snapshot(), nonFiniteSteps: nonFinite, corrupt, sketches };

  /** Reads step `pos` into `grads` / `buffers`; false (and noted) when some of its data fails its checksum — the
   * step is then never observed, as if it had not been logged. */
  function readStep(pos: number): boolean {
    try {
      readInto(pos);
      return true;
    } catch (err) {
      corrupt.push(corruptStepOf(err, pos, strict));
      return false;
    }
  }

  function readInto(pos: number): void {
    for (const name of tensors) {
      const out = f64.get(name);
      let g: Float32Array | Float64Array;
      if (out) {
        reader.readSlice(pos, name, 0, out.length, out, 0);
        g = out;
      } else g = reader.readTensor(pos, name);
      const s = sketches.get(name);
      if (s) {
        const row = sketched.get(name)!;
        row.fill(0);
        s.accumulate(g, 0, row);
        g = row;
      }
      grads[name] = g;
      if (momentum) {
        // A missing buffer is reported by the live accumulator with the step and tensor named.
        const b = reader.readState?.(pos, name, "momentum");
        if (b) buffers[name] = b;
        else delete buffers[name];
      }
    }
  }
}
