/** @file What verifying every record costs (issue 15; issue 14 targets ≥ 3 GB/s for the CRC-32 of record checks).
 * - CRC-32 throughput over a 64 MiB buffer: Node's zlib.crc32 (what src/io/crc32.ts uses) and hash-wasm's CRC32 (the
 *   WASM library the issues name), against a plain copy of the same buffer (Uint8Array.set) in the same run.
 * - The verification pass of a gtrace trace (~256 MB; GRADTRACE_BENCH_QUICK=1: ~32 MB) in the page cache: a fresh
 *   reader's first partial read of each (step, tensor) checks the whole payload; GB/s, and its time as a share of
 *   the exact and the sketched analysis of the same trace, timed in the same run — the share is what verification
 *   adds to those analyses (the sketched path verified whole reads before this change too).
 * Best of 3 for the throughputs; one run of each analysis. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createCRC32 } from "hash-wasm";
import { analyze } from "../src/analysis/index.ts";
import { crc32 } from "../src/io/index.ts";
import { createGtraceWriter, openTrace } from "../src/trace/index.ts";
import { bestOf } from "./timing.ts";
import type { BenchRow } from "./types.ts";

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const rows: BenchRow[] = [];
  const n = 64 << 20;
  const buf = new Uint8Array(n);
  for (let i = 0; i < n; i += 4096) buf[i] = i >>> 12;
  const copy = new Uint8Array(n);
  const copyGbs = n / bestOf(3, () => copy.set(buf)) / 1e9;
  const zlibGbs = n / bestOf(3, () => crc32(buf)) / 1e9;
  const wasm = await createCRC32();
  let wasmCrc = "";
  const wasmGbs =
    n /
    bestOf(3, () => {
      wasm.init();
      wasm.update(buf);
      wasmCrc = wasm.digest("hex");
    }) /
    1e9;
  if (Number.parseInt(wasmCrc, 16) !== crc32(buf))
    throw new Error("hash-wasm and zlib disagree on the CRC-32");
  rows.push({ name: "memory copy of 64 MiB (reference)", value: copyGbs, unit: "GB/s" });
  rows.push({
    name: "CRC-32, zlib.crc32 (used for record checks)",
    value: zlibGbs,
    unit: "GB/s",
    ratio: zlibGbs / copyGbs,
    reference: "memory copy",
    target: "≥ 3 GB/s",
  });
  rows.push({
    name: "CRC-32, hash-wasm (WASM)",
    value: wasmGbs,
    unit: "GB/s",
    ratio: wasmGbs / zlibGbs,
    reference: "zlib.crc32",
    note: "same value as zlib on the same buffer; not used: slower here",
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-crc-bench-"));
  try {
    const file = path.join(dir, "run.gtrace");
    const steps = quick ? 16 : 64;
    const numel = quick ? 1 << 19 : 1 << 20;
    const tensors = [
      { name: "a", shape: [numel / 2] },
      { name: "b", shape: [numel / 2] },
    ];
    const w = createGtraceWriter(file, { tensors, fsync: "none" });
    const x = new Float32Array(numel / 2);
    for (let s = 0; s < steps; s++) {
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(0.001 * i + 0.1 * s);
      w.append(s, { a: x, b: x.map((v) => -v) });
    }
    w.close();
    const one = new Float64Array(1);
    let payload = 0;
    const verifySeconds = bestOf(3, () => {
      const r = openTrace(file);
      payload = r.info.payloadBytes;
      for (let pos = 0; pos < steps; pos++) for (const t of tensors) r.readSlice(pos, t.name, 0, 1, one);
      r.close();
    });
    const verifyGbs = payload / verifySeconds / 1e9;
    const timeAnalysis = async (sketch?: string) => {
      const r = openTrace(file);
      const t0 = performance.now();
      await analyze(r, {
        bootstrap: false,
        matrixGeometry: false,
        sketchCheckSteps: 0,
        ...(sketch ? { sketch } : {}),
      });
      r.close();
      return (performance.now() - t0) / 1000;
    };
    const exact = await timeAnalysis();
    const sketched = await timeAnalysis("countsketch:512");
    rows.push({
      name: `verification pass of a ${(payload / 1e6).toFixed(0)} MB gtrace (first partial read of each payload)`,
      value: verifyGbs,
      unit: "GB/s",
      ratio: verifyGbs / zlibGbs,
      reference: "zlib.crc32 in memory",
      note: `${(verifySeconds * 1000).toFixed(0)} ms; ${steps} steps × ${numel} parameters`,
    });
    rows.push({
      name: "verification share of the exact analysis",
      value: (100 * verifySeconds) / exact,
      unit: "%",
      ratio: verifySeconds / exact,
      reference: `exact analysis of the same trace (${exact.toFixed(2)} s)`,
    });
    rows.push({
      name: "verification share of the sketched analysis (countsketch:512)",
      value: (100 * verifySeconds) / sketched,
      unit: "%",
      ratio: verifySeconds / sketched,
      reference: `sketched analysis of the same trace (${sketched.toFixed(2)} s)`,
      note: "the sketched path reads whole tensors, which were verified before this change too",
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
