/** @file Export of what the page shows: any table as CSV, any chart as SVG (drawn from the chart's own numbers, so
 * it is a true vector figure, not a screenshot) or PNG (the canvas). Files are handed to the browser through blob
 * URLs; nothing leaves the machine. */
import { formatTick } from "../../src/core/format.ts";

/** Series colours of every chart on the page and of its exported figures (uPlot lines, SVG bars), so a run keeps
 * its colour from the screen to the file. */
export const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
];

export function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** RFC 4180 CSV: fields with comma, quote or newline are quoted, quotes doubled. */
export function toCsv(rows: readonly (readonly (string | number | null)[])[]): string {
  const field = (v: string | number | null) => {
    const s = v === null || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${rows.map((r) => r.map(field).join(",")).join("\n")}\n`;
}

/** The cells of an HTML table (header and body) as CSV, using data-value where present (full precision). */
export function tableToCsv(table: HTMLTableElement): string {
  const rows = [...table.rows].map((tr) =>
    [...tr.cells].map((td) =>
      td.dataset.value !== undefined ? td.dataset.value : (td.textContent ?? "").trim(),
    ),
  );
  return toCsv(rows);
}

export interface SvgSeries {
  readonly label: string;
  readonly color: string;
  readonly y: readonly (number | null)[];
}

export interface SvgChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: readonly number[];
  readonly series: readonly SvgSeries[];
  readonly logX?: boolean;
  readonly logY?: boolean;
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const span = hi - lo || 1;
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / nice) * nice; t <= hi + nice * 1e-9; t += nice) out.push(+t.toPrecision(12));
  return out;
}

/** A standalone SVG line chart of the series (NaN/null gaps break the line). */
export function chartToSvg({
  title,
  xLabel,
  yLabel,
  x,
  series,
  logX = false,
  logY = false,
}: SvgChart): string {
  const W = 640;
  const H = 360;
  const m = { l: 64, r: 16, t: 32, b: 48 };
  const finite = (v: number | null, log: boolean): v is number =>
    v !== null && Number.isFinite(v) && (!log || v > 0);
  const xs = x.filter((v) => finite(v, logX));
  const ys = series.flatMap((s) => s.y.filter((v): v is number => finite(v, logY)));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!(x0 < x1)) [x0, x1] = [x0 - 1 || 0, x1 + 1 || 1];
  if (!(y0 < y1)) [y0, y1] = logY ? [y0 / 2 || 0.5, y1 * 2 || 2] : [y0 - 1 || 0, y1 + 1 || 1];
  const fx = (v: number) =>
    m.l + (logX ? Math.log(v / x0) / Math.log(x1 / x0) : (v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const fy = (v: number) =>
    H - m.b - (logY ? Math.log(v / y0) / Math.log(y1 / y0) : (v - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="#333"/>`,
  ];
  for (const t of ticks(x0, x1, logX)) {
    parts.push(
      `<text x="${fx(t).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  for (const t of ticks(y0, y1, logY)) {
    const y = fy(t).toFixed(1);
    parts.push(`<line x1="${m.l}" y1="${y}" x2="${W - m.r}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${m.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`,
    );
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    let d = "";
    let pen = false;
    s.y.forEach((v, i) => {
      const xv = x[i];
      if (!finite(v, logY) || !finite(xv, logX)) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${fx(xv).toFixed(2)} ${fy(v).toFixed(2)}`;
      pen = true;
    });
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"><title>${esc(s.label)}</title></path>`,
    );
    parts.push(
      `<text x="${W - m.r - 4}" y="${m.t + 12 + 13 * k}" text-anchor="end" fill="${s.color}">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

/** Rasterises an SVG document to PNG through an <img> and a canvas (same-origin blob: URLs keep it untainted). */
export function svgToPng(svg: string, name: string, scale = 2): void {
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = img.width * scale;
    canvas.height = img.height * scale;
    const ctx = canvas.getContext("2d")!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    canvas.toBlob((b) => b && download(name, b), "image/png");
  };
  img.src = url;
}

export interface BarGroup {
  readonly label: string;
  readonly bars: readonly { label: string; value: number | null; lo?: number | null; hi?: number | null }[];
}

/** Grouped bars with interval whiskers and a reference line (κ = 1 for the zero predictor). */
export function barsToSvg({
  title,
  yLabel,
  groups,
  reference,
}: {
  title: string;
  yLabel: string;
  groups: readonly BarGroup[];
  reference?: number;
}): string {
  const runs = groups[0]?.bars.length ?? 0;
  const W = Math.max(480, 60 + groups.length * (runs * 14 + 24));
  const H = 300;
  const m = { l: 56, r: 12, t: 30, b: 60 };
  const all = groups
    .flatMap((g) => g.bars.flatMap((b) => [b.value, b.hi ?? null]))
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const top = Math.max(reference ?? 0, ...all, 1e-12) * 1.08;
  const fy = (v: number) => H - m.b - (v / top) * (H - m.t - m.b);
  const groupW = (W - m.l - m.r) / Math.max(1, groups.length);
  const barW = Math.max(3, Math.min(14, (groupW - 10) / Math.max(1, runs)));
  const p: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="#333"/>`,
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (const t of ticks(0, top, false)) {
    p.push(
      `<text x="${m.l - 4}" y="${fy(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`,
    );
    p.push(
      `<line x1="${m.l}" y1="${fy(t).toFixed(1)}" x2="${W - m.r}" y2="${fy(t).toFixed(1)}" stroke="#eee"/>`,
    );
  }
  if (reference !== undefined) {
    p.push(
      `<line x1="${m.l}" y1="${fy(reference)}" x2="${W - m.r}" y2="${fy(reference)}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
  }
  groups.forEach((g, gi) => {
    const gx = m.l + gi * groupW + (groupW - barW * runs) / 2;
    g.bars.forEach((b, bi) => {
      if (b.value === null || !Number.isFinite(b.value)) return;
      const x = gx + bi * barW;
      const y = fy(b.value);
      p.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(H - m.b - y).toFixed(1)}" fill="${PALETTE[bi % PALETTE.length]}"><title>${esc(`${b.label} ${g.label}: ${b.value}`)}</title></rect>`,
      );
      if (b.lo != null && b.hi != null && Number.isFinite(b.lo) && Number.isFinite(b.hi)) {
        const cx = (x + (barW - 1) / 2).toFixed(1);
        p.push(
          `<line x1="${cx}" y1="${fy(b.lo).toFixed(1)}" x2="${cx}" y2="${fy(b.hi).toFixed(1)}" stroke="#000"/>`,
        );
      }
    });
    p.push(
      `<text x="${(m.l + gi * groupW + groupW / 2).toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  (groups[0]?.bars ?? []).forEach((b, bi) => {
    const x = m.l + (bi % 4) * ((W - m.l - m.r) / 4);
    const y = H - 28 + Math.floor(bi / 4) * 12;
    p.push(`<rect x="${x}" y="${y - 8}" width="9" height="9" fill="${PALETTE[bi % PALETTE.length]}"/>`);
    p.push(`<text x="${x + 12}" y="${y}">${esc(b.label)}</text>`);
  });
  p.push("</svg>");
  return p.join("");
}
