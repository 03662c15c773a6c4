/** @file Pure functions from a cached analysis result to the API's response bodies: the summary (the result minus
 * its big arrays), one tensor's series, and the layer × time heatmap matrix with its compact binary encoding. No
 * I/O here, so each view is tested directly against hand-built results. */
import type { AnalysisResult, TensorResult } from "../analysis/index.ts";
import { GradtraceError } from "../core/index.ts";
import type {
  HeatmapHeader,
  HeatmapMetric,
  RunListEntry,
  SeriesResponse,
  SummaryResponse,
  TensorSummary,
} from "./api-types.ts";
import type { CachedResult } from "./cache.ts";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Name by which the API addresses the whole model (`result.total`). */
export const TOTAL_NAME = "@total";

/** Cached numbers may be null where the analysis had NaN (JSON has no NaN): read them back as NaN. */
export const num = (v: unknown): number => (typeof v === "number" ? v : Number.NaN);
const orNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function tensorSummary(t: TensorResult): TensorSummary {
  const { gradNorm: _g, windows, matrix, increments, gradients: _s, singularValues: _v, ...rest } = t;
  return {
    ...rest,
    participationRatio: increments.participationRatio,
    windowCount: windows?.starts.length ?? 0,
    windowSize: windows?.size ?? 0,
    hasMatrix: !!matrix,
  };
}

export function heatmapMetricsOf(cached: CachedResult): HeatmapMetric[] {
  const metrics: HeatmapMetric[] = ["gradNorm"];
  if (cached.result.tensors.some((t) => t.windows && t.windows.starts.length > 0))
    metrics.unshift("kappa", "rank");
  return metrics;
}

export function summaryView(cached: CachedResult, run: RunListEntry): SummaryResponse {
  const r = cached.result;
  return {
    run,
    schemaVersion: r.schemaVersion,
    // The absolute path stays on the server: the page only needs the path relative to the served directory.
    trace: { ...r.trace, path: run.path },
    options: r.options,
    tensors: r.tensors.map(tensorSummary),
    total: tensorSummary(r.total),
    bounds: r.bounds,
    summary: r.summary,
    heatmapMetrics: heatmapMetricsOf(cached),
  };
}

/** The tensor called `name`, or the whole model for TOTAL_NAME; E_NOT_FOUND otherwise. */
export function findTensor(result: AnalysisResult, name: string): TensorResult {
  if (name === TOTAL_NAME) return result.total;
  const t = result.tensors.find((x) => x.name === name);
  if (!t)
    throw new GradtraceError("E_NOT_FOUND", `tensor ${JSON.stringify(name.slice(0, 80))}: not in this run`);
  return t;
}

function nullable(xs: readonly unknown[]): (number | null)[] {
  return xs.map(orNull);
}

export function seriesView(
  cached: CachedResult,
  runId: string,
  version: number,
  name: string,
): SeriesResponse {
  const t = findTensor(cached.result, name);
  const kappa: Record<string, number | null> = {};
  for (const [id, v] of Object.entries(t.kappa)) kappa[id] = orNull(v);
  let kappaCI: SeriesResponse["kappaCI"] = null;
  if (t.kappaCI) {
    kappaCI = {};
    for (const [id, [lo, hi]] of Object.entries(t.kappaCI)) kappaCI[id] = [orNull(lo), orNull(hi)];
  }
  let windows: SeriesResponse["windows"] = null;
  if (t.windows) {
    const wk: Record<string, (number | null)[]> = {};
    for (const [id, v] of Object.entries(t.windows.kappa)) wk[id] = nullable(v);
    windows = { size: t.windows.size, starts: [...t.windows.starts], kappa: wk };
  }
  const stepIndices = loggedSteps(cached, t.gradNorm.length);
  return {
    run: runId,
    version,
    name: name === TOTAL_NAME ? TOTAL_NAME : t.name,
    shape: [...t.shape],
    numel: t.numel,
    stepIndices,
    gradNorm: nullable(t.gradNorm),
    kappa,
    kappaCI,
    windows,
    increments: t.increments,
    gradients: t.gradients,
    matrix: t.matrix ?? null,
    sketch: t.sketch ?? null,
  };
}

/** The logged step number of each step position of the result; positions themselves if the cache has none that
 * fit (steps with NaN/Inf gradients are dropped by the analysis, so positions are not step numbers in general). */
function loggedSteps(cached: CachedResult, positions: number): number[] {
  const s = cached.stepIndices;
  return s.length === positions ? s : Array.from({ length: positions }, (_, i) => i);
}

export interface HeatmapRequest {
  readonly metric: HeatmapMetric;
  /** Predictor id for metric "kappa". */
  readonly predictor?: string;
  /** ε for metric "rank". */
  readonly eps?: number;
}

export interface HeatmapMatrix {
  readonly header: HeatmapHeader;
  /** rows × cols, row-major; NaN where a tensor has no value for a column. */
  readonly values: Float64Array;
}

export function heatmapView(
  cached: CachedResult,
  runId: string,
  version: number,
  { metric, predictor, eps }: HeatmapRequest,
): HeatmapMatrix {
  const { result } = cached;
  const tensors = result.tensors;
  if (metric === "kappa" && (predictor === undefined || !result.options.predictors.includes(predictor))) {
    throw new GradtraceError(
      "E_ARG",
      `heatmap: predictor ${JSON.stringify(predictor ?? "")} not analyzed; expected one of ${result.options.predictors.join(", ")}`,
    );
  }
  if (metric === "rank" && (eps === undefined || !result.options.eps.includes(eps))) {
    throw new GradtraceError(
      "E_ARG",
      `heatmap: eps ${eps ?? "(missing)"} not analyzed; expected one of ${result.options.eps.join(", ")}`,
    );
  }
  let rowsData: (readonly unknown[] | null)[];
  let starts: number[];
  let span: number;
  if (metric === "gradNorm") {
    rowsData = tensors.map((t) => t.gradNorm);
    const n = Math.max(0, ...rowsData.map((r) => r?.length ?? 0));
    starts = Array.from({ length: n }, (_, i) => i);
    span = 1;
  } else {
    // Columns follow the tensor with the most windows (all tensors of one trace normally share them).
    let longest: TensorResult | undefined;
    for (const t of tensors) {
      if (t.windows && (!longest || t.windows.starts.length > longest.windows!.starts.length)) longest = t;
    }
    starts = longest ? [...longest.windows!.starts] : [];
    span = longest?.windows?.size ?? 0;
    rowsData =
      metric === "kappa"
        ? tensors.map((t) => t.windows?.kappa[predictor!] ?? null)
        : tensors.map((t) => t.windows?.predictableRank[String(eps)] ?? null);
  }
  const steps = loggedSteps(cached, result.trace.steps);
  const stepAt = (p: number) => steps[Math.min(Math.max(p, 0), steps.length - 1)] ?? p;
  const rows = tensors.length;
  const cols = starts.length;
  const values = new Float64Array(rows * cols).fill(Number.NaN);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < rows; r++) {
    const row = rowsData[r];
    if (!row) continue;
    for (let c = 0; c < Math.min(cols, row.length); c++) {
      const v = num(row[c]);
      values[r * cols + c] = v;
      if (Number.isFinite(v)) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  const finite = min <= max;
  return {
    header: {
      run: runId,
      version,
      metric,
      predictor: metric === "kappa" ? predictor! : null,
      eps: metric === "rank" ? eps! : null,
      rows,
      cols,
      tensors: tensors.map((t) => t.name),
      starts,
      span,
      firstStep: starts.map((p) => stepAt(p)),
      lastStep: starts.map((p) => stepAt(p + span - 1)),
      min: finite ? min : null,
      max: finite ? max : null,
    },
    values,
  };
}

/**
 * Binary heatmap (`format=f32`): a little-endian uint32 byte length L, then L bytes of UTF-8 JSON header (padded
 * with spaces so the values start 4-byte aligned), then rows × cols little-endian float32 values (NaN = missing).
 * 4 bytes a cell: 2,000 tensors × 1,000 windows is 8 MB instead of ~40 MB of JSON.
 */
export function encodeHeatmapBinary({ header, values }: HeatmapMatrix): Uint8Array {
  let json = JSON.stringify(header);
  let headerBytes = Buffer.from(json, "utf8");
  const pad = (4 - ((4 + headerBytes.length) % 4)) % 4;
  if (pad > 0) {
    json += " ".repeat(pad);
    headerBytes = Buffer.from(json, "utf8");
  }
  const out = new Uint8Array(4 + headerBytes.length + values.length * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  const base = 4 + headerBytes.length;
  if (LITTLE_ENDIAN) {
    // Native order is the wire order: one bulk float64 → float32 conversion instead of 2M DataView calls.
    new Float32Array(out.buffer, base, values.length).set(values);
  } else {
    for (let i = 0; i < values.length; i++) view.setFloat32(base + i * 4, values[i], true);
  }
  return out;
}

/** Inverse of encodeHeatmapBinary (used by tests; the page has its own copy in web/src/api.ts). */
export function decodeHeatmapBinary(bytes: Uint8Array): HeatmapMatrix {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  const header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + len)).toString("utf8")) as HeatmapHeader;
  const n = header.rows * header.cols;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = view.getFloat32(4 + len + i * 4, true);
  return { header, values };
}
