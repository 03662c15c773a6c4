/** @file The self-contained HTML report of `gradtrace analyze --html`: summary, per-tensor table, and inline SVG
 * figures (κ per tensor, increment spectra, r*(ε) curves, κ over time, stale-projector energy) plus the bound
 * calculators with their assumptions, and the GaLore advice section when given one. No script, no external asset: it opens anywhere, offline. */
import type { AdviseResult, AnalysisResult, TensorResult } from "../analysis/index.ts";
import { ADVISE_STYLE, adviseSectionHtml } from "./advise.ts";
import { decimateMinMax, fmtNum } from "../core/index.ts";
import { modeDescription } from "./mode.ts";
import { type ChartPanel, type ChartSeries, escapeXml, renderSvgChart } from "./svgChart.ts";
import { oracleCell } from "./table.ts";

/** Rank of the oracle column (as in the terminal table: the rank of the default subspace predictor). */
const ORACLE_RANK = 4;

const MAX_TENSORS_IN_FIGURES = 12;
/** Points per line in the time charts: a 100,000-step run is drawn from its per-bucket minima and maxima. */
const MAX_POINTS_PER_LINE = 1200;

/** x and y of a long series cut to MAX_POINTS_PER_LINE points, keeping each bucket's extremes. */
function decimated(x: readonly number[], y: readonly number[]): { x: number[]; y: number[] } {
  const d = decimateMinMax(y, MAX_POINTS_PER_LINE);
  return { x: d.index.map((i) => x[i]), y: d.value };
}

/** r*(ε) cell: in streaming mode the certified upper bound with its [lower, upper] interval. */
function rankCell(r: TensorResult, e: string): string {
  const v = r.predictableRank[e];
  const b = r.increments.bound?.predictableRank[e];
  if (v === undefined) return "";
  return b && b[0] !== b[1] ? `≤ ${v} <small>[${b[0]}, ${b[1]}]</small>` : String(v);
}

function kappaCell(r: TensorResult, id: string): string {
  const ci = r.kappaCI?.[id];
  const k = fmtNum(r.kappa[id]);
  return ci && Number.isFinite(ci[0]) ? `${k} <small>[${fmtNum(ci[0])}, ${fmtNum(ci[1])}]</small>` : k;
}

function tableHtml(result: AnalysisResult): string {
  // κ(zero) = 1 by definition: kept in the JSON, left out of the table.
  const preds = result.options.predictors.filter((p) => p !== "zero");
  const eps = result.options.eps.map(String);
  const head = [
    "tensor",
    "shape",
    ...preds.map((p) => `κ ${p}`),
    `κ oracle${ORACLE_RANK}`,
    ...eps.map((e) => `r*(${e})`),
    "eff. rank",
    "stable rank",
    "cos(g_t, g_t−1)",
  ];
  const rows = [...result.tensors, result.total].map((r) => {
    const cells = [
      escapeXml(r.name),
      escapeXml(r.shape.join("×")),
      ...preds.map((p) => kappaCell(r, p)),
      oracleCell(r, ORACLE_RANK),
      ...eps.map((e) => rankCell(r, e)),
      fmtNum(r.effectiveRank),
      fmtNum(r.stableRank),
      fmtNum(r.cosineConsecutive),
    ];
    const cls = r === result.total ? ' class="total"' : "";
    return `<tr${cls} data-tensor="${escapeXml(r.name)}">${cells.map((c) => `<td>${c}</td>`).join("")}</tr>`;
  });
  return `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The tensors shown in figures: the total plus the largest tensors. */
function figureTensors(result: AnalysisResult): TensorResult[] {
  const largest = [...result.tensors].sort((a, b) => b.numel - a.numel).slice(0, MAX_TENSORS_IN_FIGURES - 1);
  return [result.total, ...largest];
}

function kappaPerTensorFigure(result: AnalysisResult): string {
  const tensors = [...result.tensors, result.total];
  const preds = result.options.predictors.filter((p) => p !== "zero");
  const series: ChartSeries[] = preds.map((p) => ({
    name: p,
    x: tensors.map((_, i) => i),
    y: tensors.map((t) => t.kappa[p]),
    mode: "scatter",
  }));
  const panel: ChartPanel = {
    title: "κ per tensor (κ = 1: zero predictor)",
    yLabel: "κ",
    series,
    xCategories: tensors.map((t) => t.name),
    referenceLines: [{ y: 1, label: "zero" }],
  };
  return renderSvgChart({
    panels: [panel],
    panelWidth: Math.min(1150, 160 + 90 * tensors.length),
    panelHeight: 300,
  });
}

function spectraFigure(result: AnalysisResult): string {
  const panels: ChartPanel[] = [
    {
      title: "singular values of the increments",
      xLabel: "index i",
      yLabel: "σ_i",
      logY: true,
      series: figureTensors(result).map((t) => ({
        name: t.name,
        x: t.increments.singularValues.map((_, i) => i + 1),
        y: t.increments.singularValues,
        mode: "line",
      })),
    },
    {
      title: "predictable rank r*(ε)",
      xLabel: "−log10 ε",
      yLabel: "r*(ε)",
      series: figureTensors(result).map((t) => ({
        name: t.name,
        x: t.increments.rankCurve.eps.map((e) => -Math.log10(e)),
        y: t.increments.rankCurve.rank,
        mode: "line",
      })),
    },
  ];
  return renderSvgChart({ panels, columns: 2, panelWidth: 460, panelHeight: 300 });
}

/** Theorem (iii): κ of the best rank-k increment predictor in hindsight against k, beside the online predictors'. */
function oracleFigure(result: AnalysisResult): string {
  const t = result.total;
  const oracle = t.oracleKappa ?? [];
  if (oracle.length === 0) return "";
  const preds = result.options.predictors.filter((p) => p !== "zero" && Number.isFinite(t.kappa[p]));
  const panel: ChartPanel = {
    title:
      "whole model: oracle κ of the best rank-k increment predictor (line) and the predictors' κ (dashed)",
    xLabel: "rank k",
    yLabel: "κ",
    series: [{ name: "oracle", x: oracle.map((_, k) => k), y: oracle, mode: "line" }],
    referenceLines: preds.map((p) => ({ y: t.kappa[p], label: p })),
  };
  return renderSvgChart({ panels: [panel], panelWidth: 920, panelHeight: 320 });
}

function windowsFigure(result: AnalysisResult): string {
  const norms: ChartPanel = {
    title: "gradient norm ‖g_t‖",
    xLabel: "step position",
    yLabel: "‖g_t‖",
    logY: true,
    series: figureTensors(result).map((t) => ({
      name: t.name,
      ...decimated(
        t.gradNorm.map((_, i) => i),
        t.gradNorm,
      ),
      mode: "line-only",
    })),
  };
  const normsSvg = renderSvgChart({ panels: [norms], panelWidth: 920, panelHeight: 300 });
  const w = result.total.windows;
  if (!w || w.starts.length < 2) return `${normsSvg}<p>Too few steps for κ over time.</p>`;
  const panel: ChartPanel = {
    title: `κ over time (whole model, windows of ${w.size} steps)`,
    xLabel: "window start (step position)",
    yLabel: "κ",
    series: Object.entries(w.kappa)
      .filter(([id]) => id !== "zero")
      .map(([id, ys]) => ({
        name: id,
        ...decimated(w.starts, ys),
        mode: w.starts.length > 400 ? "line-only" : "line",
      })),
    referenceLines: [{ y: 1, label: "zero" }],
  };
  return normsSvg + renderSvgChart({ panels: [panel], panelWidth: 920, panelHeight: 300 });
}

function staleFigure(result: AnalysisResult): string {
  const withMatrix = result.tensors.filter((t) => t.matrix).slice(0, MAX_TENSORS_IN_FIGURES);
  if (withMatrix.length === 0) return "";
  const panel: ChartPanel = {
    title: `stale-projector energy (rank-${withMatrix[0].matrix!.staleEnergy.k} projector refreshed every Δ steps)`,
    xLabel: "log2 Δ",
    yLabel: "fraction of ‖g_{t+Δ}‖² kept",
    yDomain: [0, 1],
    series: withMatrix.map((t) => ({
      name: t.name,
      x: t.matrix!.staleEnergy.delta.map((d) => Math.log2(d)),
      y: t.matrix!.staleEnergy.energy,
      mode: "line",
    })),
  };
  const sketched = withMatrix.filter((t) => t.matrix!.source === "rangeSketch");
  const errors = sketched.length
    ? `<p>Estimated from the range sketches the run logged (s = ${sketched[0].matrix!.error!.s} columns; randomized
range finder). Stated error of each point (jackknife over the sketch's columns plus the projector's perturbation term;
an estimate, not a worst-case bound): ${sketched
        .map(
          (t) =>
            `${escapeXml(t.name)} ${t.matrix!.staleEnergy.energy.map((e, j) => `${fmtNum(e)}±${fmtNum(t.matrix!.error!.staleEnergy[j])}`).join(", ")}`,
        )
        .join("; ")}.</p>`
    : "";
  return `<h2>What a GaLore-style optimizer keeps</h2>${renderSvgChart({ panels: [panel], panelWidth: 920, panelHeight: 300 })}
<p>For each matrix-shaped gradient, the top-k left singular subspace at step t is kept for Δ steps; the curve is the
mean fraction of ‖g_{t+Δ}‖² it still captures.</p>${errors}`;
}

function boundsHtml(result: AnalysisResult): string {
  const b = result.bounds;
  const rows = Object.keys(b.regret).map(
    (id) =>
      `<tr><td>${escapeXml(id)}</td><td>${fmtNum(b.regret[id])}</td><td>${fmtNum(b.regret[id] / b.regretWorstCase)}</td><td>${fmtNum(b.nonconvexPathTerm[id])}</td></tr>`,
  );
  const c = b.regretClass;
  const classLine = c
    ? `<p>Class form over the ${c.predictors.length} analyzed predictors: best in hindsight ${escapeXml(c.best)} (√P*_T = ${fmtNum(Math.sqrt(c.bestPathLength))}), selection term 2E²·ln|M| = ${fmtNum(c.selectionTerm)} (E² = ${fmtNum(c.maxErrorSq)}), bound √(P*_T + 2E²·ln|M|) = ${fmtNum(c.regret)} (D = 1).</p>`
    : "";
  const exact =
    b.exactGradient === undefined
      ? "It is not known whether this trace holds exact (full-batch) gradients."
      : b.exactGradient
        ? "This trace holds exact (full-batch) gradients."
        : "This trace holds minibatch gradients: the nonconvex bound's exact-gradient assumption is violated.";
  return `<table><thead><tr><th>predictor</th><th>regret bound D·√P_T (D = 1, tuned step)</th><th>vs worst case √Σ‖g‖² = ${fmtNum(b.regretWorstCase)}</th><th>nonconvex path term P_T/T</th></tr></thead><tbody>${rows.join("")}</tbody></table>
${classLine}<ul>${(b.statements ?? []).map((s) => `<li>${escapeXml(s)}</li>`).join("")}</ul>
<p>${exact} These are calculators, not claims about this run:</p><ul>${b.assumptions.map((a) => `<li>${escapeXml(a)}</li>`).join("")}</ul>`;
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1180px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1rem 0}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}tr.total{font-weight:bold;border-top:2px solid #444}small{color:#777}
.summary{background:#f4f7fb;padding:1rem;border-left:4px solid #0072B2}svg{max-width:100%;height:auto}code{background:#eee;padding:0 3px}${ADVISE_STYLE}`;

export interface HtmlReportOptions {
  /** GaLore advice for the same trace (`advise()`): adds its section (per-layer heatmaps of E over r × Δ). */
  readonly advice?: AdviseResult;
}

export function renderHtmlReport(result: AnalysisResult, { advice }: HtmlReportOptions = {}): string {
  const t = result.trace;
  const problems = t.problems.length
    ? `<h3>Problems found in the trace</h3><ul>${t.problems.map((p) => `<li class="${p.kind}">${escapeXml(p.message)}</li>`).join("")}</ul>`
    : "";
  const sketch = result.total.sketch
    ? `<p>Sketched mode: ${escapeXml(result.total.sketch.kind)} with k = ${result.total.sketch.k}; every inner product is within ε = ${fmtNum(result.total.sketch.errorBound)} (relative) with probability ${result.total.sketch.confidence}.${
        result.total.sketch.measuredError
          ? ` Measured κ error on the first steps: ${Object.entries(result.total.sketch.measuredError)
              .map(([id, e]) => `${escapeXml(id)} ${fmtNum(e)}`)
              .join(", ")}.`
          : ""
      }${
        result.total.sketch.kappaBound
          ? ` Relative error bounds of κ (whole model, probability ${result.total.sketch.confidence}): ${Object.entries(
              result.total.sketch.kappaBound,
            )
              .map(([id, e]) => `${escapeXml(id)} ±${fmtNum(e)}`)
              .join(", ")}.`
          : ""
      }</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gradtrace report — ${escapeXml(t.path)}</title>
<meta name="generator" content="gradtrace schema ${result.schemaVersion}"><style>${STYLE}</style></head>
<body>
<h1>gradtrace report</h1>
<p><code>${escapeXml(t.path)}</code> (${escapeXml(t.format)}): ${t.steps} steps, ${t.tensors} tensors; predictors ${result.options.predictors.map(escapeXml).join(", ")}.</p>
<p class="summary">${escapeXml(result.summary)}</p>
<p class="mode">${escapeXml(modeDescription(result))}</p>
${sketch}${problems}
<h2>Per tensor</h2>
${tableHtml(result)}
<p>κ = P_T/Σ‖g_t‖² with P_T = Σ‖g_t − m_t‖² (brackets: 95% block-bootstrap interval)${
    result.options.burnIn ? `, sums over steps ${result.options.burnIn}..T (burn-in)` : ", sums over t = 0..T"
  }. κ oracle${ORACLE_RANK}: the best rank-${ORACLE_RANK} predictor of the increments in hindsight (Eckart–Young,
Theorem iii; its rank-0 value is κ(last)). r*(ε): fewest directions holding 1 − ε of the increments' energy.</p>
<h2>Predictability per tensor</h2>
${kappaPerTensorFigure(result)}
<h2>Rank of the increments</h2>
${spectraFigure(result)}
${oracleFigure(result)}
<h2>Over time</h2>
${windowsFigure(result)}
${staleFigure(result)}
${advice ? adviseSectionHtml(advice) : ""}
<h2>Bound calculators</h2>
${boundsHtml(result)}
</body></html>
`;
}
