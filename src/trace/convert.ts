/** @file `convertTrace`: writes any layout from any reader, one step at a time (memory: one step's tensors). F64
 * tensors are read as float64 so nothing is lost; .npy/.npz cannot hold BF16, so BF16 tensors become F32 there. */

import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import { ioError, refuseExisting, writeFileAtomic } from "../io/index.ts";
import { LOSS_KEY, LR_KEY } from "./dirReaders.ts";
import { encodeLittleEndian } from "./dtype.ts";
import { createGtraceWriter } from "./gtraceWriter.ts";
import type { Manifest } from "./manifest.ts";
import { manifestJson } from "./manifest.ts";
import { writeNpy } from "./npy.ts";
import { writeNpz } from "./npz.ts";
import { writeSafetensors } from "./safetensors.ts";
import type { DType, TensorInfo, TraceFormat, TraceReader } from "./types.ts";

export interface ConvertOptions {
  readonly format: TraceFormat;
  /** Write into / over an existing output instead of failing with E_EXISTS. */
  readonly force?: boolean;
  /** npz-dir only: deflate members (np.savez_compressed). */
  readonly compress?: boolean;
  /** Zero padding of step numbers in file names (step_000042). */
  readonly pad?: number;
}

function readValues(src: TraceReader, pos: number, t: TensorInfo): Float32Array | Float64Array {
  if (t.dtype !== "F64") return src.readTensor(pos, t.name);
  const out = new Float64Array(t.numel);
  src.readSlice(pos, t.name, 0, t.numel, out);
  return out;
}

const npyDtype = (d: DType): DType => (d === "BF16" ? "F32" : d);

function makeDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw ioError(err, dir, "creating output directory");
  }
}

export function convertTrace(
  src: TraceReader,
  dst: string,
  { format, force = false, compress = false, pad = 6 }: ConvertOptions,
): void {
  refuseExisting(dst, force, "convertTrace");
  const { steps, tensors, loss, lr } = src.info;
  const stepName = (s: number): string => `step_${String(s).padStart(pad, "0")}`;
  switch (format) {
    case "safetensors-dir": {
      makeDir(dst);
      steps.forEach((step, pos) => {
        const data = Object.fromEntries(
          tensors.map((t) => [t.name, { dtype: t.dtype, shape: t.shape, data: readValues(src, pos, t) }]),
        );
        const meta: Record<string, string> = {};
        if (loss[pos] !== null) meta.loss = String(loss[pos]);
        if (lr[pos] !== null) meta.lr = String(lr[pos]);
        writeSafetensors(path.join(dst, `${stepName(step)}.safetensors`), data, meta, { force });
      });
      return;
    }
    case "npz-dir":
    case "npy-dir": {
      makeDir(dst);
      steps.forEach((step, pos) => {
        const data: Record<
          string,
          { dtype: DType; shape: readonly number[]; data: Float32Array | Float64Array }
        > = {};
        for (const t of tensors)
          data[t.name] = { dtype: npyDtype(t.dtype), shape: t.shape, data: readValues(src, pos, t) };
        if (loss[pos] !== null)
          data[LOSS_KEY] = { dtype: "F64", shape: [], data: new Float64Array([loss[pos]!]) };
        if (lr[pos] !== null) data[LR_KEY] = { dtype: "F64", shape: [], data: new Float64Array([lr[pos]!]) };
        if (format === "npz-dir") {
          writeNpz(path.join(dst, `${stepName(step)}.npz`), data, { compress, force });
        } else {
          const dir = path.join(dst, stepName(step));
          makeDir(dir);
          for (const [name, t] of Object.entries(data)) writeNpy(path.join(dir, `${name}.npy`), t, { force });
        }
      });
      return;
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
          const values: Record<string, Float32Array | Float64Array> = {};
          const momentum: Record<string, Float32Array> = {};
          const range: Record<string, Float32Array> = {};
          for (const t of tensors) {
            values[t.name] = readValues(src, pos, t);
            const m = src.readState?.(pos, t.name, "momentum");
            if (m) momentum[t.name] = m;
          }
          for (const r of src.info.rangeSketch?.tensors ?? []) {
            const y = src.readRangeSketch?.(pos, r.name);
            if (y) range[r.name] = y;
          }
          writer.append(step, values, {
            ...(loss[pos] !== null ? { loss: loss[pos]! } : {}),
            ...(lr[pos] !== null ? { lr: lr[pos]! } : {}),
            ...(Object.keys(momentum).length > 0 ? { momentum } : {}),
            ...(Object.keys(range).length > 0 ? { range } : {}),
          });
        });
      } finally {
        writer.close();
      }
      return;
    }
    case "manifest": {
      const rawDir = path.join(dst, "raw");
      makeDir(rawDir);
      steps.forEach((step, pos) => {
        const chunks = tensors.map((t) => encodeLittleEndian(readValues(src, pos, t), t.dtype));
        const file = path.join(rawDir, `${stepName(step)}.bin`);
        refuseExisting(file, force, "convertTrace");
        writeFileAtomic(file, chunks, { force, what: "convertTrace" });
      });
      const manifest: Manifest = {
        version: 1,
        steps: [...steps],
        tensors: tensors.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype, numel: t.numel })),
        data: { layout: "raw", path: "raw" },
        loss: [...loss],
        lr: [...lr],
        ...(src.info.sketch ? { sketch: src.info.sketch } : {}),
      };
      writeFileAtomic(path.join(dst, "trace.json"), manifestJson(manifest), { force, what: "convertTrace" });
      return;
    }
    default:
      throw new GradtraceError("E_ARG", `convertTrace: unknown format ${JSON.stringify(format)}`);
  }
}
