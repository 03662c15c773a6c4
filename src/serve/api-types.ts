/** @file The JSON API of `gradtrace serve`, as types: what every endpoint returns (documented for users in
 * docs/dashboard.md). Types only — no runtime code — so the web page can `import type` them without depending on
 * server code; the page talks to the server through HTTP alone. Numbers that are NaN in the analysis are `null` in
 * JSON (JSON has no NaN). */

import type {
  AdviseResult,
  TensorAdvice,
  AnalysisResult,
  MatrixGeometry,
  SketchReport,
  SpectrumSummary,
  TensorResult,
  WindowedKappa,
} from "../analysis/index.ts";
import type { QueueOverview } from "../parallel/index.ts";

export type {
  QueueJobCounts,
  QueueRunView,
  QueueWorkerInfo,
} from "../parallel/index.ts";

export type RunStatus = "pending" | "analyzing" | "ready" | "error";

/** One run of `/api/runs`: identity, analysis state and the whole-model headline numbers once analyzed. */
export interface RunListEntry {
  /** Stable slug of the trace's path relative to the served directory (e.g. "seed1-trace-gtrace"). */
  readonly id: string;
  /** Path relative to the served directory ("." when a single trace is served). */
  readonly path: string;
  readonly status: RunStatus;
  /** Why the last analysis failed (status "error"), or why the shown result is stale. */
  readonly error: string | null;
  /** Increments each time a new analysis result replaces the previous one (live mode). */
  readonly version: number;
  readonly format: string | null;
  readonly steps: number | null;
  readonly tensors: number | null;
  /** Whole-model κ per predictor, its 95% block-bootstrap interval, r*(ε) of the increments, ranks. */
  readonly kappa: Record<string, number | null> | null;
  readonly kappaCI: Record<string, [number | null, number | null]> | null;
  readonly predictableRank: Record<string, number> | null;
  readonly effectiveRank: number | null;
  readonly stableRank: number | null;
  /** Steps excluded from the numbers because their data failed a checksum (corruption; 0 = none found, null = not
   * analyzed yet). The page shows a badge when it is positive; `/summary`'s `trace.problems` name them. */
  readonly corruptSteps: number | null;
  /** ISO time of the analysis behind the numbers. */
  readonly analyzedAt: string | null;
}

export interface LabListEntry {
  readonly id: string;
  readonly path: string;
  readonly title: string;
  readonly parameter: string;
  readonly points: number;
}

/** `/api/server`: what this server was started with that changes the page (the queue view's link). */
export interface ServerInfo {
  /** The Redis queue `gradtrace serve --queue` shows (`redis://HOST:PORT`, no credentials), or null. */
  readonly queue: string | null;
}

/** `/api/queue` (serve --queue): the runs submitters published, the queue's job counts and its workers. */
export type QueueResponse = QueueOverview;

export interface RunsResponse {
  readonly runs: RunListEntry[];
  readonly labs: LabListEntry[];
}

/** A tensor of `/summary`: the TensorResult minus its arrays (per step, per window, spectra — all in `/series`), so
 * the summary of a 2,000-tensor run stays a few MB. */
export type TensorSummary = Omit<
  TensorResult,
  "gradNorm" | "windows" | "matrix" | "increments" | "gradients" | "singularValues"
> & {
  /** Participation ratio of the increments' spectrum. */
  readonly participationRatio: number;
  readonly windowCount: number;
  readonly windowSize: number;
  readonly hasMatrix: boolean;
};

/** `/api/runs/:id/summary`: the AnalysisResult without its big arrays (fetch those per tensor via `/series`);
 * `trace.path` is relative to the served directory. */
export interface SummaryResponse
  extends Pick<AnalysisResult, "schemaVersion" | "trace" | "options" | "bounds" | "summary"> {
  readonly run: RunListEntry;
  readonly tensors: TensorSummary[];
  readonly total: TensorSummary;
  /** Heatmap metrics this run can show (see `/heatmap`). */
  readonly heatmapMetrics: HeatmapMetric[];
}

/** `/api/runs/:id/tensors/:name/series` (name "@total" = the whole model as one vector). */
export interface SeriesResponse {
  readonly run: string;
  readonly version: number;
  readonly name: string;
  readonly shape: number[];
  readonly numel: number;
  /** The part of the run these arrays cover and how: the logged steps of its first and last step (null when the
   * range holds none), the step positions and windows in it, the point budget per series, and whether a series was
   * longer than the budget and was decimated (each bucket keeps its minimum and maximum). */
  readonly view: {
    readonly from: number | null;
    readonly to: number | null;
    readonly steps: number;
    readonly windows: number;
    readonly points: number;
    readonly decimated: boolean;
  };
  /** Step index (as logged) of each point of gradNorm (the x of gradNorm[i]). */
  readonly stepIndices: number[];
  /** ‖g_t‖ at those steps. */
  readonly gradNorm: (number | null)[];
  readonly kappa: Record<string, number | null>;
  readonly kappaCI: Record<string, [number | null, number | null]> | null;
  /** κ over sliding windows, per predictor, at the windows kept: their start (step position) and the logged step
   * of that start (the x of kappa[id][i]). */
  readonly windows:
    | (Pick<WindowedKappa, "size" | "starts"> & {
        firstStep: number[];
        kappa: Record<string, (number | null)[]>;
      })
    | null;
  /** Spectrum of the increments H = [g_t − g_{t−1}] (singular values, r*(ε) curve, ranks, oracle path lengths). */
  readonly increments: SpectrumSummary;
  /** Spectrum of the gradient matrix G itself. */
  readonly gradients: SpectrumSummary;
  /** Per-step matrix spectrum and stale-projector energy vs refresh interval, for matrix-shaped tensors. */
  readonly matrix: MatrixGeometry | null;
  /** Logged step of each `matrix.at` position. */
  readonly matrixSteps: number[] | null;
  readonly sketch: SketchReport | null;
}

export type HeatmapMetric = "kappa" | "gradNorm" | "rank";

/** `/api/runs/:id/heatmap`: layer × time matrix, row-major, one row per tensor (trace order). */
export interface HeatmapHeader {
  readonly run: string;
  readonly version: number;
  readonly metric: HeatmapMetric;
  /** Predictor id (metric "kappa") or null. */
  readonly predictor: string | null;
  /** ε (metric "rank") or null. */
  readonly eps: number | null;
  readonly rows: number;
  readonly cols: number;
  /** Tensor name of each row. */
  readonly tensors: string[];
  /** Step position where each column starts; a window spans `span` step positions (1 for gradNorm). */
  readonly starts: number[];
  readonly span: number;
  /** Logged step number of each column's first and last step (what the page labels columns with: positions are
   * not step numbers once steps with NaN/Inf gradients were dropped). */
  readonly firstStep: number[];
  readonly lastStep: number[];
  /** Columns of the analysis (windows, or steps for gradNorm) in the whole run, and the range [from, to) of them
   * that the request's step range selected. */
  readonly columnsTotal: number;
  readonly columnRange: [number, number];
  /** More columns were in range than asked for: column b is the mean of the analysis columns
   * [from + ⌊b·m/cols⌋, from + ⌊(b+1)·m/cols⌋) (m = to − from), missing values excluded; `firstStep` / `lastStep`
   * are its first window's first step and its last window's last step. */
  readonly bucketed: boolean;
  /** Finite minimum / maximum of the values (null when none is finite). */
  readonly min: number | null;
  readonly max: number | null;
}

/** JSON form (`format=json`, the default): the header plus `values` (row-major, null = not available). */
export interface HeatmapJson extends HeatmapHeader {
  readonly values: (number | null)[];
}

/** `/api/labs/:id`: one spiked-lab sweep, normalised for plotting. */
export interface LabResponse {
  readonly id: string;
  readonly path: string;
  readonly title: string;
  /** Name of the swept parameter (e.g. "nu") and its values, one per point. */
  readonly parameter: string;
  readonly values: number[];
  /** For a categorical sweep (e.g. activation): the category of each value (values are then 0, 1, …). */
  readonly xLabels: string[] | null;
  /** Curves over the swept values: singular values σ_1..σ_k, and alignment cosines, each keyed by a label. */
  readonly singularValues: { label: string; y: (number | null)[] }[];
  readonly cosines: { label: string; y: (number | null)[] }[];
  /** ‖S1‖, ‖S2‖, ‖E‖ of the decomposition G ≈ S1 + S2 + E when the file has them. */
  readonly norms: { label: string; y: (number | null)[] }[];
}

/** Payload of the SSE `update` / `status` events of `/api/runs/:id/events` and `/api/events`. */
export interface RunEvent {
  readonly run: RunListEntry;
}

/** One tensor's numbers in a `live` event (see LiveStepsEvent). */
export interface LiveTrack {
  /** Tensor name ("@total" for the whole model). */
  readonly name: string;
  /** ‖g_t‖ of each step carried (accepted steps `from` … `steps` − 1). */
  readonly gradNorm: number[];
  /** κ over all steps so far, per predictor (null when undefined, e.g. all-zero gradients). */
  readonly kappa: Record<string, number | null>;
  /** κ per predictor and r*(ε) per ε (keyed by String(ε)) of each window in the event's `windows.starts`. */
  readonly windowKappa: Record<string, (number | null)[]>;
  readonly windowRank: Record<string, (number | null)[]>;
}

/** Payload of the SSE `live` event of `/api/runs/:id/events`: the steps appended since the previous `live` event,
 * read incrementally (only the new steps) into the run's streaming state (the one of `analyze()`'s streaming
 * mode). The top-level numbers are the whole model's (all tensors concatenated); `tensors` has each tensor's. κ of
 * every predictor is `analyze()`'s own over the steps seen so far (to rounding); windows are those of the streaming
 * state (`windows.size`: the run's `--window`, else 64). */
export interface LiveStepsEvent extends Omit<LiveTrack, "name"> {
  readonly run: string;
  /** Version of the result current when the event was sent. */
  readonly version: number;
  /** Accepted-step number (0-based, NaN/Inf steps skipped) of the first step carried. Normally the previous event's
   * `steps`; later when more steps were added than one event carries (a catch-up sends its latest steps only). */
  readonly from: number;
  /** Accepted steps seen so far (from + number of steps carried). */
  readonly steps: number;
  /** Steps accepted since the previous event (≥ steps − from). */
  readonly added: number;
  /** Step index (as logged) of each step carried. */
  readonly stepIndices: number[];
  /** ‖g_t − m_t‖² of each step carried, per predictor (whole model). */
  readonly error: Record<string, number[]>;
  /** The windows that closed among the steps carried: window length and stride, each window's first accepted step
   * and first logged step. */
  readonly windows: { size: number; stride: number; starts: number[]; firstStep: number[] };
  /** Per analyzed tensor (trace order). */
  readonly tensors: LiveTrack[];
  /** Steps (as logged) skipped since the previous event because their data failed a checksum. */
  readonly corruptSteps: number[];
}

export interface ApiError {
  readonly error: { code: string; message: string };
}

/** `/api/runs/:id/advise?target=0.8`: advise()'s result for the run's trace (docs/advise.md); `traces` holds the
 * run's path relative to the served directory. A uniform energy that is NaN (a rank off the computed ranks) is null. */
export type AdviseResponse = AdviseResult;
export type { TensorAdvice };
