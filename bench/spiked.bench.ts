/** @file Speed of the spiked lab at the paper's size (n 750, d 1000, m 1250): one forward+backward pass, the top-10
 * randomized SVD of G, the decomposition + metrics, the full spectrum (effective rank); and the GEMM X·Wᵀ through
 * jax-js WASM (float32) against a naive i-j-k triple loop and the core's float64 i-k-j loop, plus a streaming
 * dot-product as the memory-bound reference — all measured in this run. The loops are timed on a 1/10-width slice
 * of the same product (their rate does not depend on m). GRADTRACE_BENCH_QUICK=1 shortens the repetitions. */
import { matmul, randomizedSvd } from "../src/core/linalg/index.ts";
import { type Mat, mat } from "../src/core/matrix.ts";
import { createRng } from "../src/core/rng.ts";
import { resolveActivation } from "../src/lab/spiked/activations.ts";
import { generateSpikedData } from "../src/lab/spiked/data.ts";
import { decomposeGradient, decompositionInput } from "../src/lab/spiked/decomposition.ts";
import { createJaxGemm, gemmOperator } from "../src/lab/spiked/gemm.ts";
import { gradientMetrics } from "../src/lab/spiked/metrics.ts";
import { initNetwork, lossAndGradient } from "../src/lab/spiked/model.ts";
import type { BenchRow } from "./types.ts";

const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
const N = 750;
const D = 1000;
const M = 1250;

/** Median wall time in ms of `reps` runs after one warm-up. */
function time(fn: () => void, reps: number): number {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

function randomMat(rows: number, cols: number, seed: number): Mat {
  const rng = createRng(seed);
  return mat(
    rows,
    cols,
    Float64Array.from({ length: rows * cols }, () => rng.normal()),
  );
}

/** C = A·Bᵀ with the textbook i-j-k loop (inner dot product over rows of A and B). */
function naiveABt(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.rows);
  const k = a.cols;
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.rows; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a.data[i * k + t] * b.data[j * k + t];
      out.data[i * b.rows + j] = s;
    }
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const reps = quick ? 2 : 5;
  const gemm = await createJaxGemm();
  const data = generateSpikedData({ n: N, d: D, nu: 0.125 });
  const net = initNetwork({ m: M, d: D });
  const act = resolveActivation("relu");
  const rows: BenchRow[] = [];

  let grad = lossAndGradient({ x: data.x, y: data.y, net, activation: act, gemm });
  const fwdBwd = time(() => {
    grad = lossAndGradient({ x: data.x, y: data.y, net, activation: act, gemm });
  }, reps);
  rows.push({
    name: "spiked: forward + backward (n 750, d 1000, m 1250)",
    value: fwdBwd,
    unit: "ms",
    note: "2 GEMMs (jax wasm f32) + f64 elementwise",
  });
  const svd = time(() => {
    randomizedSvd(gemmOperator(grad.grad, gemm), 10, { oversample: 10, powerIters: 3 });
  }, reps);
  rows.push({
    name: "spiked: top-10 randomized SVD of G (1250×1000)",
    value: svd,
    unit: "ms",
    note: "oversample 10, 3 power iterations",
  });
  const decArgs = decompositionInput(data, grad, net, gemm);
  let dec = decomposeGradient(decArgs);
  const metrics = (fullSpectrum: boolean) =>
    gradientMetrics({ grad: grad.grad, dataGrad: grad.dataGrad, regGrad: null, dec, gemm, fullSpectrum });
  const decMs = time(() => {
    dec = decomposeGradient(decArgs);
    metrics(false);
  }, reps);
  rows.push({ name: "spiked: decomposition S1+S2+E and metrics (incl. SVD)", value: decMs, unit: "ms" });
  const fullMs = time(() => metrics(true), quick ? 1 : 2);
  rows.push({
    name: "spiked: metrics with the full spectrum (effective rank)",
    value: fullMs,
    unit: "ms",
    note: "adds a 1000×1000 Gram eigendecomposition",
  });
  rows.push({
    name: "spiked: one configuration at init (fwd+bwd+analysis, no full spectrum)",
    value: fwdBwd + decMs,
    unit: "ms",
  });

  // GEMM rates.
  const flops = 2 * N * D * M;
  const x = randomMat(N, D, 1);
  const w = randomMat(M, D, 2);
  const jaxMs = time(() => gemm.mul(x, w, { transB: true }), reps);
  const jaxRate = flops / (jaxMs * 1e6);
  const slice = randomMat(M / 10, D, 3);
  const sliceFlops = flops / 10;
  const naiveMs = time(() => naiveABt(x, slice), quick ? 1 : 2);
  const naiveRate = sliceFlops / (naiveMs * 1e6);
  const sliceT = mat(D, M / 10);
  for (let i = 0; i < M / 10; i++)
    for (let k = 0; k < D; k++) sliceT.data[k * (M / 10) + i] = slice.data[i * D + k];
  const ikjMs = time(() => matmul(x, sliceT), quick ? 1 : 2);
  const ikjRate = sliceFlops / (ikjMs * 1e6);
  // Memory reference: a streaming float64 dot product over 2 × 64 MB (2 flops per 16 bytes read).
  const len = 8 << 20;
  const u = new Float64Array(len).fill(1.000001);
  const v = new Float64Array(len).fill(0.999999);
  let sink = 0;
  const dotMs = time(() => {
    let s = 0;
    for (let i = 0; i < len; i++) s += u[i] * v[i];
    sink += s;
  }, reps);
  const dotRate = (2 * len) / (dotMs * 1e6);
  rows.push({
    name: "gemm X·Wᵀ 750×1000×1250: jax-js wasm (float32)",
    value: jaxRate,
    unit: "GFLOP/s",
    ratio: jaxRate / naiveRate,
    reference: "naive i-j-k loop",
    note: `${jaxMs.toFixed(0)} ms incl. f64→f32 copies`,
  });
  rows.push({
    name: "gemm: core matmul i-k-j (float64 JS)",
    value: ikjRate,
    unit: "GFLOP/s",
    ratio: ikjRate / naiveRate,
    reference: "naive i-j-k loop",
  });
  rows.push({ name: "gemm: naive i-j-k triple loop (float64 JS)", value: naiveRate, unit: "GFLOP/s" });
  rows.push({
    name: "memory reference: streaming f64 dot product",
    value: dotRate,
    unit: "GFLOP/s",
    note: `${((16 * len) / (dotMs * 1e6)).toFixed(1)} GB/s (sink ${sink > 0 ? "ok" : "0"})`,
  });
  rows.push({
    name: "gemm jax-js vs the memory-bound dot product",
    value: jaxRate / dotRate,
    unit: "×",
    ratio: jaxRate / dotRate,
    reference: "streaming f64 dot product",
  });
  return rows;
}
