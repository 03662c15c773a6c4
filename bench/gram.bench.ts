/** @file Gram accumulation throughput (the exact mode's hot loop): T = 256 float32 vectors of p = 10⁶ coordinates
 * streamed in coordinate blocks of 4096, with the float64 "js" reference kernel, the float64 "wasm" SIMD kernel
 * (single thread) and the float32 "jax" kernel, against the best GEMM available to the project (@jax-js/jax jit
 * np.dot, WASM) on the same block shape, measured in the same run.
 *
 * Flop conventions: the Gram is reported at n²·p flops (the useful work of the symmetric product: n(n+1)/2 dot
 * products of length p at 2 flops per multiply-add ≈ n²·p); the GEMM at 2·m·n·k (all n² entries of an n×w · w×n
 * product). So ratio 1 means "K costs as much time per useful flop as a GEMM". Both timings include moving the block
 * into jax's WASM memory and the result out. GRADTRACE_BENCH_QUICK=1 uses p = 2¹⁶. Block contents are recycled
 * from a few pre-generated blocks so random-number generation is not timed. */
import { init, type Array as JaxArray, jit, numpy as np } from "@jax-js/jax";
import { GramAccumulator } from "../src/core/gram.ts";
import { createPool, siblingModule } from "../src/parallel/index.ts";
import { createRng } from "../src/core/rng.ts";
import type { BenchRow } from "./types.ts";

const T = 256;
const WIDTH = 4096;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One timed GEMM (n×w · w×n, jit np.dot) including the upload of the left operand and the download of the result,
 * the same transfers the Gram's jax kernel pays per block. */
async function makeJaxGemm(block: Float32Array): Promise<() => number> {
  await init("wasm");
  const gemm = jit((a: JaxArray, b: JaxArray) => np.dot(a, b));
  const right = np.array(block, { shape: [WIDTH, T] });
  const timeOne = (): number => {
    const t0 = performance.now();
    gemm(np.array(block, { shape: [T, WIDTH] }), right.ref).dataSync();
    return (performance.now() - t0) / 1000;
  };
  timeOne(); // compile
  timeOne();
  return timeOne;
}

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const p = quick ? 1 << 16 : 1_000_000;
  const rng = createRng(1);
  const pool = Array.from({ length: 3 }, () => Float32Array.from({ length: T * WIDTH }, () => rng.normal()));

  const gemmOnce = await makeJaxGemm(pool[0]);
  // The machine is shared, so load drifts during a long run: the reference GEMM is timed interleaved with the Gram
  // blocks (one GEMM every GEMM_EVERY blocks) and the ratio compares medians of per-block rates over the same period.
  const GEMM_EVERY = quick ? 2 : 8;
  const rows: BenchRow[] = [];
  const gemmAll: number[] = [];
  const grams: Record<string, Float64Array> = {};
  for (const kernel of ["js", "wasm", "jax"] as const) {
    const warm = await GramAccumulator.create({ n: T, kernel });
    warm.addBlock(pool[1], WIDTH); // JIT compilation, not timed
    const acc = await GramAccumulator.create({ n: T, kernel });
    const blockRates: number[] = [];
    const gemmRates: number[] = [];
    let seconds = 0;
    let b = 0;
    for (let c0 = 0; c0 < p; c0 += WIDTH, b++) {
      const w = Math.min(WIDTH, p - c0);
      const block = pool[b % pool.length];
      const t0 = performance.now();
      acc.addBlock(w === WIDTH ? block : block.subarray(0, T * w), w);
      const dt = (performance.now() - t0) / 1000;
      seconds += dt;
      if (w === WIDTH) blockRates.push((T * T * WIDTH) / dt / 1e9);
      if (b % GEMM_EVERY === 0) gemmRates.push((2 * T * T * WIDTH) / gemmOnce() / 1e9);
    }
    grams[kernel] = acc.gram.data;
    gemmAll.push(...gemmRates);
    const gflops = (T * T * p) / seconds / 1e9;
    const ratio = median(blockRates) / median(gemmRates);
    rows.push({
      name: `Gram T=${T}, p=${p}, float32, ${kernel} kernel`,
      value: gflops,
      unit: "GFLOP/s",
      ratio,
      reference: "jax-js np.dot GEMM GFLOP/s (interleaved, medians)",
      target: kernel === "wasm" ? "≥ 0.7 (float64, 1 thread)" : undefined,
      note: `n²·p flops; ${seconds.toFixed(2)} s in addBlock; median block ${median(blockRates).toFixed(2)} vs GEMM ${median(gemmRates).toFixed(2)} GFLOP/s`,
    });
  }
  // The wasm kernel on worker threads (src/parallel, as the exact pass runs it): wall time of 2 workers doing
  // `blocks` blocks each against 1 worker doing 2·blocks, interleaved with the GEMM reference.
  {
    const blocks = Math.ceil(p / WIDTH / 2);
    const pool = createPool<typeof import("./child/gramWorker.ts")>({
      module: siblingModule(import.meta.url, "child/gramWorker"),
      threads: 2,
    });
    try {
      await Promise.all([0, 1].map((i) => pool.run("gramBlocks", [T, WIDTH, 2, i])));
      const one: number[] = [];
      const two: number[] = [];
      const gemm: number[] = [];
      for (let round = 0; round < (quick ? 2 : 3); round++) {
        let t0 = performance.now();
        await pool.run("gramBlocks", [T, WIDTH, 2 * blocks, 0]);
        one.push((T * T * WIDTH * 2 * blocks) / ((performance.now() - t0) / 1000) / 1e9);
        gemm.push((2 * T * T * WIDTH) / gemmOnce() / 1e9);
        t0 = performance.now();
        await Promise.all([0, 1].map((i) => pool.run("gramBlocks", [T, WIDTH, blocks, i])));
        two.push((T * T * WIDTH * 2 * blocks) / ((performance.now() - t0) / 1000) / 1e9);
        gemm.push((2 * T * T * WIDTH) / gemmOnce() / 1e9);
      }
      const best1 = Math.max(...one);
      const best2 = Math.max(...two);
      rows.push({
        name: `Gram T=${T}, p=${2 * blocks * WIDTH}, wasm kernel, 2 worker threads`,
        value: best2,
        unit: "GFLOP/s",
        ratio: best2 / best1,
        reference: "the same on 1 worker thread (best of the rounds each)",
        target: "≥ 1.7",
        note: `1 thread ${best1.toFixed(2)} GFLOP/s; vs jax-js GEMM (median ${median(gemm).toFixed(2)}): ${(best2 / median(gemm)).toFixed(2)} (2 threads), ${(best1 / median(gemm)).toFixed(2)} (1 thread); wall time incl. task dispatch`,
      });
      gemmAll.push(...gemm);
    } finally {
      await pool.close();
    }
  }
  rows.unshift({
    name: `jax-js np.dot GEMM ${T}×${WIDTH}·${WIDTH}×${T} (reference)`,
    value: median(gemmAll),
    unit: "GFLOP/s",
    note: "2·m·n·k flops, incl. upload + download; median over the interleaved samples",
  });
  // Accuracy of the other kernels on this data, relative to ‖g_s‖‖g_t‖ (jax's documented bound is (w+2)·2⁻²⁴;
  // wasm's is 2·p·2⁻⁵³ relative to Σ|g_s,c g_t,c| ≤ ‖g_s‖‖g_t‖).
  const exact = grams.js;
  const worstOf = (other: Float64Array): number => {
    let worst = 0;
    for (let s = 0; s < T; s++) {
      for (let t = 0; t <= s; t++) {
        const scale = Math.sqrt(exact[s * T + s] * exact[t * T + t]);
        worst = Math.max(worst, Math.abs(other[s * T + t] - exact[s * T + t]) / scale);
      }
    }
    return worst;
  };
  rows.push({
    name: "jax kernel max |ΔK_st| / (‖g_s‖‖g_t‖)",
    value: worstOf(grams.jax),
    unit: "relative",
    note: `bound (w+2)·2⁻²⁴ = ${((WIDTH + 2) * 2 ** -24).toExponential(2)}`,
  });
  rows.push({
    name: "wasm kernel max |ΔK_st| / (‖g_s‖‖g_t‖)",
    value: worstOf(grams.wasm),
    unit: "relative",
    note: `bound 2·p·2⁻⁵³ = ${(2 * p * 2 ** -53).toExponential(2)}`,
  });
  return rows;
}
