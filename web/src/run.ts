/** @file One run: headline facts, the layer × time heatmap (κ per window for a chosen predictor, r*(ε) per window,
 * or ‖g‖ per step; bucketed by the server beyond a few thousand columns), the table of all tensors, and the selected
 * tensor's charts (long series min/max-decimated by the server; zooming a chart re-requests that step range at a
 * higher resolution). In live mode the page applies each incremental `live` event to the headline (steps seen, last
 * ‖g‖ and running κ of the whole model and of the selected tensor) at once, and refetches what changed when the
 * server announces a new result version, keeping the heatmap's viewport and the selection. */
import { el } from "./dom.ts";
import { advicePanel } from "./advise.ts";
import {
  api,
  type HeatmapMetric,
  type LiveStepsEvent,
  type SeriesResponse,
  type SummaryResponse,
  subscribe,
  type TensorSummary,
} from "./api.ts";
import { Chart, type ChartSpec } from "./chart.ts";
import { scaleFor } from "./colormap.ts";
import { download, toCsv } from "./export.ts";
import { Heatmap } from "./heatmap.ts";
import type { Page } from "./overview.ts";
import { ROW_ORDERS, type RowOrder, selectRows } from "./rows.ts";
import { type Column, DataTable, fmt } from "./table.ts";

export const TOTAL = "@total";
/** Points per series the charts ask for: about two per pixel column of a wide chart (a minimum and a maximum). */
const SERIES_POINTS = 2000;

interface RunPageState {
  summary: SummaryResponse | null;
  metric: HeatmapMetric;
  predictor: string;
  eps: number;
  tensor: string;
  /** Heatmap row filter (text or /regex/) and ordering. */
  filter: string;
  order: RowOrder;
}

export interface RunPage extends Page {
  /** Shows another tensor without rebuilding the page (hash change inside the same run). */
  selectTensor(name: string): void;
}

function select(
  label: string,
  name: string,
  options: readonly string[],
  value: string,
  onChange: (v: string) => void,
) {
  const wrap = el("label", "control", `${label} `);
  const s = el("select");
  s.name = name;
  for (const o of options) {
    const opt = el("option", undefined, o);
    opt.value = o;
    s.append(opt);
  }
  s.value = value;
  s.addEventListener("change", () => onChange(s.value));
  wrap.append(s);
  return { wrap, select: s };
}

export function runPage(
  root: HTMLElement,
  runId: string,
  initialTensor: string,
  tooltip: HTMLElement,
  setLive: (on: boolean) => void,
): RunPage {
  root.innerHTML = "";
  const state: RunPageState = {
    summary: null,
    metric: "kappa",
    predictor: "",
    eps: 0,
    tensor: initialTensor,
    filter: "",
    order: "trace",
  };
  const head = el("section", "run-head");
  const controls = el("div", "heatmap-controls");
  const heatHost = el("section", "heatmap-host");
  const tensorHost = el("section", "tensor");
  const tableHost = el("div");
  root.append(head, controls, heatHost, tensorHost, tableHost, advicePanel(runId));
  const heatmap = new Heatmap(heatHost, tooltip);
  let tensorTable: DataTable<TensorSummary> | null = null;
  const charts = new Map<string, Chart>();
  let shownVersion = 0;
  /** The latest incremental event (steps appended since the exact result shown). */
  let live: LiveStepsEvent | null = null;
  let closed = false;
  let loading: Promise<void> = Promise.resolve();

  /** Source row (trace order) of each heatmap row shown, after the filter and ordering. */
  let shownRows: number[] = [];
  heatmap.onSelectRow = (row) => {
    const name = heatData?.header.tensors[shownRows[row]];
    if (name) location.hash = `#/run/${encodeURIComponent(runId)}/tensor/${encodeURIComponent(name)}`;
  };

  const renderHead = (s: SummaryResponse) => {
    head.innerHTML = "";
    head.append(el("h2", undefined, s.run.path));
    const facts = el("p", "facts");
    facts.dataset.steps = String(s.trace.steps);
    facts.dataset.tensors = String(s.trace.tensors);
    facts.dataset.version = String(s.run.version);
    facts.textContent = `${s.trace.format} · ${s.trace.steps} steps · ${s.trace.tensors} tensors · window ${s.options.window} · analyzed ${
      s.run.analyzedAt ? new Date(s.run.analyzedAt).toLocaleTimeString() : "–"
    } (version ${s.run.version})`;
    head.append(facts);
    const corrupt = s.trace.excludedSteps?.corrupt ?? 0;
    if (corrupt > 0) {
      // Corruption is not a property of training: say so before any number is read.
      const badge = el(
        "p",
        "badge corrupt",
        `corrupt data: ${corrupt} step${corrupt === 1 ? "" : "s"} failed a checksum and ${corrupt === 1 ? "was" : "were"} excluded`,
      );
      badge.dataset.corrupt = String(corrupt);
      head.append(badge);
    }
    head.append(el("p", "summary", s.summary));
    if (s.trace.problems.length > 0) {
      const ul = el("ul", "problems");
      for (const p of s.trace.problems) {
        const li = el("li", p.kind, p.message);
        li.dataset.kind = p.kind;
        ul.append(li);
      }
      head.append(ul);
    }
    renderLive();
  };

  /** Headline of the steps seen live beyond the exact result: the facts' step count, and a line with the running
   * κ of the live accumulator (replaced by the exact numbers once the re-analysis is in). */
  const renderLive = () => {
    const s = state.summary;
    const facts = head.querySelector<HTMLElement>(".facts");
    let line = head.querySelector<HTMLElement>(".live-steps");
    if (!s || !facts || !live || live.steps <= s.trace.steps) {
      line?.remove();
      return;
    }
    facts.dataset.steps = String(live.steps);
    if (!line) {
      line = el("p", "facts live-steps");
      facts.after(line);
    }
    line.dataset.steps = String(live.steps);
    line.dataset.kappa = JSON.stringify(live.kappa);
    const lastNorm = live.gradNorm[live.gradNorm.length - 1];
    const kappas = Object.entries(live.kappa)
      .map(([id, k]) => `${id} ${fmt(k)}`)
      .join(" · ");
    let text = `live: ${live.steps} steps (${live.steps - s.trace.steps} not yet in the analysis shown) · whole model: last ‖g‖ ${fmt(lastNorm)} · κ ${kappas}`;
    // The selected tensor's own running numbers (events carry every tensor's).
    const tensor = live.tensors.find((t) => t.name === state.tensor);
    line.dataset.tensor = tensor?.name ?? "";
    line.dataset.tensorKappa = tensor ? JSON.stringify(tensor.kappa) : "";
    if (tensor) {
      const p = state.predictor || Object.keys(tensor.kappa)[0];
      text += ` · ${tensor.name}: last ‖g‖ ${fmt(tensor.gradNorm[tensor.gradNorm.length - 1])} · κ ${p} ${fmt(tensor.kappa[p] ?? null)}`;
    }
    line.textContent = text;
  };

  const renderControls = (s: SummaryResponse) => {
    controls.innerHTML = "";
    const metric = select("heatmap", "metric", s.heatmapMetrics, state.metric, (v) => {
      state.metric = v as HeatmapMetric;
      renderControls(s);
      void loadHeatmap();
    });
    controls.append(metric.wrap);
    if (state.metric === "kappa") {
      controls.append(
        select("predictor", "predictor", s.options.predictors, state.predictor, (v) => {
          state.predictor = v;
          void loadHeatmap();
        }).wrap,
      );
    }
    if (state.metric === "rank") {
      controls.append(
        select("ε", "eps", s.options.eps.map(String), String(state.eps), (v) => {
          state.eps = Number(v);
          void loadHeatmap();
        }).wrap,
      );
    }
    const filter = el("input");
    filter.type = "search";
    filter.name = "filter";
    filter.placeholder = "filter tensors (text or /regex/)";
    filter.value = state.filter;
    let timer = 0;
    filter.addEventListener("input", () => {
      clearTimeout(timer);
      timer = window.setTimeout(() => {
        state.filter = filter.value;
        showHeatmap();
      }, 150);
    });
    const order = select("rows", "order", ROW_ORDERS, state.order, (v) => {
      state.order = v as RowOrder;
      state.filter = filter.value; // a filter edit still inside its debounce counts too
      showHeatmap();
    });
    controls.append(filter, order.wrap);
    const reset = el("button", undefined, "reset view");
    reset.type = "button";
    reset.addEventListener("click", () => heatmap.resetView());
    const png = el("button", undefined, "PNG");
    png.type = "button";
    png.dataset.export = "png";
    png.addEventListener("click", async () => {
      const b = await heatmap.toPngBlob();
      if (b) download(`heatmap-${state.metric}.png`, b);
    });
    const svg = el("button", undefined, "SVG");
    svg.type = "button";
    svg.dataset.export = "svg";
    svg.addEventListener("click", () => {
      const title = `${s.run.path}: ${heatmap.canvas.getAttribute("aria-label") ?? state.metric}`;
      download(`heatmap-${state.metric}.svg`, new Blob([heatmap.toSvg(title)], { type: "image/svg+xml" }));
    });
    const csv = el("button", undefined, "CSV");
    csv.type = "button";
    csv.dataset.export = "csv";
    csv.addEventListener("click", () => exportHeatmapCsv());
    controls.append(reset, svg, png, csv);
  };

  let heatData: Awaited<ReturnType<typeof api.heatmap>> | null = null;
  const exportHeatmapCsv = () => {
    if (!heatData) return;
    const { header, values } = heatData;
    const rows: (string | number | null)[][] = [["tensor", ...header.firstStep]];
    // The rows shown (filtered, ordered), all columns.
    for (const r of shownRows) {
      const row: (string | number | null)[] = [header.tensors[r]];
      for (let c = 0; c < header.cols; c++) row.push(values[r * header.cols + c]);
      rows.push(row);
    }
    download(`heatmap-${header.metric}.csv`, new Blob([toCsv(rows)], { type: "text/csv" }));
  };

  const loadHeatmap = async () => {
    // An empty predictor / ε lets the server pick its default (ema0.9 when analyzed): the first heatmap is fetched
    // in parallel with the summary instead of after it.
    const data = await api.heatmap(runId, {
      metric: state.metric,
      predictor: state.metric === "kappa" && state.predictor ? state.predictor : undefined,
      eps: state.metric === "rank" && state.eps ? state.eps : undefined,
    });
    if (closed) return;
    performance.mark("gradtrace:heatmap-decoded");
    heatData = data;
    const h = data.header;
    if (h.predictor) state.predictor = h.predictor;
    if (h.eps !== null) state.eps = h.eps;
    heatmap.canvas.dataset.predictor = h.predictor ?? "";
    heatmap.canvas.dataset.eps = h.eps === null ? "" : String(h.eps);
    showHeatmap();
  };

  /** Draws the loaded matrix through the row filter and ordering (no refetch). */
  const showHeatmap = () => {
    if (!heatData) return;
    const h = heatData.header;
    const all = !state.filter.trim() && state.order === "trace";
    const sel = all
      ? { indices: h.tensors.map((_, i) => i), names: h.tensors, values: heatData.values }
      : selectRows(h.tensors, heatData.values, h.cols, { filter: state.filter, order: state.order });
    shownRows = sel.indices;
    heatmap.canvas.dataset.filter = state.filter;
    heatmap.canvas.dataset.order = state.order;
    heatmap.setData({
      rows: sel.indices.length,
      cols: h.cols,
      values: sel.values,
      rowLabels: sel.names,
      columns: {
        first: h.firstStep,
        last: h.lastStep,
        span: h.span,
        range: h.columnRange,
        bucketed: h.bucketed,
      },
      metric: h.metric,
      valueLabel: h.metric === "kappa" ? `κ (${h.predictor})` : h.metric === "rank" ? `r*(${h.eps})` : "‖g‖",
      scale: scaleFor(h.metric, h.min, h.max),
      min: h.min,
      max: h.max,
      version: h.version,
    });
  };

  const isTotal = (t: TensorSummary) => t === state.summary?.total;
  const renderTensorTable = (s: SummaryResponse) => {
    if (!tensorTable) {
      const columns: Column<TensorSummary>[] = [
        {
          key: "name",
          label: "tensor",
          value: (t) => (isTotal(t) ? TOTAL : t.name),
          text: (t) => (isTotal(t) ? "whole model" : t.name),
        },
        { key: "shape", label: "shape", value: (t) => t.shape.join("×") },
        { key: "numel", label: "numel", value: (t) => t.numel },
        ...s.options.predictors.map(
          (p): Column<TensorSummary> => ({
            key: `kappa:${p}`,
            label: `κ ${p}`,
            value: (t) => t.kappa[p] ?? null,
          }),
        ),
        {
          key: "oracleKappa:4",
          label: "κ oracle4",
          title:
            "κ of the best rank-4 predictor of the increments in hindsight (Eckart–Young oracle, Theorem iii; at rank 0 it equals κ last)",
          value: (t) => t.oracleKappa?.[4] ?? null,
        },
        ...s.options.eps.map(
          (e): Column<TensorSummary> => ({
            key: `rank:${e}`,
            label: `r*(${e})`,
            value: (t) => t.predictableRank[String(e)] ?? null,
          }),
        ),
        { key: "effectiveRank", label: "eff. rank", value: (t) => t.effectiveRank },
        { key: "stableRank", label: "stable rank", value: (t) => t.stableRank },
        { key: "cosineConsecutive", label: "cos(gₜ, gₜ₋₁)", value: (t) => t.cosineConsecutive },
      ];
      tensorTable = new DataTable<TensorSummary>(tableHost, {
        id: "tensors",
        title: "Tensors",
        columns,
        rowKey: (t) => (isTotal(t) ? TOTAL : t.name),
      });
      tensorTable.onRowClick = (t) => {
        const name = isTotal(t) ? TOTAL : t.name;
        location.hash = `#/run/${encodeURIComponent(runId)}/tensor/${encodeURIComponent(name)}`;
      };
    }
    tensorTable.setRows([s.total, ...s.tensors]);
  };

  const chart = (host: HTMLElement, spec: ChartSpec) => {
    const existing = charts.get(spec.id);
    if (existing && existing.element.parentElement === host) existing.update(spec);
    else {
      existing?.destroy();
      charts.set(spec.id, new Chart(host, spec));
    }
  };

  /** The selected tensor's whole-run series (what a double-click on a zoomed chart goes back to). */
  let fullSeries: SeriesResponse | null = null;
  let zoomRequest = 0;
  /** A chart's x range was zoomed (or reset: null): the same tensor's series over that range, at the same point
   * budget (so at a higher resolution), replaces the chart's points; the latest request wins. */
  const zoomTo = async (chartId: string, range: [number, number] | null) => {
    const request = ++zoomRequest;
    const tensor = state.tensor;
    if (range === null) {
      if (fullSeries) renderTensor(fullSeries);
      return;
    }
    const s = await api.series(runId, tensor, {
      from: Math.floor(range[0]),
      to: Math.ceil(range[1]),
      points: SERIES_POINTS,
    });
    if (closed || request !== zoomRequest || tensor !== state.tensor) return;
    const spec = chartId === "grad-norm" ? gradNormSpec(s) : kappaWindowsSpec(s);
    if (spec) charts.get(chartId)?.refine(spec, range);
  };

  const gradNormSpec = (series: SeriesResponse): ChartSpec => ({
    id: "grad-norm",
    title: `Gradient norm ‖gₜ‖${series.view.decimated ? " (min/max per bucket; drag to zoom)" : ""}`,
    xLabel: "step",
    yLabel: "‖g‖",
    x: series.stepIndices,
    series: [{ label: "‖g‖", y: series.gradNorm }],
    onZoom: (range) => void zoomTo("grad-norm", range),
  });

  const kappaWindowsSpec = (series: SeriesResponse): ChartSpec | null => {
    const w = series.windows;
    if (!w) return null;
    return {
      id: "kappa-windows",
      title: `κ over windows of ${w.size} steps`,
      xLabel: "window start (step)",
      yLabel: "κ",
      x: w.firstStep,
      series: Object.entries(w.kappa).map(([label, y]) => ({ label, y })),
      onZoom: (range) => void zoomTo("kappa-windows", range),
    };
  };

  const renderTensor = (series: SeriesResponse) => {
    let title = tensorHost.querySelector<HTMLElement>(".tensor-title");
    let grid = tensorHost.querySelector<HTMLElement>(".charts");
    if (!title || !grid) {
      tensorHost.innerHTML = "";
      title = el("div", "tensor-title");
      grid = el("div", "charts");
      tensorHost.append(title, grid);
    }
    tensorHost.dataset.tensor = series.name;
    tensorHost.dataset.version = String(series.version);
    title.innerHTML = "";
    title.append(el("h3", undefined, series.name === TOTAL ? "Whole model" : series.name));
    const kappaText = Object.entries(series.kappa)
      .map(([p, k]) => {
        const ci = series.kappaCI?.[p];
        return `κ ${p} = ${fmt(k)}${ci ? ` [${fmt(ci[0])}, ${fmt(ci[1])}]` : ""}`;
      })
      .join(" · ");
    title.append(
      el(
        "p",
        "facts",
        `shape ${series.shape.join("×")} · ${series.numel} values · r*(ε): ${Object.entries(
          series.increments.predictableRank,
        )
          .map(([e, r]) => `${e} → ${r}`)
          .join(", ")} · effective rank ${fmt(series.increments.effectiveRank)}`,
      ),
      el("p", "facts", kappaText),
    );
    fullSeries = series;
    chart(grid, gradNormSpec(series));
    const windowsSpec = kappaWindowsSpec(series);
    if (windowsSpec) chart(grid, windowsSpec);
    const inc = series.increments.singularValues;
    const grad = series.gradients.singularValues;
    const k = Math.max(inc.length, grad.length);
    chart(grid, {
      id: "spectrum",
      title: "Singular values (log scale)",
      xLabel: "index i",
      yLabel: "σᵢ",
      x: Array.from({ length: k }, (_, i) => i + 1),
      series: [
        { label: "increments gₜ − gₜ₋₁", y: Array.from({ length: k }, (_, i) => inc[i] ?? null) },
        { label: "gradients gₜ", y: Array.from({ length: k }, (_, i) => grad[i] ?? null) },
      ],
      logY: true,
      points: true,
    });
    const curve = series.increments.rankCurve;
    // uPlot wants an ascending x: the curve is listed by ascending ε already, but sort defensively.
    const order = curve.eps.map((_, i) => i).sort((a, b) => curve.eps[a] - curve.eps[b]);
    chart(grid, {
      id: "rank-curve",
      title: "Predictable rank r*(ε) of the increments",
      xLabel: "ε",
      yLabel: "r*(ε)",
      x: order.map((i) => curve.eps[i]),
      series: [{ label: "r*(ε)", y: order.map((i) => curve.rank[i]) }],
      logX: true,
    });
    const m = series.matrix;
    const staleId = "stale-energy";
    if (m && m.staleEnergy.delta.length > 0) {
      chart(grid, {
        id: staleId,
        title: `Stale-projector energy, rank ${m.staleEnergy.k} (what a GaLore-style refresh every Δ steps keeps)`,
        xLabel: "refresh interval Δ (steps)",
        yLabel: "captured fraction of ‖g‖²",
        x: m.staleEnergy.delta,
        series: [{ label: "energy", y: m.staleEnergy.energy }],
      });
      chart(grid, {
        id: "matrix-rank",
        title: `Per-step matrix rank of ∇W (${m.rows}×${m.cols})`,
        xLabel: "step",
        yLabel: "rank",
        x: series.matrixSteps ?? m.at,
        series: [
          { label: "effective rank", y: m.effectiveRank },
          { label: "stable rank", y: m.stableRank },
        ],
      });
    } else {
      for (const id of [staleId, "matrix-rank"]) {
        charts.get(id)?.destroy();
        charts.delete(id);
      }
    }
  };

  const loadTensor = async () => {
    const name = state.tensor;
    const series = await api.series(runId, name, { points: SERIES_POINTS });
    if (closed || name !== state.tensor) return;
    renderTensor(series);
  };

  const refresh = async () => {
    const first = state.summary === null;
    const heat = loadHeatmap();
    const tensor = loadTensor();
    // Rejections are handled where awaited below; mark them handled now so a slow summary cannot surface them.
    heat.catch(() => {});
    tensor.catch(() => {});
    const s = await api.summary(runId);
    if (closed) return;
    state.summary = s;
    shownVersion = s.run.version;
    renderHead(s);
    await heat;
    if (first) {
      if (!s.heatmapMetrics.includes(state.metric)) {
        state.metric = s.heatmapMetrics[0];
        await loadHeatmap();
      }
      state.eps ||= s.options.eps[0];
      renderControls(s);
    }
    await tensor;
    // The tensor table (thousands of rows for big models) after the heatmap has been painted.
    await new Promise((r) => requestAnimationFrame(r));
    if (closed) return;
    performance.mark("gradtrace:table-start");
    renderTensorTable(s);
    performance.mark("gradtrace:table-end");
    if (closed) return;
    root.dataset.version = String(shownVersion);
    document.body.dataset.state = "ready";
  };

  const reload = () => {
    loading = loading.then(refresh).catch((err: Error) => {
      if (closed) return;
      head.textContent = `Could not load run ${runId}: ${err.message}`;
      document.body.dataset.state = "error";
    });
  };

  reload();
  const unsubscribe = subscribe(
    runId,
    ({ run }) => {
      if (run.status === "ready" && run.version > shownVersion && state.summary) reload();
    },
    setLive,
    (event) => {
      if (closed) return;
      live = event;
      renderLive();
    },
  );

  return {
    selectTensor(name: string) {
      if (name === state.tensor) return;
      state.tensor = name;
      loading = loading.then(loadTensor).catch(() => {});
    },
    destroy() {
      closed = true;
      unsubscribe();
      setLive(false);
      heatmap.destroy();
      for (const c of charts.values()) c.destroy();
    },
  };
}
