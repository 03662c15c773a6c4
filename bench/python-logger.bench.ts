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

interface ModeTimes {
  wall_s: number[];
  cpu_s: number[];
  hook_wall_s: number[];
  hook_cpu_s: number[];
  bytes_per_step: number;
}

interface GptBench {
  params: number;
  threads: number;
  tokens: number;
  modes: Record<string, ModeTimes>;
  state_bytes: Record<string, { hash_tables: number; omega: number }>;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
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
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
  });
  const r = JSON.parse(out.trim().split("\n").at(-1)!) as GptBench;
  const base = r.modes.none;
  const baseCpu = median(base.cpu_s);
  const baseWall = median(base.wall_s);
  const model = `GPT ${(r.params / 1e6).toFixed(1)}M params, ${r.tokens} tokens/step, ${r.threads} threads`;
  const rows: BenchRow[] = [
    {
      name: `${model}: training step, no logging (CPU time)`,
      value: baseCpu,
      unit: "s",
      note: `reference; wall ${base.wall_s.map((s) => s.toFixed(1)).join(", ")} s`,
    },
  ];
  for (const [mode, m] of Object.entries(r.modes)) {
    if (mode === "none") continue;
    const state = r.state_bytes[mode];
    const hookCpu = median(m.hook_cpu_s);
    rows.push({
      name: `${model}: logger time per step, ${mode} (CPU time)`,
      value: hookCpu,
      unit: "s",
      ratio: hookCpu / baseCpu,
      reference: "unlogged step, same run",
      ...(mode.startsWith("countsketch") ? { target: "≤ 0.05" } : {}),
      note:
        `${(m.bytes_per_step / 1024).toFixed(1)} KiB written per step; ` +
        `step CPU ${median(m.cpu_s).toFixed(2)} s (×${(median(m.cpu_s) / baseCpu).toFixed(3)}), ` +
        `wall ${median(m.wall_s).toFixed(1)} s (×${(median(m.wall_s) / baseWall).toFixed(3)}), hooks wall ${median(m.hook_wall_s).toFixed(2)} s` +
        (state
          ? `; state: hash tables ${(state.hash_tables / 2 ** 20).toFixed(0)} MiB, Ω ${(state.omega / 2 ** 20).toFixed(1)} MiB`
          : ""),
    });
  }
  return rows;
}
