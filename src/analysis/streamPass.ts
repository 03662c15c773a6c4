/** @file The streaming mode's one pass over time: each step's tensors are read once (optionally sketched to k numbers
 * each) and fed to a StreamingState (src/core/streaming.ts), so the work is linear in the number of steps and the
 * memory does not grow with it (apart from O(T) scalar series). Steps with NaN/Inf anywhere are skipped as in the
 * exact pass, and so are steps whose data fails its checksum (reported as corruption; `strict`: an error). The pass can
 * also be fed incrementally (`StreamPass`), as serve's live mode does with a growing trace. */

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
  /** State options for a step range (streamRanges.ts): keep every step's cosines, start warming up, the kernel. */
  readonly keepCosines?: boolean;
  readonly warmUp?: boolean;
  readonly kernel?: "js" | "wasm";
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

/** Bytes one step of `tensors` takes as stored (progress reports). */
export function stepBytes(reader: TraceReader, tensors: readonly string[]): number {
  const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
  return tensors.reduce((s, name) => {
    const t = infoByName.get(name)!;
    return s + t.numel * (BYTES_PER_DTYPE[t.dtype] ?? 4);
  }, 0);
}

/**
 * The pass fed one step position at a time: `step(pos)` reads that position's tensors (and momentum buffers), sketches
 * them when asked, and gives them to the StreamingState. `streamSteps` runs it over the whole trace; serve's live mode
 * keeps one open and feeds it the positions a growing trace appends (the reader refreshed in between).
 */
export class StreamPass {
  readonly state: StreamingState;
  readonly sketches = new Map<string, Sketch>();
  /** Step positions skipped for NaN/Inf values. */
  readonly nonFiniteSteps: number[] = [];
  /** Step positions skipped because their data failed a checksum. */
  readonly corrupt: CorruptStep[] = [];
  /** Bytes of one step as stored (progress reports). */
  readonly bytesPerStep: number;
  private readonly tensors: readonly string[];
  private readonly momentum: boolean;
  private readonly strict: boolean;
  private readonly f64: Map<string, Float64Array>;
  private readonly sketched: Map<string, Float64Array>;
  private readonly grads: Record<string, Float32Array | Float64Array> = {};
  private readonly buffers: Record<string, Float32Array> = {};

  constructor(
    private readonly reader: TraceReader,
    {
      tensors,
      predictors,
      eps,
      windowSize,
      fdRows,
      sketch,
      momentum = false,
      strict = false,
      keepCosines,
      warmUp,
      kernel,
    }: StreamPassOptions,
  ) {
    const infoByName = new Map(reader.info.tensors.map((t) => [t.name, t]));
    this.tensors = tensors;
    this.momentum = momentum;
    this.strict = strict;
    if (sketch) {
      for (const name of tensors) {
        const dim = infoByName.get(name)!.numel;
        this.sketches.set(
          name,
          createSketch({ kind: sketch.kind, k: sketch.k, seed: tensorSketchSeed(sketch.seed, name), dim }),
        );
      }
    }
    this.state = new StreamingState({
      tensors: tensors.map((name) => ({ name, numel: sketch ? sketch.k : infoByName.get(name)!.numel })),
      predictors,
      windowSize,
      eps,
      fdRows,
      keepCosines,
      warmUp,
      kernel,
    });
    // float64 traces are read as float64 (readTensor rounds to float32); the others are exact in float32.
    this.f64 = new Map(
      tensors
        .filter((name) => infoByName.get(name)!.dtype === "F64")
        .map((name) => [name, new Float64Array(infoByName.get(name)!.numel)]),
    );
    this.sketched = new Map(tensors.map((name) => [name, new Float64Array(sketch?.k ?? 0)]));
    this.bytesPerStep = stepBytes(reader, tensors);
  }

  /** Reads step position `pos` and feeds it to the state; false when it was skipped (NaN/Inf values, or data failing
   * its checksum: the step is then never observed, as if it had not been logged). */
  step(pos: number): boolean {
    try {
      this.read(pos);
    } catch (err) {
      this.corrupt.push(corruptStepOf(err, pos, this.strict));
      return false;
    }
    const accepted = this.state.observe(this.grads, this.momentum ? { momentum: this.buffers } : undefined);
    if (!accepted) this.nonFiniteSteps.push(pos);
    return accepted;
  }

  /** Step position `pos`'s tensors (sketched when asked) into `grads`, its momentum buffers into `buffers`. */
  private read(pos: number): void {
    const { reader, grads, buffers } = this;
    for (const name of this.tensors) {
      const out = this.f64.get(name);
      let g: Float32Array | Float64Array;
      if (out) {
        reader.readSlice(pos, name, 0, out.length, out, 0);
        g = out;
      } else g = reader.readTensor(pos, name);
      const s = this.sketches.get(name);
      if (s) {
        const row = this.sketched.get(name)!;
        row.fill(0);
        s.accumulate(g, 0, row);
        g = row;
      }
      grads[name] = g;
      if (this.momentum) {
        // A missing buffer is reported by the live accumulator with the step and tensor named.
        const b = reader.readState?.(pos, name, "momentum");
        if (b) buffers[name] = b;
        else delete buffers[name];
      }
    }
  }

  /** The pass so far (the state's snapshot; the pass can go on afterwards). */
  result(): StreamPassResult {
    return {
      snapshot: this.state.snapshot(),
      nonFiniteSteps: [...this.nonFiniteSteps],
      corrupt: [...this.corrupt],
      sketches: this.sketches,
    };
  }
}

export function streamSteps(reader: TraceReader, options: StreamPassOptions): StreamPassResult {
  const n = reader.info.steps.length;
  const pass = new StreamPass(reader, options);
  const { onProgress } = options;
  const progressEvery = Math.max(1, Math.floor(n / 200));
  for (let pos = 0; pos < n; pos++) {
    pass.step(pos);
    if (onProgress && ((pos + 1) % progressEvery === 0 || pos + 1 === n)) {
      onProgress({ phase: "stream", done: pos + 1, total: n, bytes: (pos + 1) * pass.bytesPerStep });
    }
  }
  return pass.result();
}
