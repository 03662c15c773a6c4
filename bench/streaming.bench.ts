/** @file Long runs (issue 13): the streaming mode on a synthetic .gtrace of T = 100,000 steps × 1,024 coordinates
 * (≈ 400 MB, written to a temp dir and deleted), its peak RSS, its growth from T = 10,000 on the same data, and the
 * exact path at T = 4,000 × 512 against numpy doing the same algorithm (Gram + eigenvalues of K and of the
 * increments' Gram) in the same run. Each analysis runs in a child process (bench/child/streamChild.ts) so its peak
 * RSS is its own; the default predictor set and bootstrap are on, matrix geometry off.
 * numpy: `/usr/bin/python3` with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (see bench/numpy_gram_eigh.py); its
 * BLAS is reported in the note. GRADTRACE_BENCH_QUICK=1: T = 10,000 / 1,000 and exact T = 1,000. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { writeLongTrace } from "./longTrace.ts";
import type { BenchRow } from "./types.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.env.GRADTRACE_BENCH_QUICK === "1";

interface ChildResult {
  seconds: number;
  maxRssBytes: number;
  mode: string;
  steps: number;
  kappa: Record<string, number>;
}

function analyzeInChild(file: string, mode: string): ChildResult {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(here, "child", "streamChild.ts"), file, mode],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  return JSON.parse(out) as ChildResult;
}

function numpy(
  steps: number,
  p: number,
  which: string,
): { eigh: number | null; eigvalsh: number | null; blas: string } | null {
  const python = "/usr/bin/python3";
  if (!fs.existsSync(python)) return null;
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  try {
    const out = execFileSync(
      python,
      [path.join(here, "numpy_gram_eigh.py"), String(steps), String(p), which],
      {
        encoding: "utf8",
        env,
      },
    );
    return JSON.parse(out);
  } catch {
    return null;
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-stream-"));
  try {
    const long = quick ? 10_000 : 100_000;
    const short = long / 10;
    const p = 1024;
    const longFile = path.join(dir, "long.gtrace");
    const shortFile = path.join(dir, "short.gtrace");
    writeLongTrace(longFile, long, p);
    writeLongTrace(shortFile, short, p);
    const mb = fs.statSync(longFile).size / 1e6;
    const a = analyzeInChild(longFile, "auto");
    const b = analyzeInChild(shortFile, "streaming");
    rows.push({
      name: `streaming analyze, T = ${long.toLocaleString("en")} × ${p} (${mb.toFixed(0)} MB)`,
      value: a.seconds,
      unit: "s",
      target: quick ? undefined : "≤ 60 s",
      note: `mode ${a.mode}; default predictors (8), window 64, FD ℓ = 16 per tensor and total, bootstrap on`,
    });
    rows.push({
      name: `streaming analyze peak RSS, T = ${long.toLocaleString("en")}`,
      value: a.maxRssBytes / 2 ** 20,
      unit: "MiB",
      ratio: a.maxRssBytes / b.maxRssBytes,
      reference: `T = ${short.toLocaleString("en")}`,
      target: quick ? undefined : "≤ 1536 MiB",
    });
    rows.push({
      name: `streaming time(T = ${long.toLocaleString("en")}) / time(T = ${short.toLocaleString("en")})`,
      value: a.seconds / b.seconds,
      unit: "×",
      ratio: a.seconds / b.seconds,
      reference: `T = ${short.toLocaleString("en")}: ${b.seconds.toFixed(1)} s`,
      target: "≤ 15 (linear: 10)",
    });
    fs.rmSync(longFile);
    fs.rmSync(shortFile);

    const exactSteps = quick ? 1000 : 4000;
    const exactP = 512;
    const exactFile = path.join(dir, "exact.gtrace");
    writeLongTrace(exactFile, exactSteps, exactP);
    const ex = analyzeInChild(exactFile, "exact");
    const np = numpy(exactSteps, exactP, quick ? "both" : "eigvalsh");
    rows.push({
      name: `exact analyze, T = ${exactSteps.toLocaleString("en")} × ${exactP}`,
      value: ex.seconds,
      unit: "s",
      target: quick ? undefined : "≤ 20 s",
      note: `whole analysis (Gram, 8 predictors, spectra of K and HᵀH, windows, bootstrap); peak RSS ${(ex.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
    });
    if (np?.eigvalsh) {
      rows.push({
        name: `numpy Gram + eigvalsh(K), eigvalsh(DKDᵀ), T = ${exactSteps.toLocaleString("en")} × ${exactP}`,
        value: np.eigvalsh,
        unit: "s",
        note: `reference; numpy BLAS: ${np.blas}${np.eigh ? `; with eigh (vectors): ${np.eigh.toFixed(1)} s` : ""}`,
      });
      rows.push({
        name: "exact analyze speed vs numpy (Gram + eigenvalues)",
        value: np.eigvalsh / ex.seconds,
        unit: "×",
        ratio: np.eigvalsh / ex.seconds,
        reference: "numpy, same run",
        target: "≥ 0.5",
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
