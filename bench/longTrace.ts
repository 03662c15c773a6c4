/** @file A synthetic long training run for the streaming benchmarks: T steps of a p-coordinate gradient split into a
 * matrix-shaped tensor and a vector, g_t = a slowly rotating rank-8 signal + noise, written as a .gtrace. Noise comes
 * from a fixed table read at a step-dependent offset, so generating 10⁵ steps costs little more than writing them. */
import { createRng } from "../src/core/rng.ts";
import { createGtraceWriter } from "../src/trace/index.ts";

export function writeLongTrace(file: string, steps: number, p: number, seed = 1): void {
  const rows = 16;
  const matrixNumel = rows * Math.floor(p / 2 / rows);
  const tensors = [
    { name: "layer.weight", shape: [rows, matrixNumel / rows] },
    { name: "layer.bias", shape: [p - matrixNumel] },
  ];
  const w = createGtraceWriter(file, { tensors, fsync: "close" });
  const rng = createRng(seed);
  const rank = 8;
  const basis = Array.from({ length: rank }, () => Float32Array.from({ length: p }, () => rng.normal()));
  const noise = Float32Array.from({ length: p * 64 + 7919 }, () => rng.normal());
  const g = new Float32Array(p);
  for (let t = 0; t < steps; t++) {
    const offset = (t * 7919) % (noise.length - p);
    for (let i = 0; i < p; i++) g[i] = 0.3 * noise[offset + i];
    for (let r = 0; r < rank; r++) {
      const c = (rank - r) * Math.cos(0.001 * t * (r + 1) + r);
      const b = basis[r];
      for (let i = 0; i < p; i++) g[i] += c * b[i];
    }
    w.append(t, { "layer.weight": g.subarray(0, matrixNumel), "layer.bias": g.subarray(matrixNumel) });
  }
  w.close();
}
