/** @file Model-zoo throughput: training steps/s of every zoo model (jit value-and-grad step + gradients to the host +
 * host optimizer, i.e. what `gradtrace train` does without the trace write), and the jit step's GEMM throughput in
 * GFLOP/s (FLOPs counted from each model's matrix products, forward + backward ≈ 3 × forward) against the GFLOP/s of
 * a plain jit-compiled jax-js matmul on the same backend measured in the same run. */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { jit, numpy as np } from "@jax-js/jax";
import { ensureJax } from "../src/lab/zoo/jaxRuntime.ts";
import { createZooModel, parameterCount, ZOO_MODEL_NAMES } from "../src/lab/zoo/registry.ts";
import { train } from "../src/lab/zoo/trainer.ts";
import type { BenchRow } from "./types.ts";

const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
const here = path.dirname(fileURLToPath(import.meta.url));

/** A Python interpreter with PyTorch (pyenv's python3 first, then Debian's python3-torch), or null. */
function pythonWithTorch(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    try {
      execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
      return py;
    } catch {
      // not this one
    }
  }
  return null;
}

/** GFLOP/s of a jit-compiled n×n×n float32 matmul (best of a few repetitions after a warm-up). */
async function gemmGflops(n: number, reps: number): Promise<number> {
  const matmul = jit((a: np.Array, b: np.Array) => np.matmul(a, b));
  const make = (seed: number) => {
    const data = new Float32Array(n * n);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761 + seed) % 1000) / 1000 - 0.5;
    return np.array(data).reshape([n, n]);
  };
  const a = make(1);
  const b = make(2);
  await matmul(a.ref, b.ref).data();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await matmul(a.ref, b.ref).data();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  a.dispose();
  b.dispose();
  matmul.dispose();
  return (2 * n ** 3) / best / 1e9;
}

export async function run(): Promise<BenchRow[]> {
  await ensureJax();
  const rows: BenchRow[] = [];
  const gemm = await gemmGflops(512, quick ? 3 : 8);
  let cnnStepsPerSecond = Number.NaN;
  rows.push({ name: "jax-js jit matmul 512³ (wasm)", value: gemm, unit: "GFLOP/s", note: "reference" });
  for (const name of ZOO_MODEL_NAMES) {
    const model = createZooModel(name);
    const batch = model.defaults.batch;
    const steps = quick ? 8 : 30;
    // The first steps include jit compilation: time a separate run after a warm-up run of the same shapes.
    await train({ model, steps: 2, batch, seed: 0 });
    const result = await train({ model, steps, batch, seed: 1 });
    const gflops = (model.gemmFlopsPerStep(batch) * result.stepsPerSecond) / 1e9;
    if (name === "cnn") cnnStepsPerSecond = result.stepsPerSecond;
    rows.push({
      name: `${name} train steps (batch ${batch}, ${parameterCount(model)} params, ${model.defaults.optimizer})`,
      value: result.stepsPerSecond,
      unit: "steps/s",
    });
    rows.push({
      name: `${name} train step GEMM throughput`,
      value: gflops,
      unit: "GFLOP/s",
      ratio: gflops / gemm,
      reference: "jax-js jit matmul 512³",
      note: "FLOPs of the model's matrix products only; small models are dominated by per-op overhead",
    });
  }
  // Optional comparison with PyTorch CPU on the same CNN (same layers, batch and optimizer, 2 threads).
  const py = pythonWithTorch();
  if (py) {
    const batch = createZooModel("cnn").defaults.batch;
    const out = execFileSync(
      py,
      [
        path.join(here, "torch_cnn.py"),
        "--threads",
        "2",
        "--steps",
        quick ? "30" : "200",
        "--batch",
        String(batch),
      ],
      { encoding: "utf8" },
    );
    const torch = JSON.parse(out.trim().split("\n").pop()!) as { steps_per_s: number };
    rows.push({
      name: `PyTorch CPU cnn train steps (batch ${batch}, 2 threads)`,
      value: torch.steps_per_s,
      unit: "steps/s",
      note: "reference (python3-torch)",
    });
    rows.push({
      name: "gradtrace cnn vs PyTorch CPU",
      value: cnnStepsPerSecond / torch.steps_per_s,
      unit: "×",
      ratio: cnnStepsPerSecond / torch.steps_per_s,
      reference: "PyTorch CPU, same run",
      target: "≥ 1/3",
    });
  }
  return rows;
}
