/** @file Long runs (issue 13): the streaming mode on a synthetic .gtrace of T = 100,000 steps × 1,024 coordinates
 * (≈ 400 MB, written to a temp dir and deleted), its peak RSS, its growth from T = 10,000 on the same kind of data,
 * the exact path at T = 4,000 × 512 against numpy doing the same algorithm (Gram + eigenvalues of K and of the
 * increments' Gram) in the same run, and the dense eigensolver alone (a full-rank n = 2,000 matrix, where no rank
 * shortcut applies) against numpy's eigvalsh. Each analysis runs in a child process (bench/child/streamChild.ts) so
 * its peak RSS is its own; the default predictor set and bootstrap are on, matrix geometry off.
 *
 * Times: wall and CPU (user + system) are both reported. On a shared machine the wall time of a single-threaded run
 * is its CPU time stretched by whatever else runs; the CPU time is the load-independent figure, and the comparison
 * with numpy is made on CPU times (wall ratio in the note).
 * numpy: `/usr/bin/python3` with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (see bench/numpy_gram_eigh.py); its
 * BLAS is reported in the note (on the development machine: Debian's reference BLAS/LAPACK, not OpenBLAS).
 * Rows are emitted as soon as they are measured. GRADTRACE_BENCH_QUICK=1: T = 5,000 / 500, exact T = 500,
 * dense n = 300. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { symmetricEigen } from "../src/core/linalg/index.ts";
import { mat } from "../src/core/matrix.ts";
import { createRng } from "../src/core/rng.ts";
import { writeLongTrace } from "./longTrace.ts";
import type { BenchRow } from "./types.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.env.GRADTRACE_BENCH_QUICK === "1";

interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  maxRssBytes: number;
  mode: string;
  steps: number;
  kappa: Record<string, number>;
}

interface Timing {
  wall: number;
  cpu: number;
}

function analyzeInChild(file: string, mode: string): ChildResult {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(here, "child", "streamChild.ts"), file, mode],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(out) as ChildResult;
}

/** bench/numpy_gram_eigh.py with the given arguments, or null without a usable numpy. */
function numpy(args: string[]): { eigh?: Timing | null; eigvalsh: Timing | null; blas: string } | null {
  const python = "/usr/bin/python3";
  if (!fs.existsSync(python)) return null;
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync(python, [path.join(here, "numpy_gram_eigh.py"), ...args], {
      encoding: "utf8",
      env,
    });
    return JSON.parse(out);
  } catch {
    return null;
  }
}

const s = (x: number): string => `${x.toFixed(1)} s`;

export async function run(emit: (row: BenchRow) => void = () => {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const push = (row: BenchRow): void => {
    rows.push(row);
    emit(row);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-stream-"));
  try {
    const long = quick ? 5_000 : 100_000;
    const short = long / 10;
    const p = 1024;
    const longFile = path.join(dir, "long.gtrace");
    const shortFile = path.join(dir, "short.gtrace");
    writeLongTrace(longFile, long, p);
    writeLongTrace(shortFile, short, p);
    const mb = fs.statSync(longFile).size / 1e6;
    const a = analyzeInChild(longFile, "auto");
    const T = long.toLocaleString("en");
    push({
      name: `streaming analyze, T = ${T} × ${p} (${mb.toFixed(0)} MB), wall`,
      value: a.seconds,
      unit: "s",
      target: quick ? undefined : "≤ 60 s",
      note: `mode ${a.mode}; CPU ${s(a.cpuSeconds)} (wall/CPU ${(a.seconds / a.cpuSeconds).toFixed(2)}: the rest is waiting for a core); default predictors (8), window 64, FD ℓ = 16 per tensor and total, bootstrap on`,
    });
    push({
      name: `streaming analyze, T = ${T} × ${p}, CPU`,
      value: a.cpuSeconds,
      unit: "s",
      target: quick ? undefined : "≤ 60 s",
      note: "user + system time of the analysis process: what the run costs without other load",
    });
    const b = analyzeInChild(shortFile, "streaming");
    push({
      name: `streaming analyze peak RSS, T = ${T}`,
      value: a.maxRssBytes / 2 ** 20,
      unit: "MiB",
      ratio: a.maxRssBytes / b.maxRssBytes,
      reference: `T = ${short.toLocaleString("en")}: ${(b.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
      target: quick ? undefined : "≤ 1536 MiB",
    });
    push({
      name: `streaming time(T = ${T}) / time(T = ${short.toLocaleString("en")}), CPU`,
      value: a.cpuSeconds / b.cpuSeconds,
      unit: "×",
      ratio: a.cpuSeconds / b.cpuSeconds,
      reference: `T = ${short.toLocaleString("en")}: CPU ${s(b.cpuSeconds)}, wall ${s(b.seconds)}`,
      target: "≤ 15 (linear: 10)",
      note: `wall-time ratio ${(a.seconds / b.seconds).toFixed(1)} (load-dependent)`,
    });
    fs.rmSync(longFile);
    fs.rmSync(shortFile);

    const exactSteps = quick ? 500 : 4000;
    const exactP = 512;
    const exactFile = path.join(dir, "exact.gtrace");
    writeLongTrace(exactFile, exactSteps, exactP);
    const ex = analyzeInChild(exactFile, "exact");
    const E = `T = ${exactSteps.toLocaleString("en")} × ${exactP}`;
    push({
      name: `exact analyze, ${E}, wall`,
      value: ex.seconds,
      unit: "s",
      target: quick ? undefined : "≤ 20 s",
      note: `CPU ${s(ex.cpuSeconds)}; whole analysis (Gram, 8 predictors, spectra of K and HᵀH, windows, bootstrap); peak RSS ${(ex.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
    });
    const np = numpy([String(exactSteps), String(exactP), quick ? "both" : "eigvalsh"]);
    if (np?.eigvalsh) {
      push({
        name: `numpy Gram + eigvalsh(K), eigvalsh(DKDᵀ), ${E}, CPU`,
        value: np.eigvalsh.cpu,
        unit: "s",
        note: `reference; wall ${s(np.eigvalsh.wall)}; numpy BLAS: ${np.blas}${np.eigh ? `; with eigh (vectors): CPU ${s(np.eigh.cpu)}` : ""}`,
      });
      push({
        name: "exact analyze speed vs numpy (Gram + eigenvalues), CPU",
        value: np.eigvalsh.cpu / ex.cpuSeconds,
        unit: "×",
        ratio: np.eigvalsh.cpu / ex.cpuSeconds,
        reference: "numpy, same run",
        target: "≥ 0.5",
        note: `wall-time ratio ${(np.eigvalsh.wall / ex.seconds).toFixed(2)} (load-dependent)`,
      });
    }

    // The eigensolver alone on a dense full-rank matrix: no low-rank shortcut, blocked reduction + rational QL.
    const n = quick ? 300 : 2000;
    const rng = createRng(1);
    const data = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const v = rng.normal();
        data[i * n + j] = v;
        data[j * n + i] = v;
      }
    }
    // Compile the kernels first, on the leading 200 × 200 block (symmetric like the whole).
    const lead = new Float64Array(200 * 200);
    for (let i = 0; i < 200; i++) lead.set(data.subarray(i * n, i * n + 200), i * 200);
    symmetricEigen(mat(200, 200, lead), { vectors: false });
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    symmetricEigen(mat(n, n, data), { vectors: false });
    const wall = (performance.now() - w0) / 1000;
    const cpuUsed = process.cpuUsage(cpu0);
    const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
    push({
      name: `symmetricEigen values only, dense n = ${n.toLocaleString("en")}, CPU`,
      value: cpu,
      unit: "s",
      note: `wall ${s(wall)}; blocked Householder reduction (panels of 32) + rational QL`,
    });
    const dense = numpy(["dense", String(n)]);
    if (dense?.eigvalsh) {
      push({
        name: `numpy eigvalsh, dense n = ${n.toLocaleString("en")}, CPU`,
        value: dense.eigvalsh.cpu,
        unit: "s",
        note: `reference; wall ${s(dense.eigvalsh.wall)}; numpy BLAS: ${dense.blas}`,
      });
      push({
        name: "dense eigenvalues speed vs numpy eigvalsh, CPU",
        value: dense.eigvalsh.cpu / cpu,
        unit: "×",
        ratio: dense.eigvalsh.cpu / cpu,
        reference: "numpy, same run",
        target: "≥ 0.5",
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
