/** @file Mutations an adversary (or a failing disk, a killed writer, a careless script) applies to a trace: bit
 * flips, bytes set to edge values, truncations, lying length fields (at the offsets each format keeps them), edited
 * header digits, NaN / Inf bit patterns over payload floats, removed and duplicated steps (files or gtrace records),
 * inserted and deleted bytes, regions spliced in from another file, renamed files and edited manifest JSON. Every
 * choice comes from the case's seeded generator, so a case number reproduces its input exactly. */
import type { Rng } from "../../src/core/rng.ts";
import type { SeedTrace } from "./seeds.ts";

export type Files = Map<string, Uint8Array>;

const INTERESTING_32 = [
  0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];
const NAN_PATTERNS_32 = [0x7fc00000, 0x7f800000, 0xff800000, 0x7f800001, 0xffffffff, 0x7fbfffff];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

function fileNames(files: Files): string[] {
  return [...files.keys()].sort();
}

function pickFile(rng: Rng, files: Files): string | null {
  const names = fileNames(files).filter((n) => files.get(n)!.byteLength > 0);
  return names.length === 0 ? null : pick(rng, names);
}

function replace(files: Files, name: string, bytes: Uint8Array): void {
  files.set(name, bytes);
}

/** Positions of the length / offset fields of a file's format (u16 / u32 / u64, little-endian). */
function lengthFields(
  name: string,
  b: Uint8Array,
  records: readonly [number, number][] | undefined,
): [number, number][] {
  const out: [number, number][] = []; // [offset, width]
  const ascii = (at: number, s: string) => s.split("").every((c, i) => b[at + i] === c.charCodeAt(0));
  if (ascii(0, "GTRACE")) {
    out.push([8, 4]);
    for (const [start] of records ?? []) out.push([start + 4, 4], [start + 8, 8]);
  } else if (name.endsWith(".safetensors")) {
    out.push([0, 8]);
  } else if (name.endsWith(".npy")) {
    out.push([8, b[6] === 1 ? 2 : 4]);
  } else if (name.endsWith(".npz")) {
    for (let i = 0; i + 4 <= b.byteLength; i++) {
      if (b[i] !== 0x50 || b[i + 1] !== 0x4b) continue;
      const sig = b[i + 2] * 256 + b[i + 3];
      if (sig === 0x0102) out.push([i + 20, 4], [i + 24, 4], [i + 28, 2], [i + 42, 4]);
      if (sig === 0x0304) out.push([i + 18, 4], [i + 22, 4], [i + 26, 2], [i + 28, 2]);
      if (sig === 0x0506) out.push([i + 10, 2], [i + 12, 4], [i + 16, 4]);
    }
  }
  return out.filter(([at, w]) => at + w <= b.byteLength);
}

function writeUint(b: Uint8Array, at: number, width: number, value: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (width === 2) dv.setUint16(at, value & 0xffff, true);
  else if (width === 4) dv.setUint32(at, value >>> 0, true);
  else dv.setBigUint64(at, BigInt(Math.max(0, Math.floor(value))) & 0xffffffffffffffffn, true);
}

function readUint(b: Uint8Array, at: number, width: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (width === 2) return dv.getUint16(at, true);
  if (width === 4) return dv.getUint32(at, true);
  return Number(dv.getBigUint64(at, true));
}

type Mutation = (rng: Rng, files: Files, seed: SeedTrace) => string | null;

const bitFlip: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!.slice();
  const n = 1 + rng.int(rng.uniform() < 0.7 ? 1 : 8);
  for (let k = 0; k < n; k++) b[rng.int(b.byteLength)] ^= 1 << rng.int(8);
  replace(files, name, b);
  return `flip ${n} bit(s) in ${name}`;
};

const setBytes: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!.slice();
  const at = rng.int(b.byteLength);
  const width = pick(rng, [1, 2, 4]);
  const v = pick(rng, INTERESTING_32);
  for (let k = 0; k < width && at + k < b.byteLength; k++) b[at + k] = (v >>> (8 * k)) & 0xff;
  replace(files, name, b);
  return `set ${width} byte(s) at ${at} of ${name} to ${v}`;
};

const truncate: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!;
  // Mostly near the end (what a killed writer leaves), sometimes anywhere.
  const len =
    rng.uniform() < 0.6
      ? Math.max(0, b.byteLength - 1 - rng.int(Math.min(b.byteLength, 200)))
      : rng.int(b.byteLength);
  replace(files, name, b.slice(0, len));
  return `truncate ${name} to ${len} of ${b.byteLength} bytes`;
};

const lyingLength: Mutation = (rng, files, seed) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!.slice();
  const fields = lengthFields(name, b, seed.records?.get(name));
  if (fields.length === 0) return null;
  const [at, width] = pick(rng, fields);
  const old = readUint(b, at, width);
  const candidates = [
    0,
    1,
    old - 1,
    old + 1,
    old + 16,
    old * 2,
    old >>> 1,
    2 ** 31 - 1,
    2 ** 32 - 1,
    2 ** 53,
    2 ** 62,
  ];
  const v = pick(rng, candidates);
  writeUint(b, at, width, v);
  replace(files, name, b);
  return `length field (${width} bytes) at ${at} of ${name}: ${old} → ${v}`;
};

const digits: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!;
  // Runs of ASCII digits inside the first 4 KiB (JSON and npy headers live there).
  const runs: [number, number][] = [];
  const limit = Math.min(b.byteLength, 4096);
  for (let i = 0; i < limit; ) {
    if (b[i] >= 0x30 && b[i] <= 0x39) {
      let j = i;
      while (j < limit && b[j] >= 0x30 && b[j] <= 0x39) j++;
      runs.push([i, j]);
      i = j;
    } else i++;
  }
  if (runs.length === 0) return null;
  const [s, e] = pick(rng, runs);
  const text = pick(rng, [
    "0",
    "1",
    "9",
    "99999999999",
    "-1",
    "1e9",
    "3.5",
    String(rng.int(1000)),
    "18446744073709551616",
  ]);
  const enc = new TextEncoder().encode(text);
  const out = new Uint8Array(b.byteLength - (e - s) + enc.byteLength);
  out.set(b.subarray(0, s));
  out.set(enc, s);
  out.set(b.subarray(e), s + enc.byteLength);
  replace(files, name, out);
  return `digits ${new TextDecoder().decode(b.subarray(s, e))} → ${text} at ${s} of ${name}`;
};

const nanPattern: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!.slice();
  if (b.byteLength < 8) return null;
  // Payloads sit in the second half of these small files; 4-byte aligned floats.
  const half = Math.floor(b.byteLength / 2);
  const at = (half + rng.int(b.byteLength - half - 4)) & ~3;
  const dv = new DataView(b.buffer);
  if (rng.uniform() < 0.8) dv.setUint32(at, pick(rng, NAN_PATTERNS_32), true);
  else if (at + 8 <= b.byteLength)
    dv.setFloat64(at, pick(rng, [Number.NaN, Number.POSITIVE_INFINITY, -Number.MAX_VALUE]), true);
  replace(files, name, b);
  return `NaN/Inf pattern at ${at} of ${name}`;
};

const STEP_RE = /step_(\d+)/;

/** The step names of a directory layout: file names or first-level directory names carrying step_<n>. */
function stepKeys(files: Files): string[] {
  const keys = new Set<string>();
  for (const n of files.keys()) {
    const first = n.split("/")[0] === "raw" ? n.split("/").slice(0, 2).join("/") : n.split("/")[0];
    if (STEP_RE.test(first)) keys.add(first);
  }
  return [...keys].sort();
}

/** Mostly (when the case has one) a record of a gtrace file: its file, bytes and [start, end); null = a step file. */
function pickRecord(
  rng: Rng,
  files: Files,
  seed: SeedTrace,
): { name: string; b: Uint8Array; s: number; e: number } | null {
  const gtraces = [...(seed.records?.keys() ?? [])].filter((n) => files.has(n));
  if (gtraces.length === 0 || rng.uniform() >= 0.7) return null;
  const name = pick(rng, gtraces);
  const [s, e] = pick(rng, seed.records!.get(name)!);
  return { name, b: files.get(name)!, s, e };
}

const removeStep: Mutation = (rng, files, seed) => {
  const rec = pickRecord(rng, files, seed);
  if (rec) {
    const { name, b, s, e } = rec;
    if (e > b.byteLength) return null;
    const out = new Uint8Array(b.byteLength - (e - s));
    out.set(b.subarray(0, s));
    out.set(b.subarray(e), s);
    replace(files, name, out);
    return `remove the record at ${s} of ${name}`;
  }
  const keys = stepKeys(files);
  if (keys.length === 0) return null;
  const key = pick(rng, keys);
  for (const n of [...files.keys()]) if (n === key || n.startsWith(`${key}/`)) files.delete(n);
  return `remove step ${key}`;
};

const duplicateStep: Mutation = (rng, files, seed) => {
  const rec = pickRecord(rng, files, seed);
  if (rec) {
    const { name, b, s, e } = rec;
    if (e > b.byteLength) return null;
    const at = rng.uniform() < 0.5 ? e : b.byteLength;
    const out = new Uint8Array(b.byteLength + (e - s));
    out.set(b.subarray(0, at));
    out.set(b.subarray(s, e), at);
    out.set(b.subarray(at), at + (e - s));
    replace(files, name, out);
    return `duplicate the record at ${s} of ${name} (inserted at ${at})`;
  }
  const keys = stepKeys(files);
  if (keys.length === 0) return null;
  const key = pick(rng, keys);
  const n = Number(STEP_RE.exec(key)![1]);
  // Same step under another spelling (step_7 / step_0007), or a copy as a new step.
  const target = key.replace(
    STEP_RE,
    rng.uniform() < 0.5 ? `step_${String(n).padStart(6, "0")}` : `step_${n + 1000}`,
  );
  if (target === key) return null;
  for (const [name, bytes] of [...files]) {
    if (name === key || name.startsWith(`${key}/`)) files.set(target + name.slice(key.length), bytes.slice());
  }
  return `copy step ${key} to ${target}`;
};

const insertDelete: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const b = files.get(name)!;
  const at = rng.int(b.byteLength + 1);
  const n = 1 + rng.int(16);
  if (rng.uniform() < 0.5) {
    const out = new Uint8Array(b.byteLength + n);
    out.set(b.subarray(0, at));
    for (let k = 0; k < n; k++) out[at + k] = rng.int(256);
    out.set(b.subarray(at), at + n);
    replace(files, name, out);
    return `insert ${n} bytes at ${at} of ${name}`;
  }
  const end = Math.min(b.byteLength, at + n);
  const out = new Uint8Array(b.byteLength - (end - at));
  out.set(b.subarray(0, at));
  out.set(b.subarray(end), at);
  replace(files, name, out);
  return `delete ${end - at} bytes at ${at} of ${name}`;
};

const splice: Mutation = (rng, files) => {
  const a = pickFile(rng, files);
  const c = pickFile(rng, files);
  if (!a || !c) return null;
  const dst = files.get(a)!.slice();
  const src = files.get(c)!;
  const n = 1 + rng.int(Math.min(64, src.byteLength));
  const from = rng.int(src.byteLength - n + 1);
  const to = rng.int(Math.max(1, dst.byteLength - n + 1));
  dst.set(src.subarray(from, from + n).subarray(0, dst.byteLength - to), to);
  replace(files, a, dst);
  return `splice ${n} bytes from ${c}@${from} into ${a}@${to}`;
};

const rename: Mutation = (rng, files) => {
  const name = pickFile(rng, files);
  if (!name) return null;
  const variants = [
    name.replace(/\.(npy|npz|safetensors|gtrace)$/, ".$1.tmp"),
    name.replace(/step_0*(\d)/, "step_$1"),
    name.replace(/(\/)?([^/]+)\.npy$/, "$1renamed.npy"),
    name.replace(/step_/, "Step_"),
    name.toUpperCase(),
  ].filter((v) => v !== name && !files.has(v));
  if (variants.length === 0) return null;
  const to = pick(rng, variants);
  files.set(to, files.get(name)!);
  files.delete(name);
  return `rename ${name} → ${to}`;
};

const JSON_VALUES: unknown[] = [null, -1, 0, 1.5, 1e308, "x", "", [], {}, [1, 2, 3], true, 2 ** 53, -0];

/** Rewrites one value (or removes one key) anywhere in a JSON document. */
function editJson(rng: Rng, doc: unknown): unknown {
  if (Array.isArray(doc)) {
    if (doc.length === 0 || rng.uniform() < 0.2) return pick(rng, JSON_VALUES);
    const i = rng.int(doc.length);
    const copy = [...doc];
    const r = rng.uniform();
    if (r < 0.15) copy.splice(i, 1);
    else if (r < 0.3) copy.splice(i, 0, copy[i]);
    else copy[i] = editJson(rng, copy[i]);
    return copy;
  }
  if (typeof doc === "object" && doc !== null) {
    const keys = Object.keys(doc);
    if (keys.length === 0 || rng.uniform() < 0.1) return pick(rng, JSON_VALUES);
    const k = pick(rng, keys);
    const copy = { ...(doc as Record<string, unknown>) };
    if (rng.uniform() < 0.2) delete copy[k];
    else copy[k] = editJson(rng, copy[k]);
    return copy;
  }
  return pick(rng, JSON_VALUES);
}

const jsonEdit: Mutation = (rng, files) => {
  const names = fileNames(files).filter((n) => n.endsWith("trace.json"));
  if (names.length === 0) return null;
  const name = pick(rng, names);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(files.get(name)));
  } catch {
    return null;
  }
  files.set(name, new TextEncoder().encode(JSON.stringify(editJson(rng, doc))));
  return `edit ${name}`;
};

const MUTATIONS: readonly [Mutation, number][] = [
  [bitFlip, 20],
  [setBytes, 8],
  [truncate, 10],
  [lyingLength, 12],
  [digits, 10],
  [nanPattern, 10],
  [removeStep, 6],
  [duplicateStep, 6],
  [insertDelete, 6],
  [splice, 4],
  [rename, 3],
  [jsonEdit, 8],
];
const TOTAL_WEIGHT = MUTATIONS.reduce((s, [, w]) => s + w, 0);

/** One to three mutations of the seed's files (retrying mutations that do not apply); returns the new files and a
 * description of what was done. */
export function mutate(rng: Rng, seed: SeedTrace): { files: Files; steps: string[] } {
  const files: Files = new Map(seed.files);
  const wanted = rng.uniform() < 0.6 ? 1 : rng.uniform() < 0.6 ? 2 : 3;
  const steps: string[] = [];
  for (let attempt = 0; steps.length < wanted && attempt < 20; attempt++) {
    let r = rng.uniform() * TOTAL_WEIGHT;
    let m = MUTATIONS[0][0];
    for (const [fn, w] of MUTATIONS) {
      if (r < w) {
        m = fn;
        break;
      }
      r -= w;
    }
    const did = m(rng, files, seed);
    if (did) steps.push(did);
  }
  return { files, steps };
}
