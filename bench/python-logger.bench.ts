/** @file Cost of the Python gradient logger (python/gradtrace_log) on a GPT-2-small-shaped model (12 layers, width
 * 768, vocabulary 50,257: 124M parameters; PyTorch CPU, 2 threads): the training step's median time without logging,
 * with countsketch:1024, with countsketch:1024 + matrix_sketch=32, and with full-gradient logging, measured in
 * interleaved rounds in one process (bench/torch_gpt_logging.py), as ratios to the unlogged step; bytes written per
 * step per mode. Goal: sketched logging adds ≤ 5 % to the step. GRADTRACE_BENCH_QUICK=1 uses a 4-layer, width-256
 * model; GRADTRACE_GPT_ARGS passes other shapes (e.g. "--layers 6 --seq 128"). Needs /usr/bin/python3 with torch. */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./types.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.GRADTRACE_PYTHON ?? "/usr/bin/python3";

interface GptBench {
  params: number;
  threads: number;
  tokens: number;
  modes: Record<string, { step_s: number[]; median_s: number; bytes_per_step: number }>;
  state_bytes: Record<string, { hash_tables: number; omega: number }>;
}

export async function run(): Promise<BenchRow[]> {
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    throw new Error(`${PYTHON} has no torch (apt-get install python3-torch): python-logger bench not run`);
  }
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const args = quick
    ? [
        "--layers",
        "4",
        "--width",
        "256",
        "--heads",
        "4",
        "--vocab",
        "8192",
        "--seq",
        "128",
        "--batch",
        "4",
        "--rounds",
        "2",
      ]
    : (process.env.GRADTRACE_GPT_ARGS ?? "").split(" ").filter(Boolean);
  const out = execFileSync(PYTHON, [path.join(here, "torch_gpt_logging.py"), ...args], {
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  const r = JSON.parse(out.trim().split("\n").at(-1)!) as GptBench;
  const base = r.modes.none.median_s;
  const rows: BenchRow[] = [];
  for (const [mode, m] of Object.entries(r.modes)) {
    const state = r.state_bytes[mode];
    rows.push({
      name: `GPT ${(r.params / 1e6).toFixed(1)}M params, ${r.tokens} tokens/step, ${r.threads} threads: step, ${mode === "none" ? "no logging" : mode}`,
      value: m.median_s,
      unit: "s",
      ...(mode === "none"
        ? { note: "reference" }
        : { ratio: m.median_s / base, reference: "no logging, same run" }),
      ...(mode.startsWith("countsketch") ? { target: "≤ 1.05" } : {}),
      ...(mode !== "none"
        ? {
            note: `${(m.bytes_per_step / 1024).toFixed(1)} KiB written per step${state ? `; state: hash tables ${(state.hash_tables / 2 ** 20).toFixed(0)} MiB, Ω ${(state.omega / 2 ** 20).toFixed(1)} MiB` : ""}; steps ${m.step_s.map((s) => s.toFixed(1)).join(", ")} s`,
          }
        : { note: `reference; steps ${m.step_s.map((s) => s.toFixed(1)).join(", ")} s` }),
    });
  }
  return rows;
}
