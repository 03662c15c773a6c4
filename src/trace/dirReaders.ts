/** @file Openers for the per-step directory layouts: `step_<n>.safetensors`, `step_<n>.npz` and `step_<n>/<tensor>.npy`.
 * Each validates every step's headers up front (so shape changes and missing tensors fail at open, naming tensor,
 * step and file) and hands a location table to the generic LocatedReader. Per-step loss / learning rate come from
 * safetensors `__metadata__` ("loss", "lr") or from scalar `__loss__` / `__lr__` arrays in npz / npy layouts. */

import * as path from "node:path";
import { Inflate } from "fflate";
import { GradtraceError } from "../core/index.ts";
import { crc32, readRegion } from "../io/index.ts";
import { decodeInto, dtypeSize } from "./dtype.ts";
import { listEntries } from "./locate.ts";
import { LocatedReader, type StepTable, type TensorLocation } from "./located.ts";
import { readNpyFileHeader } from "./npy.ts";
import { readNpzMembers } from "./npz.ts";
import { parseSafetensorsHeader } from "./safetensors.ts";
import { findMissingSteps, parseStepName, type StepEntry, sortSteps } from "./steps.ts";
import type { OpenTraceOptions, TraceFormat, TraceReader } from "./types.ts";

/** Names reserved for per-step scalars in npz / npy layouts (never treated as gradient tensors). */
export const LOSS_KEY = "__loss__";
export const LR_KEY = "__lr__";

/** Step entries in `dir` whose names are step_<n><suffix> and are files (or directories when `dirs`); symbolic
 * links count as what they point at. */
export function listSteps(dir: string, suffix: string, dirs: boolean): StepEntry[] {
  const entries: StepEntry[] = [];
  for (const d of listEntries(dir)) {
    if (d.kind !== (dirs ? "directory" : "file")) continue;
    const step = parseStepName(d.name, suffix);
    if (step !== null) entries.push({ step, name: d.name });
  }
  return sortSteps(entries, dir);
}

function parseMetaNumber(value: string | undefined, where: string): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (value.trim() === "" || (Number.isNaN(n) && value.trim().toLowerCase() !== "nan")) {
    throw new GradtraceError("E_FORMAT", `${where} must be a number, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Reads a one-element array (loss / lr) through its location, checking the member's zip CRC-32 when it has one. */
function readScalar(loc: TensorLocation, where: string): number {
  if (loc.numel !== 1)
    throw new GradtraceError("E_SHAPE", `${where}: must hold exactly one value, has ${loc.numel}`);
  const size = dtypeSize(loc.dtype);
  let bytes: Uint8Array;
  if (loc.deflated) {
    const src = loc.deflated;
    if (src.compressedSize > 1 << 16)
      throw new GradtraceError("E_FORMAT", `${where}: scalar member is implausibly large`);
    const pieces: Uint8Array[] = [];
    const inflater = new Inflate((c: Uint8Array) => {
      pieces.push(c);
    });
    try {
      inflater.push(readRegion(loc.file, src.dataOffset, src.compressedSize), true);
    } catch (err) {
      throw new GradtraceError("E_FORMAT", `${where}: not valid deflate data (${String(err)})`);
    }
    const all = new Uint8Array(pieces.reduce((s, c) => s + c.byteLength, 0));
    let o = 0;
    for (const c of pieces) {
      all.set(c, o);
      o += c.byteLength;
    }
    if (all.byteLength < src.headerLength + size)
      throw new GradtraceError("E_TRUNCATED", `${where}: scalar member is short`);
    if (crc32(all) !== src.crc32 >>> 0)
      throw new GradtraceError(
        "E_CHECKSUM",
        `${where}: member fails its zip CRC-32 check; the data is corrupt`,
      );
    bytes = all.slice(src.headerLength, src.headerLength + size);
  } else {
    const sum = loc.checksum;
    if (sum) {
      if (sum.length > 1 << 16)
        throw new GradtraceError("E_FORMAT", `${where}: scalar member is implausibly large`);
      if (crc32(readRegion(loc.file, sum.offset, sum.length)) !== sum.crc32 >>> 0)
        throw new GradtraceError(
          "E_CHECKSUM",
          `${where}: ${sum.what} fails its zip CRC-32 check; the data is corrupt`,
        );
    }
    bytes = readRegion(loc.file, loc.offset, size);
  }
  const out = new Float64Array(1);
  decodeInto(bytes, loc.dtype, loc.littleEndian, 1, out);
  return out[0];
}

function requireSteps(entries: StepEntry[], dir: string, what: string): void {
  if (entries.length === 0) throw new GradtraceError("E_NOT_FOUND", `${dir}: no ${what} files found`);
}

/** How one per-step layout names its steps: step_<n><suffix> files, or step_<n> directories when `dirs`. */
interface StepLayout {
  readonly format: TraceFormat;
  readonly suffix: string;
  readonly dirs: boolean;
  /** What the error for an empty directory says is missing. */
  readonly what: string;
}

/** The reader of a per-step layout: every step's table read up front by `tableOf`, steps appended later by rescan. */
function openStepDir(
  dir: string,
  { format, suffix, dirs, what }: StepLayout,
  tableOf: (entry: StepEntry) => StepTable,
  tmpDir: string | undefined,
): TraceReader {
  const entries = listSteps(dir, suffix, dirs);
  requireSteps(entries, dir, what);
  const tables = entries.map(tableOf);
  return new LocatedReader({
    rescan: (lastStep) =>
      listSteps(dir, suffix, dirs)
        .filter((e) => e.step > lastStep)
        .map(tableOf),
    path: dir,
    format,
    tables,
    problems: findMissingSteps(
      tables.map((t) => t.step),
      dir,
    ),
    tmpDir,
  });
}

export function openSafetensorsDir(dir: string, { tmpDir }: OpenTraceOptions = {}): TraceReader {
  return openStepDir(
    dir,
    { format: "safetensors-dir", suffix: ".safetensors", dirs: false, what: "step_<n>.safetensors" },
    ({ step, name }) => {
      const file = path.join(dir, name);
      const header = parseSafetensorsHeader(file);
      const tensors = new Map<string, TensorLocation>();
      for (const e of header.entries) {
        tensors.set(e.name, {
          file,
          offset: e.offset,
          dtype: e.dtype,
          littleEndian: true,
          fortranOrder: false,
          shape: e.shape,
          numel: e.numel,
        });
      }
      return {
        step,
        file,
        tensors,
        loss: parseMetaNumber(header.metadata.loss, `${file}: __metadata__.loss`),
        lr: parseMetaNumber(header.metadata.lr, `${file}: __metadata__.lr`),
      };
    },
    tmpDir,
  );
}

function splitScalars(
  tensors: Map<string, TensorLocation>,
  where: string,
): { loss: number | null; lr: number | null } {
  const loss = tensors.get(LOSS_KEY);
  const lr = tensors.get(LR_KEY);
  tensors.delete(LOSS_KEY);
  tensors.delete(LR_KEY);
  return {
    loss: loss ? readScalar(loss, `${where}: ${LOSS_KEY}`) : null,
    lr: lr ? readScalar(lr, `${where}: ${LR_KEY}`) : null,
  };
}

export function openNpzDir(dir: string, { tmpDir }: OpenTraceOptions = {}): TraceReader {
  return openStepDir(
    dir,
    { format: "npz-dir", suffix: ".npz", dirs: false, what: "step_<n>.npz" },
    ({ step, name }) => {
      const file = path.join(dir, name);
      const tensors = new Map<string, TensorLocation>();
      for (const m of readNpzMembers(file)) tensors.set(m.key, m.location);
      return { step, file, tensors, ...splitScalars(tensors, file) };
    },
    tmpDir,
  );
}

export function openNpyDir(dir: string, { tmpDir }: OpenTraceOptions = {}): TraceReader {
  return openStepDir(
    dir,
    { format: "npy-dir", suffix: "", dirs: true, what: "step_<n>/ directories of .npy" },
    ({ step, name }) => {
      const stepDir = path.join(dir, name);
      const tensors = new Map<string, TensorLocation>();
      // listEntries sorts by name, so the tensor order does not depend on the file system's listing order.
      for (const d of listEntries(stepDir)) {
        if (d.kind !== "file" || !d.name.endsWith(".npy")) continue;
        const file = path.join(stepDir, d.name);
        const h = readNpyFileHeader(file);
        tensors.set(d.name.slice(0, -4), {
          file,
          offset: h.headerLength,
          dtype: h.dtype,
          littleEndian: h.littleEndian,
          fortranOrder: h.fortranOrder,
          shape: h.shape,
          numel: h.numel,
        });
      }
      return { step, file: stepDir, tensors, ...splitScalars(tensors, stepDir) };
    },
    tmpDir,
  );
}
