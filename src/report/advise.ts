/** @file How `advise()`'s result is shown: the terminal table of `gradtrace advise` (one row per tensor: the advised
 * rank and interval, the energy kept with its interval, the progress share, memory and SVD cost; then the memory
 * totals, the uniform setting of equal memory, the caveat and the galore-torch snippet), and the HTML section — one
 * small heatmap of E over r × Δ per tensor, cells at or above the target marked, the advice outlined — used by
 * the standalone `advise --html` page and, when given the advice, by the analyze report. */
import type { AdviseResult, TensorAdvice } from "../analysis/index.ts";
import { cssColor, fmtNum } from "../core/index.ts";
import { escapeXml } from "./svgChart.ts";

const MB_PER_FLOAT32 = 4 / 2 ** 20;

const INTERVAL_TEXT: Record<AdviseResult["intervalMethod"], string> = {
  seeds: "Student-t over seeds",
  "block-bootstrap": "block bootstrap over steps",
  "sketch-error": "E ± the range sketches' stated error",
};

function memoryText(numbers: number): string {
  return `${fmtNum(numbers)} (${fmtNum(numbers * MB_PER_FLOAT32)} MiB f32)`;
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a";
}

function adviceCells(t: TensorAdvice): string[] {
  const a = t.advice;
  return [
    t.name,
    `${t.rows}×${t.cols}`,
    t.side,
    a.projected ? String(a.rank) : "full",
    a.interval === null ? "–" : String(a.interval),
    a.projected
      ? `${fmtNum(a.energy)} [${fmtNum(a.energyInterval[0])}, ${fmtNum(a.energyInterval[1])}]`
      : "–",
    a.progressShare === undefined ? "–" : fmtNum(a.progressShare),
    `${fmtNum(a.memory / t.fullMemory, 2)}×`,
    t.svdFlopsPerStep === null ? "–" : fmtNum(t.svdFlopsPerStep),
  ];
}

/** The terminal report of `gradtrace advise`. */
export function renderAdviseTable(result: AdviseResult, { nameWidth = 32 } = {}): string {
  const header = ["tensor", "matrix", "side", "rank", "Δ", "E [95%]", "progress", "memory", "SVD flop/step"];
  const rows = result.tensors.map(adviceCells);
  for (const r of rows) if (r[0].length > nameWidth) r[0] = `…${r[0].slice(r[0].length - nameWidth + 1)}`;
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  const m = result.memory;
  const u = m.uniform;
  const out = [
    `GaLore advice: the cheapest rank r and refresh interval Δ per matrix tensor keeping E(r, Δ) ≥ ${result.target} of ` +
      `the gradient energy, Δ ≥ ${result.minInterval} (${result.steps} steps of ${result.traces.length} trace${result.traces.length > 1 ? "s" : ""}; ` +
      `intervals: ${INTERVAL_TEXT[result.intervalMethod]}).`,
    line(header),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...rows.map(line),
    "",
    `optimizer state (numbers): full Adam ${memoryText(m.fullAdam)}; advice ${memoryText(m.advice)} = ${pct(m.advice / m.fullAdam)} of full Adam.`,
  ];
  if (u) {
    out.push(
      `uniform setting of equal memory: r = ${u.rank}, Δ = ${u.interval} (${memoryText(u.memory)}): mean E ${fmtNum(u.meanEnergy)}, ` +
        `${u.tensorsMeetingTarget} of ${result.tensors.length} tensors reach ${result.target}.`,
    );
  }
  for (const s of result.skipped) out.push(`skipped ${s.name}: ${s.reason}`);
  out.push(
    "",
    "memory: the advice's optimizer state over full Adam's for that tensor; progress: share of ⟨g, u⟩ kept (u = logged momentum).",
    `Caveat: ${result.caveat}`,
    "",
    "galore-torch configuration:",
    result.snippet,
  );
  return out.join("\n");
}

const CELL = 26;

/** CSS of the advice section (the analyze report appends it to its own). */
export const ADVISE_STYLE =
  ".advise-grid{display:flex;flex-wrap:wrap;gap:12px}.advise figure{margin:0}" +
  ".caveat{background:#fff6e5;padding:.8rem;border-left:4px solid #E69F00}pre{background:#f4f4f4;padding:.8rem;overflow:auto}";

/** One tensor's E(r, Δ) grid as an SVG heatmap (viridis over [0, 1], the dashboard's sequential scale). */
function energyHeatmapSvg(t: TensorAdvice, target: number): string {
  const left = 44;
  const top = 22;
  const w = left + t.intervals.length * CELL + 8;
  const h = top + t.ranks.length * CELL + 30;
  const cells: string[] = [];
  t.ranks.forEach((r, i) => {
    t.intervals.forEach((d, j) => {
      const e = t.energy[i][j];
      const x = left + j * CELL;
      const y = top + i * CELL;
      const chosen = t.advice.projected && t.advice.rank === r && t.advice.interval === d;
      cells.push(
        `<rect x="${x}" y="${y}" width="${CELL}" height="${CELL}" fill="${Number.isFinite(e) ? cssColor("sequential", e) : "#ccc"}"${
          chosen ? ' stroke="#d62728" stroke-width="3"' : ""
        }><title>r = ${r}, Δ = ${d}: E = ${fmtNum(e)} [${fmtNum(t.energyInterval[i][j][0])}, ${fmtNum(t.energyInterval[i][j][1])}]</title></rect>`,
      );
      if (e >= target)
        cells.push(
          `<text x="${x + CELL / 2}" y="${y + CELL / 2 + 4}" text-anchor="middle" font-size="11" fill="#000">✓</text>`,
        );
    });
  });
  const rowLabels = t.ranks.map(
    (r, i) =>
      `<text x="${left - 4}" y="${top + i * CELL + CELL / 2 + 4}" text-anchor="end" font-size="10">${r}</text>`,
  );
  const colLabels = t.intervals.map(
    (d, j) =>
      `<text x="${left + j * CELL + CELL / 2}" y="${top + t.ranks.length * CELL + 12}" text-anchor="middle" font-size="10">${d}</text>`,
  );
  return `<figure class="advise-tensor" data-tensor="${escapeXml(t.name)}"><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">
<text x="0" y="12" font-size="11">${escapeXml(t.name)}</text>
<text x="${left - 30}" y="${top - 4}" font-size="10">r\\Δ</text>
${cells.join("")}${rowLabels.join("")}${colLabels.join("")}
<text x="${left}" y="${h - 4}" font-size="10">refresh interval Δ (steps)</text></svg></figure>`;
}

/** The advice as an HTML section: table, per-tensor heatmaps, memory comparison, caveat, snippet. */
export function adviseSectionHtml(result: AdviseResult): string {
  const head = [
    "tensor",
    "matrix",
    "side",
    "rank",
    "Δ",
    "E [95%]",
    "progress share",
    "memory vs full Adam",
    "SVD flop/step",
  ];
  const rows = result.tensors
    .map(
      (t) =>
        `<tr>${adviceCells(t)
          .map((c) => `<td>${escapeXml(c)}</td>`)
          .join("")}</tr>`,
    )
    .join("");
  const m = result.memory;
  const u = m.uniform;
  const uniform = u
    ? `<p>Uniform setting of equal memory: r = ${u.rank}, Δ = ${u.interval} (${escapeXml(memoryText(u.memory))}), mean E = ${fmtNum(u.meanEnergy)}; ${u.tensorsMeetingTarget} of ${result.tensors.length} tensors reach the target.</p>`
    : "";
  return `<section class="advise" id="advise">
<h2>GaLore rank and refresh interval</h2>
<p>E(r, Δ): mean fraction of ‖G_t‖²_F kept by the top-r singular subspace (GaLore's side) of the gradient at the last
refresh, refreshing every Δ steps; target ${result.target}. Cells marked ✓ reach it; the advice (outlined) is the
cheapest in optimizer memory, then in SVDs per step.</p>
<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table>
<p>Optimizer state: full Adam ${escapeXml(memoryText(m.fullAdam))}; advice ${escapeXml(memoryText(m.advice))} (${pct(m.advice / m.fullAdam)}).</p>
${uniform}
<div class="advise-grid">${result.tensors.map((t) => energyHeatmapSvg(t, result.target)).join("\n")}</div>
<p class="caveat"><strong>Caveat.</strong> ${escapeXml(result.caveat)}</p>
<h3>galore-torch configuration</h3>
<pre>${escapeXml(result.snippet)}</pre>
</section>`;
}

/** The standalone page `gradtrace advise --html` writes. */
export function renderAdviseHtml(result: AdviseResult): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gradtrace advise — ${escapeXml(result.traces.join(", "))}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1180px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1rem 0}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}${ADVISE_STYLE}</style></head>
<body><h1>gradtrace advise</h1><p><code>${escapeXml(result.traces.join(", "))}</code></p>
${adviseSectionHtml(result)}
</body></html>
`;
}
