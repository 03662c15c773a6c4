/** @file Pure functions from a cached analysis result to the API's response bodies: the summary (the result minus
 * its big arrays), one tensor's series (a step range, min/max-decimated to a point budget), and the layer × time
 * heatmap matrix (a step range, columns averaged in buckets beyond a column budget) with its compact binary
 * encoding. No I/O here, so each view is tested directly against hand-built results. */
import type { AnalysisResult, TensorResult } from "../analysis/index.ts";
import { bucketMeans, bucketStart, decimateMinMaxMany, GradtraceError } from "../core/index.ts";
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

/** What a `/series` request asks for: a logged-step range (inclusive; the whole run by default) and a point
 * budget per series. */
export interface SeriesRequest {
  readonly from?: number;
  readonly to?: number;
  readonly points?: number;
}

/** Points per series when a request names none: twice a wide chart's pixel columns (one minimum and one maximum
 * each). */
export const DEFAULT_SERIES_POINTS = 2000;
/** The most a request may ask for: a 100,000-step series is never shipped whole. */
export const MAX_SERIES_POINTS = 20_000;

/** First index i of the ascending `xs` with xs[i] ≥ v (xs.length when none). */
function lowerBound(xs: readonly number[], v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Indices [a, b) of the ascending `xs` whose values lie in [from, to]. */
function rangeOf(xs: readonly number[], from: number, to: number): [number, number] {
  const a = lowerBound(xs, from);
  return [a, Math.max(a, lowerBound(xs, to + 1))];
}

/**
 * One tensor's series for the page's charts. The per-step and per-window series of a long run are cut to the
 * requested logged-step range and then decimated by min/max per bucket (src/core/decimate.ts) to `points` points
 * each, so a 100,000-step run ships about 2,000 points per chart and spikes stay visible; the page asks again for a
 * zoomed range, at the same budget, hence at a higher resolution. A series that fits is returned whole.
 */
export function seriesView(
  cached: CachedResult,
  runId: string,
  version: number,
  name: string,
  {
    from = Number.NEGATIVE_INFINITY,
    to = Number.POSITIVE_INFINITY,
    points = DEFAULT_SERIES_POINTS,
  }: SeriesRequest = {},
): SeriesResponse {
  const t = findTensor(cached.result, name);
  const kappa: Record<string, number | null> = {};
  for (const [id, v] of Object.entries(t.kappa)) kappa[id] = orNull(v);
  let kappaCI: SeriesResponse["kappaCI"] = null;
  if (t.kappaCI) {
    kappaCI = {};
    for (const [id, [lo, hi]] of Object.entries(t.kappaCI)) kappaCI[id] = [orNull(lo), orNull(hi)];
  }
  const steps = loggedSteps(cached, t.gradNorm.length);
  const stepAt = (p: number) => steps[Math.min(Math.max(p, 0), steps.length - 1)] ?? p;
  // Per step: the positions whose logged step is in range, decimated on ‖g‖.
  const [p0, p1] = rangeOf(steps, from, to);
  const norms = t.gradNorm.slice(p0, p1).map(num);
  const kept = decimateMinMaxMany([norms], points).index;
  let windows: SeriesResponse["windows"] = null;
  let windowCount = 0;
  let decimated = kept.length < p1 - p0;
  if (t.windows) {
    const firstSteps = t.windows.starts.map(stepAt);
    const [w0, w1] = rangeOf(firstSteps, from, to);
    windowCount = w1 - w0;
    const ids = Object.keys(t.windows.kappa);
    const ys = ids.map((id) => t.windows!.kappa[id].slice(w0, w1).map(num));
    // One x for every predictor: each keeps its own extremes per bucket (decimateMinMaxMany), the buckets sized so
    // that their union stays within the budget.
    const perSeries = Math.max(4, Math.floor(points / Math.max(1, ids.length)));
    const wk = decimateMinMaxMany(ys, perSeries, w1 - w0).index;
    decimated ||= wk.length < w1 - w0;
    const kappaPerWindow: Record<string, (number | null)[]> = {};
    ids.forEach((id, j) => {
      kappaPerWindow[id] = wk.map((k) => orNull(ys[j][k]));
    });
    windows = {
      size: t.windows.size,
      starts: wk.map((k) => t.windows!.starts[w0 + k]),
      firstStep: wk.map((k) => firstSteps[w0 + k]),
      kappa: kappaPerWindow,
    };
  }
  return {
    run: runId,
    version,
    name: name === TOTAL_NAME ? TOTAL_NAME : t.name,
    shape: [...t.shape],
    numel: t.numel,
    view: {
      from: p1 > p0 ? steps[p0] : null,
      to: p1 > p0 ? steps[p1 - 1] : null,
      steps: p1 - p0,
      windows: windowCount,
      points,
      decimated,
    },
    stepIndices: kept.map((i) => steps[p0 + i]),
    gradNorm: kept.map((i) => orNull(norms[i])),
    kappa,
    kappaCI,
    windows,
    increments: t.increments,
    gradients: t.gradients,
    matrix: t.matrix ?? null,
    matrixSteps: t.matrix ? t.matrix.at.map(stepAt) : null,
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
  /** Logged-step range (inclusive) of the columns (by their first step); the whole run by default. */
  readonly from?: number;
  readonly to?: number;
  /** Most columns sent: more columns in range are averaged in contiguous buckets (default `defaultHeatmapCols`). */
  readonly cols?: number;
}

/** Columns sent when a request names none: up to 4,096 (more than a screen's pixels; a 100,000-step ‖g‖ heatmap
 * is bucketed) and about 4M cells in all (16 MB as float32) for very many tensors, never under 1,024. */
export function defaultHeatmapCols(rows: number): number {
  return Math.min(4096, Math.max(1024, Math.floor(2 ** 22 / Math.max(1, rows))));
}
export const MAX_HEATMAP_COLS = 100_000;

export interface HeatmapMatrix {
  readonly header: HeatmapHeader;
  /** rows × cols, row-major; NaN where a tensor has no value for a column. */
  readonly values: Float64Array;
}

export function heatmapView(
  cached: CachedResult,
  runId: string,
  version: number,
  {
    metric,
    predictor,
    eps,
    from = Number.NEGATIVE_INFINITY,
    to = Number.POSITIVE_INFINITY,
    cols: maxCols,
  }: HeatmapRequest,
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
  // The columns whose first step is in range, then at most `cols` of them (bucket means).
  const firstSteps = starts.map(stepAt);
  const [c0, c1] = rangeOf(firstSteps, from, to);
  const inRange = c1 - c0;
  const cols = Math.min(inRange, maxCols ?? defaultHeatmapCols(rows));
  const full = new Float64Array(rows * inRange).fill(Number.NaN);
  for (let r = 0; r < rows; r++) {
    const row = rowsData[r];
    if (!row) continue;
    for (let c = c0; c < Math.min(c1, row.length); c++) full[r * inRange + (c - c0)] = num(row[c]);
  }
  const values = bucketMeans(full, rows, inRange, cols);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const finite = min <= max;
  // Column b covers the analysis columns [c0 + bucketStart(b), c0 + bucketStart(b + 1)).
  const first = Array.from({ length: cols }, (_, b) => c0 + bucketStart(b, inRange, cols));
  const last = Array.from({ length: cols }, (_, b) => c0 + bucketStart(b + 1, inRange, cols) - 1);
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
      starts: first.map((c) => starts[c]),
      span,
      firstStep: first.map((c) => firstSteps[c]),
      lastStep: last.map((c) => stepAt(starts[c] + span - 1)),
      columnsTotal: starts.length,
      columnRange: [c0, c1],
      bucketed: cols < inRange,
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
