/** @file Sequential read throughput of the trace readers: a generated ~1 GB float32 trace (GRADTRACE_BENCH_QUICK=1:
 * ~100 MB), once as a .gtrace file and once as a safetensors directory, read step by step through readTensor
 * (float32 out) and through readSlice in blocks of 2¹⁶ elements (float64 out), against plain `fs.readSync` of the
 * same files in 8 MiB blocks measured in the same run (ratio = reader GB/s ÷ readSync GB/s). Files are written
 * first, so all passes read from the page cache; each pass is run twice and the faster kept. The generated files
 * are deleted afterwards. Expected shape of the results: safetensors readTensor close to readSync (it reads straight
 * into the returned Float32Array); gtrace readTensor lower because it also verifies each payload's CRC-32; readSlice
 * bounded by the float32 → float64 widening loop its contract requires. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createGtraceWriter, openTrace, type TraceReader, writeSafetensors } from "../src/trace/index.ts";
import { bestOf } from "./timing.ts";
import type { BenchRow } from "./types.ts";

const TENSORS = [
  { name: "layer1.weight", shape: [1024, 1024] },
  { name: "layer2.weight", shape: [1024, 1024] },
  { name: "layer3.weight", shape: [1024, 512] },
  { name: "head.bias", shape: [1000] },
];
const SLICE = 1 << 16;

function readSyncAll(files: readonly string[]): number {
  const buf = new Uint8Array(8 << 20);
  let total = 0;
  for (const f of files) {
    const fd = fs.openSync(f, "r");
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.byteLength, pos);
      if (n === 0) break;
      pos += n;
      total += n;
    }
    fs.closeSync(fd);
  }
  return total;
}

function readTensors(r: TraceReader): number {
  let checksum = 0;
  for (let pos = 0; pos < r.info.steps.length; pos++) {
    for (const t of r.info.tensors) checksum += r.readTensor(pos, t.name)[0];
  }
  return checksum;
}

function readSlices(r: TraceReader): number {
  const out = new Float64Array(SLICE);
  let checksum = 0;
  for (let pos = 0; pos < r.info.steps.length; pos++) {
    for (const t of r.info.tensors) {
      for (let off = 0; off < t.numel; off += SLICE) {
        const n = Math.min(SLICE, t.numel - off);
        r.readSlice(pos, t.name, off, n, out);
        checksum += out[0];
      }
    }
  }
  return checksum;
}

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const numel = TENSORS.map((t) => t.shape.reduce((a, b) => a * b, 1));
  const stepBytes = numel.reduce((a, b) => a + b, 0) * 4;
  const steps = Math.max(2, Math.round((quick ? 100e6 : 1e9) / stepBytes));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-bench-"));
  const rows: BenchRow[] = [];
  try {
    const gtrace = path.join(dir, "run.gtrace");
    const stDir = path.join(dir, "st");
    fs.mkdirSync(stDir);
    const writer = createGtraceWriter(gtrace, { tensors: TENSORS, fsync: "none" });
    const data = numel.map((n) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.001);
      return a;
    });
    for (let s = 0; s < steps; s++) {
      data.forEach((a) => {
        a[0] = s;
      });
      writer.append(s, Object.fromEntries(TENSORS.map((t, i) => [t.name, data[i]])));
      writeSafetensors(
        path.join(stDir, `step_${String(s).padStart(6, "0")}.safetensors`),
        Object.fromEntries(
          TENSORS.map((t, i) => [t.name, { dtype: "F32" as const, shape: t.shape, data: data[i] }]),
        ),
      );
    }
    writer.close();
    const layouts: { label: string; target: string; files: string[] }[] = [
      { label: "gtrace", target: gtrace, files: [gtrace] },
      {
        label: "safetensors-dir",
        target: stDir,
        files: fs.readdirSync(stDir).map((f) => path.join(stDir, f)),
      },
    ];
    for (const { label, target, files } of layouts) {
      const bytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
      const refSeconds = bestOf(2, () => readSyncAll(files));
      const refGbs = bytes / refSeconds / 1e9;
      rows.push({
        name: `${label}: fs.readSync 8 MiB blocks (reference)`,
        value: refGbs,
        unit: "GB/s",
        note: `${(bytes / 1e6).toFixed(0)} MB`,
      });
      const r = openTrace(target);
      try {
        const payload = r.info.payloadBytes;
        const tensorGbs = payload / bestOf(2, () => readTensors(r)) / 1e9;
        const sliceGbs = payload / bestOf(2, () => readSlices(r)) / 1e9;
        rows.push({
          name: `${label}: readTensor (float32 out)`,
          value: tensorGbs,
          unit: "GB/s",
          ratio: tensorGbs / refGbs,
          reference: "fs.readSync of the same files",
          target: "≥ 0.5",
        });
        rows.push({
          name: `${label}: readSlice ${SLICE}-element blocks (float64 out)`,
          value: sliceGbs,
          unit: "GB/s",
          ratio: sliceGbs / refGbs,
          reference: "fs.readSync of the same files",
          target: "≥ 0.3",
        });
      } finally {
        r.close();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
