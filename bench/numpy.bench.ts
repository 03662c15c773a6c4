/** @file End-to-end exact analysis against numpy: a safetensors directory of T = 100 steps × 2.5·10⁶ float32
 * parameters (two tensors, ≈1 GB; GRADTRACE_BENCH_QUICK=1: 20 steps × 2.5·10⁵) analysed by gradtrace's exact mode
 * (per-tensor Gram matrices in float64, then the metrics) and, in the same run, by numpy (bench/numpy_gram.py:
 * np.fromfile into a float64 matrix per tensor, K = G·Gᵀ — a float64 SYRK in the BLAS — and their sum). Both read
 * the same files from the page cache (warmed first); both report the model's Σ‖g_t‖² and Σ‖g_t − g_{t−1}‖², which
 * must agree. Ratio = numpy seconds ÷ gradtrace seconds (≥ 1: gradtrace is faster).
 *
 * numpy's BLAS: Debian's numpy links the reference BLAS (libblas3) unless an optimised one is the system default.
 * When OpenBLAS is installed (libopenblas0-pthread) the reference run points numpy at it through LD_LIBRARY_PATH,
 * with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from that command alone (set on some machines for old OpenBLAS
 * builds, they select slower kernels); the row's note names the library, its core and thread count as numpy ran
 * them. The float32 row (G·Gᵀ in float32) is for information: it is not the same Gram (float32 accumulation).
 * gradtrace runs with the analyze bench's options (no bootstrap, no per-step matrix spectra) in a child process. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createRng } from "../src/core/rng.ts";
import { writeSafetensors } from "../src/trace/index.ts";
import type { BenchRow } from "./types.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = "/usr/bin/python3";
const OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread";

interface NumpyRun {
  seconds: number;
  gradNormSq: number;
  pathLengthLast: number;
  blas: { libraries: string[]; config?: string; core?: string; threads?: number };
}

interface GradtraceRun {
  seconds: number;
  gradNormSq: number;
  pathLengthLast: number;
  maxRssBytes: number;
}

function writeTrace(dir: string, steps: number, rows: number, cols: number, bias: number): void {
  const rng = createRng(3);
  const w = Float32Array.from({ length: rows * cols }, () => rng.normal());
  const b = Float32Array.from({ length: bias }, () => rng.normal());
  for (let t = 0; t < steps; t++) {
    // Cheap drift so steps differ without drawing p normals per step.
    for (let i = t % 89; i < w.length; i += 89) w[i] += 0.1;
    for (let i = t % 97; i < b.length; i += 97) b[i] -= 0.1;
    writeSafetensors(path.join(dir, `step_${String(t).padStart(6, "0")}.safetensors`), {
      "layer.weight": { dtype: "F32", shape: [rows, cols], data: w },
      "head.weight": { dtype: "F32", shape: [bias], data: b },
    });
  }
}

function warm(dir: string): void {
  const buf = Buffer.allocUnsafe(8 << 20);
  for (const f of fs.readdirSync(dir)) {
    const fd = fs.openSync(path.join(dir, f), "r");
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    fs.closeSync(fd);
  }
}

function numpy(dir: string, float32: boolean): NumpyRun | null {
  if (!fs.existsSync(PYTHON)) return null;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (fs.existsSync(path.join(OPENBLAS_DIR, "libblas.so.3"))) {
    env.LD_LIBRARY_PATH = [OPENBLAS_DIR, env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  }
  try {
    const out = execFileSync(
      PYTHON,
      [path.join(here, "numpy_gram.py"), dir, ...(float32 ? ["float32"] : [])],
      {
        encoding: "utf8",
        env,
        maxBuffer: 1 << 20,
      },
    );
    return JSON.parse(out) as NumpyRun;
  } catch {
    return null;
  }
}

function gradtrace(dir: string, kernel: string): GradtraceRun {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(here, "child", "analyzeChild.ts"), dir, "exact", kernel],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
      env: { ...process.env, GRADTRACE_KERNELS: kernel === "js" ? "js" : "wasm" },
    },
  );
  return JSON.parse(out) as GradtraceRun;
}

function blasNote(r: NumpyRun): string {
  const lib = r.blas.libraries.find((l) => l.includes("openblas")) ?? r.blas.libraries[0] ?? "unknown BLAS";
  const core = r.blas.core ? `, core ${r.blas.core}` : "";
  const threads = r.blas.threads !== undefined ? `, ${r.blas.threads} threads` : "";
  return `${path.basename(path.dirname(lib))}/${path.basename(lib)}${core}${threads}`;
}

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const steps = quick ? 20 : 100;
  const [rows, cols, bias] = quick ? [250, 500, 125_000] : [1250, 1000, 1_250_000];
  const p = rows * cols + bias;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-numpy-"));
  const rows_: BenchRow[] = [];
  try {
    writeTrace(dir, steps, rows, cols, bias);
    warm(dir);
    const gb = (steps * p * 4) / 1e9;
    const ref = numpy(dir, false);
    if (ref === null) {
      return [
        { name: "numpy reference", value: Number.NaN, unit: "s", note: `no ${PYTHON} with numpy: skipped` },
      ];
    }
    rows_.push({
      name: `numpy: read + float64 Gram, ${steps} steps × ${p.toExponential(2)} params (${gb.toFixed(2)} GB)`,
      value: ref.seconds,
      unit: "s",
      note: `reference; ${blasNote(ref)}`,
    });
    const ref32 = numpy(dir, true);
    if (ref32) {
      rows_.push({
        name: "numpy: read + float32 Gram (information)",
        value: ref32.seconds,
        unit: "s",
        note: `float32 accumulation, not the same Gram; ${blasNote(ref32)}`,
      });
    }
    for (const kernel of ["wasm", "js"]) {
      const g = gradtrace(dir, kernel);
      const agree =
        Math.abs(g.gradNormSq - ref.gradNormSq) <= 1e-9 * ref.gradNormSq &&
        Math.abs(g.pathLengthLast - ref.pathLengthLast) <= 1e-6 * ref.pathLengthLast;
      rows_.push({
        name: `gradtrace exact analysis, ${kernel} Gram kernel`,
        value: g.seconds,
        unit: "s",
        ratio: ref.seconds / g.seconds,
        reference: "numpy float64 Gram, same files, same run",
        target: kernel === "wasm" ? "≥ 1.0" : undefined,
        note: `${((steps * steps * p) / g.seconds / 1e9).toFixed(2)} GFLOP/s (n²·p); peak RSS ${(g.maxRssBytes / 2 ** 20).toFixed(0)} MiB; ${agree ? "Σ‖g‖² and P_T(last) agree with numpy" : `MISMATCH with numpy: Σ‖g‖² ${g.gradNormSq} vs ${ref.gradNormSq}`}`,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows_;
}
