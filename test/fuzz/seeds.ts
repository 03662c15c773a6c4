/** @file The fuzz suite's starting inputs: one small, valid trace of every layout gradtrace reads — gtrace (written
 * by the TypeScript writer with F32/F16/BF16/F64 tensors, loss, lr and a momentum buffer, and by the Python
 * `GtraceWriter` of examples/pytorch_logger.py), safetensors, npy and npz directories (ours, numpy's and the Python
 * logger's, stored and deflated, Fortran order, big-endian, half precision), manifests with raw and gtrace data, and
 * a sketched manifest — each held in memory as relative path → bytes, so a mutated copy can be written per case. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRng } from "../../src/core/rng.ts";
import {
  convertTrace,
  createGtraceWriter,
  openTrace,
  writeNpy,
  writeNpz,
  writeSafetensors,
} from "../../src/trace/index.ts";

export interface SeedTrace {
  /** Name in reports ("gtrace", "npz-deflated (numpy)", …). */
  readonly name: string;
  /** What `openTrace` is given, relative to the case directory ("" = the directory itself). */
  readonly entry: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The data is gtrace (checksummed per record): no mutation may change a value without it being reported. */
  readonly checksummed: boolean;
  /** For gtrace files: [start, end) of each record, by file, for removing / duplicating steps. */
  readonly records?: ReadonlyMap<string, readonly [number, number][]>;
}

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

/** Every file under `dir` accepted by `keep`, keyed by its path relative to `dir` ("/"-separated). */
export function readTree(dir: string, keep: (rel: string) => boolean = () => true): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      // A plain Uint8Array copy: Buffer#slice shares memory, and mutations must never reach the seed.
      else if (d.isFile() && keep(r)) out.set(r, new Uint8Array(fs.readFileSync(path.join(dir, r))));
    }
  };
  walk("");
  return out;
}

/** Sets every zip time stamp to 1980-01-01 00:00, so our npz seeds (written now) are the same bytes on every run
 * and a case number reproduces its input exactly. */
function fixZipTimes(b: Uint8Array): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i + 16 <= b.byteLength; i++) {
    if (b[i] !== 0x50 || b[i + 1] !== 0x4b) continue;
    const sig = b[i + 2] * 256 + b[i + 3];
    const at = sig === 0x0304 ? i + 10 : sig === 0x0102 ? i + 12 : -1;
    if (at >= 0) {
      dv.setUint16(at, 0, true);
      dv.setUint16(at + 2, 0x21, true);
    }
  }
}

/** Record ranges of a gtrace file, following the documented layout (the seeds are valid, so lengths are true). */
export function gtraceRecords(bytes: Uint8Array): [number, number][] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 16 + dv.getUint32(8, true);
  const out: [number, number][] = [];
  while (pos + 48 <= bytes.byteLength) {
    const end = pos + 48 + 16 * dv.getUint32(pos + 4, true) + Number(dv.getBigUint64(pos + 8, true));
    out.push([pos, end]);
    pos = end;
  }
  return out;
}

function values(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Builds the seeds (written once into a scratch directory, then held in memory). */
export function buildSeeds(): SeedTrace[] {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-fuzz-seeds-"));
  const seeds: SeedTrace[] = [];
  const add = (
    name: string,
    dir: string,
    entry: string,
    checksummed: boolean,
    keep?: (rel: string) => boolean,
  ) => {
    const files = readTree(dir, keep);
    for (const [rel, bytes] of files)
      if (rel.endsWith(".npz") && !dir.startsWith(FIXTURES)) fixZipTimes(bytes);
    const records = new Map<string, [number, number][]>();
    for (const [rel, bytes] of files) if (rel.endsWith(".gtrace")) records.set(rel, gtraceRecords(bytes));
    seeds.push({ name, entry, files, checksummed, ...(records.size > 0 ? { records } : {}) });
  };
  try {
    const specs = [
      { name: "w", shape: [8, 6], dtype: "F32" as const },
      { name: "h", shape: [12], dtype: "F16" as const },
      { name: "bf", shape: [4, 4], dtype: "BF16" as const },
      { name: "d", shape: [6], dtype: "F64" as const },
    ];
    const numel = (s: { shape: number[] }) => s.shape.reduce((a, b) => a * b, 1);
    const step = (t: number) =>
      Object.fromEntries(specs.map((s, i) => [s.name, values(numel(s), 31 * t + i)]));

    const g = path.join(scratch, "gtrace");
    fs.mkdirSync(g);
    const w = createGtraceWriter(path.join(g, "run.gtrace"), { tensors: specs, meta: { seed: 1 } });
    for (let t = 0; t < 5; t++)
      w.append(t * 2, step(t), { loss: 1 / (t + 1), lr: 0.01, momentum: { w: values(48, 900 + t) } });
    w.close();
    add("gtrace", g, "run.gtrace", true);

    const st = path.join(scratch, "safetensors");
    fs.mkdirSync(st);
    for (let t = 0; t < 4; t++) {
      const v = step(t);
      writeSafetensors(
        path.join(st, `step_${t}.safetensors`),
        Object.fromEntries(specs.map((s) => [s.name, { dtype: s.dtype, shape: s.shape, data: v[s.name] }])),
        { loss: String(1 / (t + 1)), lr: "0.01" },
      );
    }
    add("safetensors-dir", st, "", false);

    const npy = path.join(scratch, "npy");
    for (let t = 0; t < 3; t++) {
      const d = path.join(npy, `step_${t}`);
      fs.mkdirSync(d, { recursive: true });
      const v = step(t);
      writeNpy(path.join(d, "w.npy"), { dtype: "F32", shape: [8, 6], data: v.w });
      writeNpy(path.join(d, "d.npy"), { dtype: "F64", shape: [6], data: Float64Array.from(v.d) });
      writeNpy(path.join(d, "__loss__.npy"), { dtype: "F64", shape: [], data: new Float64Array([t]) });
    }
    add("npy-dir", npy, "", false);

    for (const compress of [false, true]) {
      const z = path.join(scratch, compress ? "npz-deflated" : "npz-stored");
      fs.mkdirSync(z);
      for (let t = 0; t < 3; t++) {
        const v = step(t);
        writeNpz(
          path.join(z, `step_${t}.npz`),
          {
            w: { dtype: "F32", shape: [8, 6], data: v.w },
            h: { dtype: "F16", shape: [12], data: v.h },
            __loss__: { dtype: "F64", shape: [], data: new Float64Array([t]) },
          },
          { compress },
        );
      }
      add(compress ? "npz-deflated" : "npz-stored", z, "", false);
    }

    // Manifests: raw data (what convert writes), gtrace data, and a sketched run's manifest.
    const src = openTrace(path.join(g, "run.gtrace"));
    const raw = path.join(scratch, "manifest-raw");
    convertTrace(src, raw, { format: "manifest" });
    src.close();
    add("manifest (raw data)", raw, "", false);

    const mg = path.join(scratch, "manifest-gtrace");
    fs.mkdirSync(mg);
    fs.copyFileSync(path.join(g, "run.gtrace"), path.join(mg, "data.gtrace"));
    fs.writeFileSync(
      path.join(mg, "trace.json"),
      JSON.stringify({
        version: 1,
        steps: [0, 2, 4, 6, 8],
        tensors: specs.map(({ name, shape, dtype }) => ({ name, shape, dtype })),
        data: { layout: "gtrace", path: "data.gtrace" },
        meta: { note: "fuzz seed" },
      }),
    );
    add("manifest (gtrace data)", mg, "", true);

    const sk = path.join(scratch, "sketched");
    fs.mkdirSync(sk);
    const sw = createGtraceWriter(path.join(sk, "sketch.gtrace"), {
      tensors: [
        { name: "a", shape: [32] },
        { name: "b", shape: [32] },
      ],
    });
    for (let t = 0; t < 6; t++) sw.append(t, { a: values(32, 500 + t), b: values(32, 600 + t) }, { loss: t });
    sw.close();
    fs.writeFileSync(
      path.join(sk, "trace.json"),
      JSON.stringify({
        version: 1,
        steps: [0, 1, 2, 3, 4, 5],
        tensors: [
          { name: "a", shape: [32], dtype: "F32" },
          { name: "b", shape: [32], dtype: "F32" },
        ],
        data: { layout: "gtrace", path: "sketch.gtrace" },
        sketch: { kind: "countsketch", k: 32, seed: 3, originalNumel: { a: 1000, b: 200 } },
      }),
    );
    add("manifest (sketched, gtrace data)", sk, "", true);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  // Files written by other programs: numpy's own writers, and examples/pytorch_logger.py.
  add("npy-dir (numpy: Fortran, big-endian, f2, v2/v3)", path.join(FIXTURES, "npy-dir"), "", false);
  add("npz-stored (numpy)", path.join(FIXTURES, "npz-stored"), "", false);
  add("npz-deflated (numpy)", path.join(FIXTURES, "npz-deflated"), "", false);
  add("safetensors-dir (hand-written)", path.join(FIXTURES, "safetensors-dir"), "", false);
  const py = path.join(FIXTURES, "python-writers");
  add("gtrace (pytorch_logger.py)", py, "trace.gtrace", true, (rel) => rel === "trace.gtrace");
  add("safetensors-dir (pytorch_logger.py)", path.join(py, "safetensors"), "", false);
  add("npz-stored (pytorch_logger.py)", path.join(py, "npz-stored"), "", false);
  add("npz-deflated (numpy savez_compressed)", path.join(py, "npz-deflated"), "", false);
  return seeds;
}
