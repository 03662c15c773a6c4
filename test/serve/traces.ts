/** @file Real gtrace traces for the server and browser tests: a few tensors whose gradients move in a handful of
 * directions plus noise (so κ and r*(ε) are far from degenerate), written with the trace layer's own writer. */
import * as fs from "node:fs";
import { analyze } from "../../src/analysis/index.ts";
import type { AnalysisResult } from "../../src/analysis/types.ts";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import type { TraceReader, TraceWriter } from "../../src/trace/types.ts";

export interface TraceSpec {
  readonly tensors: readonly { name: string; shape: number[] }[];
  readonly seed: number;
}

export const SMALL_MODEL: TraceSpec["tensors"] = [
  { name: "conv1.weight", shape: [4, 3] },
  { name: "conv1.bias", shape: [4] },
  { name: "fc/out.weight", shape: [3, 5] },
];

/** Gradient of tensor j at step t: three slow sinusoidal modes on fixed random directions plus small noise. */
export function makeGradients(spec: TraceSpec) {
  const rng = createRng(spec.seed);
  const dirs = spec.tensors.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    return Array.from({ length: 3 }, () => Float64Array.from({ length: n }, () => rng.normal()));
  });
  const noise = createRng(spec.seed + 1000);
  return (step: number): Record<string, Float32Array> => {
    const out: Record<string, Float32Array> = {};
    spec.tensors.forEach((t, j) => {
      const n = dirs[j][0].length;
      const g = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        g[i] =
          Math.cos(0.2 * step + j) * dirs[j][0][i] +
          0.5 * Math.sin(0.05 * step) * dirs[j][1][i] +
          0.2 * (step % 3) * dirs[j][2][i] +
          0.05 * noise.normal();
      }
      out[t.name] = g;
    });
    return out;
  };
}

/** Writes `steps` steps and returns the open writer (for live tests) or closes it. */
export function writeTrace(file: string, spec: TraceSpec, steps: number, { keepOpen = false } = {}) {
  fs.rmSync(file, { force: true });
  const writer: TraceWriter = createGtraceWriter(file, { tensors: spec.tensors, fsync: "none" });
  const grad = makeGradients(spec);
  for (let s = 0; s < steps; s++) writer.append(s, grad(s), { loss: 1 / (1 + s) });
  if (!keepOpen) writer.close();
  return { writer, grad };
}

/** What the server should serve for a trace: `analyze()` run on it directly, through JSON as the API sends it
 * (NaN becomes null). */
export async function analyzeFile(file: string): Promise<AnalysisResult> {
  const reader = openTrace(file);
  try {
    return JSON.parse(JSON.stringify(await analyze(reader, {}))) as AnalysisResult;
  } finally {
    reader.close();
  }
}

/** openTrace with every readTensor's step position pushed to `reads` (what the live path reads; the exact engine
 * opens its own, uncounted reader). */
export function countingOpen(reads: number[]): (absPath: string) => TraceReader {
  return (absPath) => {
    const r = openTrace(absPath);
    return {
      get info() {
        return r.info;
      },
      readSlice: (...args) => r.readSlice(...args),
      readTensor: (stepPos, name) => {
        reads.push(stepPos);
        return r.readTensor(stepPos, name);
      },
      refresh: r.refresh ? () => r.refresh!() : undefined,
      readState: r.readState ? (stepPos, name, kind) => r.readState!(stepPos, name, kind) : undefined,
      close: () => r.close(),
    };
  };
}
