/** @file `convertTrace`: writes any layout from any reader, one step at a time (memory: one step's tensors). F64
 * tensors are read as float64 so nothing is lost; .npy/.npz cannot hold BF16, so BF16 tensors become F32 there.
 * Every step is read (and so verified, where the source stores checksums) before any of it is written: a step whose
 * data fails its checksum is left out and reported — never re-written under fresh checksums — or, with `strict`,
 * stops the conversion. Converting to gtrace is how a safetensors / npy / npz trace gains per-record checksums. */

import * as path from "node:path";
import { CorruptDataError, GradtraceError } from "../core/index.ts";
import { makeDir, refuseExisting, writeFileAtomic } from "../io/index.ts";
import { LOSS_KEY, LR_KEY } from "./dirReaders.ts";
import { refuseCorruption } from "./steps.ts";
import { encodeLittleEndian } from "./dtype.ts";
import { createGtraceWriter } from "./gtraceWriter.ts";
import type { Manifest } from "./manifest.ts";
import { manifestJson } from "./manifest.ts";
import { writeNpy } from "./npy.ts";
import { writeNpz } from "./npz.ts";
import { writeSafetensors } from "./safetensors.ts";
import type { DType, TensorInfo, TraceFormat, TraceProblem, TraceReader } from "./types.ts";

export interface ConvertOptions {
  readonly format: TraceFormat;
  /** Write into / over an existing output instead of failing with E_EXISTS. */
  readonly force?: boolean;
  /** npz-dir only: deflate members (np.savez_compressed). */
  readonly compress?: boolean;
  /** Zero padding of step numbers in file names (step_000042). */
  readonly pad?: number;
  /** Stop at the first step whose data fails its checksum (default: leave it out and report it). */
  readonly strict?: boolean;
}

export interface ConvertResult {
  /** Steps written. */
  readonly steps: number;
  /** Steps left out because their data failed a checksum (kind "corrupt-record", with step and tensor). */
  readonly skipped: readonly TraceProblem[];
}

function readValues(src: TraceReader, pos: number, t: TensorInfo): Float32Array | Float64Array {
  if (t.dtype !== "F64") return src.readTensor(pos, t.name);
  const out = new Float64Array(t.numel);
  src.readSlice(pos, t.name, 0, t.numel, out);
  return out;
}

const npyDtype = (d: DType): DType => (d === "BF16" ? "F32" : d);

interface StepData {
  readonly values: Map<string, Float32Array | Float64Array>;
  readonly momentum: Map<string, Float32Array>;
  readonly range: Map<string, Float32Array>;
}

export function convertTrace(
  src: TraceReader,
  dst: string,
  { format, force = false, compress = false, pad = 6, strict = false }: ConvertOptions,
): ConvertResult {
  if (!["safetensors-dir", "npz-dir", "npy-dir", "gtrace", "manifest"].includes(format))
    throw new GradtraceError("E_ARG", `convertTrace: unknown format ${JSON.stringify(format)}`);
  refuseExisting(dst, force, "convertTrace");
  if (strict) refuseCorruption(src.info.problems, "convertTrace");
  const { steps, tensors, loss, lr } = src.info;
  const stepName = (s: number): string => `step_${String(s).padStart(pad, "0")}`;
  const skipped: TraceProblem[] = [];
  const kept: number[] = [];
  /** One step's tensors, or null (reported) when some of its data fails a checksum. */
  const read = (pos: number, withState: boolean): StepData | null => {
    const values = new Map<string, Float32Array | Float64Array>();
    const momentum = new Map<string, Float32Array>();
    const range = new Map<string, Float32Array>();
    try {
      for (const t of tensors) {
        values.set(t.name, readValues(src, pos, t));
        const m = withState ? src.readState?.(pos, t.name, "momentum") : null;
        if (m) momentum.set(t.name, m);
      }
      // Range sketches (the logger's Y = G·Ω per matrix) travel with the step in gtrace output.
      for (const r of withState ? (src.info.rangeSketch?.tensors ?? []) : []) {
        const y = src.readRangeSketch?.(pos, r.name);
        if (y) range.set(r.name, y);
      }
    } catch (err) {
      if (strict || !(err instanceof CorruptDataError)) throw err;
      skipped.push({
        kind: "corrupt-record",
        step: err.step,
        tensor: err.tensor,
        file: err.file,
        message: `${err.message}; step ${err.step} left out of ${dst}`,
      });
      return null;
    }
    kept.push(pos);
    return { values, momentum, range };
  };
  const meta = (pos: number): { loss?: number; lr?: number } => ({
    ...(loss[pos] !== null ? { loss: loss[pos]! } : {}),
    ...(lr[pos] !== null ? { lr: lr[pos]! } : {}),
  });
  switch (format) {
    case "safetensors-dir": {
      makeDir(dst, "convertTrace");
      steps.forEach((step, pos) => {
        const got = read(pos, false);
        if (!got) return;
        const data = Object.fromEntries(
          tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data: got.values.get(t.name)! }]),
        );
        const m = meta(pos);
        const text: Record<string, string> = {};
        if (m.loss !== undefined) text.loss = String(m.loss);
        if (m.lr !== undefined) text.lr = String(m.lr);
        writeSafetensors(path.join(dst, `${stepName(step)}.safetensors`), data, text, { force });
      });
      break;
    }
    case "npz-dir":
    case "npy-dir": {
      makeDir(dst, "convertTrace");
      steps.forEach((step, pos) => {
        const got = read(pos, false);
        if (!got) return;
        const data: Record<
          string,
          { dtype: DType; shape: readonly number[]; data: Float32Array | Float64Array }
        > = {};
        for (const t of tensors)
          data[t.name] = { dtype: npyDtype(t.dtype), shape: t.shape, data: got.values.get(t.name)! };
        const m = meta(pos);
        if (m.loss !== undefined)
          data[LOSS_KEY] = { dtype: "F64", shape: [], data: new Float64Array([m.loss]) };
        if (m.lr !== undefined) data[LR_KEY] = { dtype: "F64", shape: [], data: new Float64Array([m.lr]) };
        if (format === "npz-dir") {
          writeNpz(path.join(dst, `${stepName(step)}.npz`), data, { compress, force });
        } else {
          const dir = path.join(dst, stepName(step));
          makeDir(dir, "convertTrace");
          for (const [name, t] of Object.entries(data)) writeNpy(path.join(dir, `${name}.npy`), t, { force });
        }
      });
      break;
    }
    case "gtrace": {
      const writer = createGtraceWriter(dst, {
        tensors: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })),
        meta: { convertedFrom: src.info.path, sourceFormat: src.info.format },
        ...(src.info.sketch ? { sketch: src.info.sketch } : {}),
        ...(src.info.rangeSketch ? { rangeSketch: src.info.rangeSketch } : {}),
        force,
        fsync: "close",
      });
      try {
        steps.forEach((step, pos) => {
          const got = read(pos, true);
          if (!got) return;
          writer.append(step, Object.fromEntries(got.values), {
            ...meta(pos),
            ...(got.momentum.size > 0 ? { momentum: Object.fromEntries(got.momentum) } : {}),
            ...(got.range.size > 0 ? { range: Object.fromEntries(got.range) } : {}),
          });
        });
      } finally {
        writer.close();
      }
      break;
    }
    case "manifest": {
      const rawDir = path.join(dst, "raw");
      makeDir(rawDir, "convertTrace");
      steps.forEach((step, pos) => {
        const got = read(pos, false);
        if (!got) return;
        const chunks = tensors.map((t) => encodeLittleEndian(got.values.get(t.name)!, t.dtype));
        const file = path.join(rawDir, `${stepName(step)}.bin`);
        writeFileAtomic(file, chunks, { force, what: "convertTrace" });
      });
      const manifest: Manifest = {
        version: 1,
        steps: kept.map((pos) => steps[pos]),
        tensors: tensors.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype, numel: t.numel })),
        data: { layout: "raw", path: "raw" },
        loss: kept.map((pos) => loss[pos]),
        lr: kept.map((pos) => lr[pos]),
        ...(src.info.sketch ? { sketch: src.info.sketch } : {}),
      };
      writeFileAtomic(path.join(dst, "trace.json"), manifestJson(manifest), { force, what: "convertTrace" });
      break;
    }
  }
  return { steps: kept.length, skipped };
}
