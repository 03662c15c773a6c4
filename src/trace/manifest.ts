/** @file `trace.json` manifests: schema validation with messages naming the exact field ("trace.json: field
 * steps[3] must be a non-negative integer"), and a reader that serves the listed steps from the data layout the
 * manifest points at (any directory layout, a .gtrace file, or raw per-step binaries). Schema: docs/trace-format.md. */

import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import { fileSize, ioError } from "../io/index.ts";
import { listSteps } from "./dirReaders.ts";
import { dtypeSize, isDType, shapeNumel } from "./dtype.ts";
import { checkSliceArgs, LocatedReader, type StepTable, type TensorLocation } from "./located.ts";
import { parseSketchInfo } from "./sketchInfo.ts";
import { findMissingSteps } from "./steps.ts";
import type {
  OpenTraceOptions,
  SketchInfo,
  TensorInfo,
  TraceFormat,
  TraceInfo,
  TraceReader,
} from "./types.ts";

export type ManifestLayout = Exclude<TraceFormat, "manifest"> | "raw";

export interface Manifest {
  readonly version: 1;
  readonly steps: number[];
  readonly tensors: TensorInfo[];
  readonly data: { readonly layout: ManifestLayout; readonly path: string };
  readonly loss?: (number | null)[];
  readonly lr?: (number | null)[];
  readonly sketch?: SketchInfo;
  readonly meta?: Record<string, unknown>;
}

const LAYOUTS: readonly ManifestLayout[] = ["safetensors-dir", "npz-dir", "npy-dir", "gtrace", "raw"];

function fail(file: string, field: string, expected: string): never {
  throw new GradtraceError("E_FORMAT", `${file}: field ${field} ${expected}`);
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNonNegInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Validates a parsed manifest; `file` names it in messages. */
export function validateManifest(json: unknown, file: string): Manifest {
  if (!isObj(json)) fail(file, "(root)", "must be a JSON object");
  if (json.version !== 1) fail(file, "version", `must be 1, got ${JSON.stringify(json.version)}`);
  if (!Array.isArray(json.steps)) fail(file, "steps", "must be an array of non-negative integers");
  const steps = json.steps as unknown[];
  steps.forEach((s, i) => {
    if (!isNonNegInt(s)) fail(file, `steps[${i}]`, "must be a non-negative integer");
    if (i > 0 && s <= (steps[i - 1] as number))
      fail(file, `steps[${i}]`, `must be greater than steps[${i - 1}] (ascending, no duplicates)`);
  });
  if (!Array.isArray(json.tensors) || json.tensors.length === 0)
    fail(file, "tensors", "must be a non-empty array");
  const names = new Set<string>();
  const tensors = (json.tensors as unknown[]).map((t, i): TensorInfo => {
    if (!isObj(t)) fail(file, `tensors[${i}]`, "must be an object { name, shape, dtype }");
    if (typeof t.name !== "string" || t.name.length === 0)
      fail(file, `tensors[${i}].name`, "must be a non-empty string");
    if (names.has(t.name)) fail(file, `tensors[${i}].name`, `duplicates tensor ${t.name}`);
    names.add(t.name);
    if (!isDType(t.dtype)) fail(file, `tensors[${i}].dtype`, "must be one of F64, F32, F16, BF16");
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt))
      fail(file, `tensors[${i}].shape`, "must be an array of non-negative integers");
    return {
      name: t.name,
      shape: [...(t.shape as number[])],
      dtype: t.dtype,
      numel: shapeNumel(t.shape, `${file}: tensors[${i}].shape`),
    };
  });
  if (!isObj(json.data)) fail(file, "data", "must be an object { layout, path }");
  const layout = json.data.layout;
  if (!LAYOUTS.includes(layout as ManifestLayout))
    fail(file, "data.layout", `must be one of ${LAYOUTS.join(", ")}`);
  if (typeof json.data.path !== "string" || json.data.path.length === 0)
    fail(file, "data.path", "must be a non-empty relative path");
  const perStep = (key: "loss" | "lr"): (number | null)[] | undefined => {
    const v = json[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== steps.length)
      fail(file, key, `must be an array with one entry per step (${steps.length})`);
    v.forEach((x, i) => {
      if (x !== null && typeof x !== "number") fail(file, `${key}[${i}]`, "must be a number or null");
    });
    return v as (number | null)[];
  };
  const sketch: SketchInfo | undefined =
    json.sketch !== undefined ? parseSketchInfo(json.sketch, tensors, file) : undefined;
  return {
    version: 1,
    steps: steps as number[],
    tensors,
    data: { layout: layout as ManifestLayout, path: json.data.path },
    loss: perStep("loss"),
    lr: perStep("lr"),
    ...(sketch ? { sketch } : {}),
    ...(isObj(json.meta) ? { meta: json.meta } : {}),
  };
}

export function readManifest(file: string): Manifest {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw ioError(err, file, "reading manifest");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new GradtraceError("E_FORMAT", `${file}: not valid JSON (${(err as Error).message})`);
  }
  return validateManifest(json, file);
}

/** Serves the manifest's steps (a subset, in order) from a reader of the underlying layout. */
class ManifestReader implements TraceReader {
  readonly info: TraceInfo;
  constructor(
    private readonly inner: TraceReader,
    private readonly positions: number[],
    info: TraceInfo,
  ) {
    this.info = info;
  }
  readSlice(
    stepPos: number,
    name: string,
    offset: number,
    count: number,
    out: Float64Array | Float32Array,
    outOffset = 0,
  ): void {
    checkSliceArgs(
      "readSlice",
      this.info,
      stepPos,
      this.info.tensors.find((t) => t.name === name),
      name,
      offset,
      count,
      out,
      outOffset,
    );
    this.inner.readSlice(this.positions[stepPos], name, offset, count, out, outOffset);
  }
  readTensor(stepPos: number, name: string): Float32Array {
    checkSliceArgs(
      "readTensor",
      this.info,
      stepPos,
      this.info.tensors.find((t) => t.name === name),
      name,
      0,
      0,
      null,
      0,
    );
    return this.inner.readTensor(this.positions[stepPos], name);
  }
  readState(stepPos: number, name: string, kind: "momentum"): Float32Array | null {
    checkSliceArgs(
      "readState",
      this.info,
      stepPos,
      this.info.tensors.find((t) => t.name === name),
      name,
      0,
      0,
      null,
      0,
    );
    return this.inner.readState?.(this.positions[stepPos], name, kind) ?? null;
  }
  close(): void {
    this.inner.close();
  }
}

export type InnerOpener = (p: string, options: OpenTraceOptions) => TraceReader;

export function openManifest(file: string, options: OpenTraceOptions, openInner: InnerOpener): TraceReader {
  const m = readManifest(file);
  const dataPath = path.resolve(path.dirname(file), m.data.path);
  const loss = m.loss ?? m.steps.map(() => null);
  const lr = m.lr ?? m.steps.map(() => null);
  if (m.data.layout === "raw") {
    const files = new Map(
      listSteps(dataPath, ".bin", false).map((e) => [e.step, path.join(dataPath, e.name)]),
    );
    const recordBytes = m.tensors.reduce((s, t) => s + t.numel * dtypeSize(t.dtype), 0);
    const tables: StepTable[] = m.steps.map((step, i) => {
      const f = files.get(step);
      if (!f)
        throw new GradtraceError(
          "E_NOT_FOUND",
          `${file}: steps[${i}] = ${step} has no file step_${step}.bin in ${dataPath}`,
        );
      const size = fileSize(f);
      if (size !== recordBytes) {
        throw new GradtraceError(
          "E_FORMAT",
          `${f}: ${size} bytes, the manifest's tensors need exactly ${recordBytes}`,
        );
      }
      const tensors = new Map<string, TensorLocation>();
      let offset = 0;
      for (const t of m.tensors) {
        tensors.set(t.name, {
          file: f,
          offset,
          dtype: t.dtype,
          littleEndian: true,
          fortranOrder: false,
          shape: t.shape,
          numel: t.numel,
        });
        offset += t.numel * dtypeSize(t.dtype);
      }
      return { step, file: f, tensors, loss: loss[i], lr: lr[i] };
    });
    return new LocatedReader({
      path: file,
      format: "manifest",
      tables,
      problems: findMissingSteps(m.steps, file),
      tmpDir: options.tmpDir,
      tensors: m.tensors,
      ...(m.sketch ? { sketch: m.sketch } : {}),
    });
  }
  const inner = openInner(dataPath, { ...options, format: m.data.layout });
  try {
    const innerSteps = new Map(inner.info.steps.map((s, i) => [s, i]));
    const positions = m.steps.map((step, i) => {
      const pos = innerSteps.get(step);
      if (pos === undefined)
        throw new GradtraceError("E_NOT_FOUND", `${file}: steps[${i}] = ${step} is not in ${dataPath}`);
      return pos;
    });
    for (const t of m.tensors) {
      const it = inner.info.tensors.find((x) => x.name === t.name);
      if (!it) throw new GradtraceError("E_NOT_FOUND", `${file}: tensor ${t.name} is not in ${dataPath}`);
      if (it.shape.length !== t.shape.length || it.shape.some((d, i) => d !== t.shape[i])) {
        throw new GradtraceError(
          "E_SHAPE",
          `${file}: tensor ${t.name} is [${t.shape.join(", ")}] in the manifest but [${it.shape.join(", ")}] in ${dataPath}`,
        );
      }
    }
    const innerLoss = inner.info.loss;
    const innerLr = inner.info.lr;
    const info: TraceInfo = {
      path: file,
      format: "manifest",
      steps: [...m.steps],
      tensors: m.tensors,
      loss: m.loss ?? positions.map((p) => innerLoss[p]),
      lr: m.lr ?? positions.map((p) => innerLr[p]),
      ...(m.sketch ? { sketch: m.sketch } : {}),
      problems: [
        ...inner.info.problems.filter((p) => p.kind !== "missing-step"),
        ...findMissingSteps(m.steps, file),
      ],
      payloadBytes: m.steps.length * m.tensors.reduce((s, t) => s + t.numel * dtypeSize(t.dtype), 0),
    };
    return new ManifestReader(inner, positions, info);
  } catch (err) {
    inner.close();
    throw err;
  }
}

/** Writes a manifest atomically-enough for a small JSON file (temp + rename via the caller's path). */
export function manifestJson(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
