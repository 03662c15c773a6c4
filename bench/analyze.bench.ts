/** @file Analyzing a multi-GB trace from disk: GB/s of the sketched (streaming) path and of the exact path, each
 * against plain sequential file read speed measured in the same run, the exact path's Gram GFLOP/s, and peak RSS
 * at two parameter counts (it must not grow with p). Each analysis runs in a child process for a clean RSS.
 * Size: GRADTRACE_BENCH_QUICK=1 → ~0.2 GB, else ~2 GB (T = 256 steps). The generated files are deleted. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createRng } from "../src/core/rng.ts";
import { createGtraceWriter } from "../src/trace/index.ts";
import type { BenchRow } from "./types.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
const STEPS = 256;

function writeTrace(file: string, numel: number): void {
  const tensors = [
    { name: "a.weight", shape: [Math.floor(numel / 2 / 1000), 1000] },
    { name: "b.weight", shape: [numel - Math.floor(numel / 2 / 1000) * 1000] },
  ];
  const w = createGtraceWriter(file, { tensors, fsync: "close" });
  const rng = createRng(1);
  const bufs = tensors.map((t) => new Float32Array(t.shape.reduce((x, y) => x * y, 1)));
  for (const b of bufs) for (let i = 0; i < b.length; i++) b[i] = rng.normal();
  for (let t = 0; t < STEPS; t++) {
    // Cheap drift so steps differ without generating p random numbers per step.
    for (const b of bufs) for (let i = t % 97; i < b.length; i += 97) b[i] += 0.1;
    w.append(t, { "a.weight": bufs[0], "b.weight": bufs[1] });
  }
  w.close();
}

function plainReadGBs(file: string): number {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(8 << 20);
  const started = performance.now();
  let total = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    total += n;
  }
  fs.closeSync(fd);
  return total / 1e9 / ((performance.now() - started) / 1000);
}

function child(
  file: string,
  mode: string,
  kernel = "js",
): { seconds: number; bytes: number; maxRssBytes: number } {
  // The kernel family of everything else (sketches, decoders) follows the Gram kernel: js runs the references.
  const env = { ...process.env, GRADTRACE_KERNELS: kernel === "js" ? "js" : "wasm" };
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(here, "child", "analyzeChild.ts"), file, mode, kernel],
    { encoding: "utf8", maxBuffer: 1 << 20, env },
  );
  return JSON.parse(out);
}

export async function run(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-analyze-"));
  const rows: BenchRow[] = [];
  try {
    const big = quick ? 200_000 : 2_000_000;
    const small = big / 4;
    const bigFile = path.join(dir, "big.gtrace");
    const smallFile = path.join(dir, "small.gtrace");
    writeTrace(bigFile, big);
    writeTrace(smallFile, small);
    const gb = fs.statSync(bigFile).size / 1e9;
    plainReadGBs(bigFile); // warm the page cache the same way for every reader below
    const read = plainReadGBs(bigFile);
    rows.push({
      name: `plain sequential read (${gb.toFixed(2)} GB)`,
      value: read,
      unit: "GB/s",
      note: "reference",
    });
    for (const kernel of ["js", "wasm"]) {
      const sk = child(bigFile, "countsketch:1024", kernel);
      rows.push({
        name: `sketched path (countsketch:1024), ${kernel} kernels`,
        value: sk.bytes / 1e9 / sk.seconds,
        unit: "GB/s",
        ratio: sk.bytes / 1e9 / sk.seconds / read,
        reference: "plain read",
        target: kernel === "wasm" ? "≥ 0.5" : undefined,
      });
    }
    for (const kernel of ["js", "wasm", "jax"]) {
      const ex = child(bigFile, "exact", kernel);
      rows.push({
        name: `exact path, ${kernel} Gram kernel`,
        value: ex.bytes / 1e9 / ex.seconds,
        unit: "GB/s",
        ratio: ex.bytes / 1e9 / ex.seconds / read,
        reference: "plain read",
        note: `${((STEPS * STEPS * big) / ex.seconds / 1e9).toFixed(2)} GFLOP/s (n²·p flops)`,
      });
      if (kernel === "wasm") {
        const exSmall = child(smallFile, "exact", kernel);
        rows.push({
          name: `peak RSS exact, p = ${big.toLocaleString("en")}`,
          value: ex.maxRssBytes / 2 ** 20,
          unit: "MiB",
          ratio: ex.maxRssBytes / exSmall.maxRssBytes,
          reference: `p = ${small.toLocaleString("en")} (4× smaller)`,
          target: "≈ 1 (independent of p)",
        });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
