/** @file A small dependency-free SVG chart renderer: a grid of panels, each with linear or log-y axes, "nice" ticks,
 * axis labels, several line/scatter series with optional error bars (mean ± sd), and one legend shared by all panels
 * (a series name has the same colour in every panel). Used for the spiked lab's sweep figures and the analyze HTML
 * report. Output is deterministic and every coordinate is rounded (`digits`), so figures can be snapshot-tested and
 * diffed.
 *
 * Missing-data policy: points whose x or y is not finite (and, on a log axis, y ≤ 0) are skipped; a line is broken
 * at a skipped point rather than drawn across it. An error bar is drawn only where its value is finite and > 0; on
 * a log axis its lower end is clipped to the panel. A panel with no drawable point shows its axes and "no data".
 *
 * Example:
 *   renderSvgChart({
 *     title: "ν sweep",
 *     panels: [{ title: "stable rank", xLabel: "ν", series: [{ name: "relu", x: [0, 0.1], y: [1.2, 1.5] }] }],
 *   });
 */
import { formatTick } from "../core/index.ts";

export interface ChartSeries {
  /** Legend label; also the key of its colour across panels. */
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** Half-height of an error bar at each point (e.g. the standard deviation over seeds). */
  yErr?: readonly number[];
  /** "line" (default: a line with point markers), "scatter" (markers only) or "line-only". */
  mode?: "line" | "scatter" | "line-only";
  /** CSS colour; default from the palette in order of first appearance of the name. */
  color?: string;
  /** Dashed line. */
  dashed?: boolean;
}

export interface ChartPanel {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: readonly ChartSeries[];
  /** Logarithmic y axis (base 10). */
  logY?: boolean;
  /** Fixed y range; default: the data range (with error bars), padded by 5%. */
  yDomain?: readonly [number, number];
  /** Fixed x range; default: the data range. */
  xDomain?: readonly [number, number];
  /** Categorical x axis: x values are indices into this list and the ticks show the names. */
  xCategories?: readonly string[];
  /** Dashed horizontal reference lines (e.g. a theoretical value or a threshold). */
  referenceLines?: readonly { y: number; label?: string }[];
}

export interface ChartOptions {
  panels: readonly ChartPanel[];
  /** Figure title above the legend. */
  title?: string;
  /** Panels per row (default: min(3, number of panels)). */
  columns?: number;
  /** Size of one panel including its margins, in px. */
  panelWidth?: number;
  panelHeight?: number;
  /** Decimal places of every coordinate written. */
  digits?: number;
  /** Draw the shared legend (default true when there is more than one series name). */
  legend?: boolean;
  fontSize?: number;
}

/** Colour-blind-safe palette (Okabe–Ito), then a few extra distinct colours. */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
  "#7F7F7F",
  "#8C564B",
];

const MARGIN = { left: 56, right: 12, top: 26, bottom: 40 };

/** About `count` round tick values covering [lo, hi] (steps 1, 2, 2.5 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo === hi) return [lo];
  if (lo > hi) [lo, hi] = [hi, lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((s) => s * mag >= raw) ?? 10) * mag;
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Powers of ten within [lo, hi] (lo > 0); when the range spans less than one decade, 1-2-5 multiples instead. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > 0)) return [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const out: number[] = [];
  for (let e = a; e <= b; e++) {
    const mults = b - a <= 2 ? [1, 2, 5] : [1];
    for (const mlt of mults) {
      const v = Number((mlt * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

type Scale = (v: number) => number;

function drawable(panel: ChartPanel): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of panel.series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (panel.logY && y <= 0)) continue;
      xs.push(x);
      ys.push(y);
      const e = s.yErr?.[i];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        ys.push(y + e);
        if (!panel.logY || y - e > 0) ys.push(y - e);
      }
    }
  }
  return { xs, ys };
}

export function renderSvgChart({
  panels,
  title,
  columns,
  panelWidth = 320,
  panelHeight = 230,
  digits = 2,
  legend,
  fontSize = 11,
}: ChartOptions): string {
  const r = (v: number): string => String(Number(v.toFixed(digits)));
  const cols = Math.max(1, Math.min(columns ?? Math.min(3, panels.length), Math.max(1, panels.length)));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  // Colours by series name, in order of first appearance, so a name keeps its colour in every panel.
  const colours = new Map<string, string>();
  for (const p of panels) {
    for (const s of p.series) {
      if (!colours.has(s.name)) colours.set(s.name, s.color ?? PALETTE[colours.size % PALETTE.length]);
    }
  }
  const showLegend = legend ?? colours.size > 1;
  const titleH = title ? fontSize * 2 : 0;
  const legendItemW = 150;
  const legendPerRow = Math.max(1, Math.floor((cols * panelWidth) / legendItemW));
  const legendH = showLegend ? Math.ceil(colours.size / legendPerRow) * (fontSize + 8) + 6 : 0;
  const width = cols * panelWidth;
  const height = titleH + legendH + rows * panelHeight;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${r(height)}" viewBox="0 0 ${width} ${r(height)}" font-family="sans-serif" font-size="${fontSize}">`,
  );
  out.push(`<rect width="${width}" height="${r(height)}" fill="#fff"/>`);
  if (title) {
    out.push(
      `<text x="${r(width / 2)}" y="${r(fontSize * 1.4)}" text-anchor="middle" font-size="${fontSize + 3}" font-weight="bold">${escapeXml(title)}</text>`,
    );
  }
  if (showLegend) {
    let i = 0;
    for (const [name, colour] of colours) {
      const lx = 10 + (i % legendPerRow) * legendItemW;
      const ly = titleH + 4 + Math.floor(i / legendPerRow) * (fontSize + 8) + fontSize / 2;
      out.push(
        `<line x1="${r(lx)}" y1="${r(ly)}" x2="${r(lx + 18)}" y2="${r(ly)}" stroke="${colour}" stroke-width="2"/><circle cx="${r(lx + 9)}" cy="${r(ly)}" r="2.5" fill="${colour}"/><text x="${r(lx + 24)}" y="${r(ly + fontSize / 3)}">${escapeXml(name)}</text>`,
      );
      i++;
    }
  }
  panels.forEach((panel, index) => {
    const ox = (index % cols) * panelWidth;
    const oy = titleH + legendH + Math.floor(index / cols) * panelHeight;
    out.push(renderPanel(panel, ox, oy, panelWidth, panelHeight, colours, r, fontSize));
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function renderPanel(
  panel: ChartPanel,
  ox: number,
  oy: number,
  w: number,
  h: number,
  colours: Map<string, string>,
  r: (v: number) => string,
  fontSize: number,
): string {
  const out: string[] = [];
  const x0 = ox + MARGIN.left;
  const x1 = ox + w - MARGIN.right;
  const y0 = oy + h - MARGIN.bottom;
  const y1 = oy + MARGIN.top;
  out.push(`<g>`);
  out.push(
    `<text x="${r((x0 + x1) / 2)}" y="${r(oy + fontSize + 4)}" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`,
  );
  const { xs, ys } = drawable(panel);
  for (const ref of panel.referenceLines ?? [])
    if (Number.isFinite(ref.y) && (!panel.logY || ref.y > 0)) ys.push(ref.y);
  let [xlo, xhi] = panel.xDomain ?? [Math.min(...xs), Math.max(...xs)];
  if (panel.xCategories && !panel.xDomain) [xlo, xhi] = [-0.5, panel.xCategories.length - 0.5];
  let [ylo, yhi] = panel.yDomain ?? [Math.min(...ys), Math.max(...ys)];
  const empty = xs.length === 0;
  if (empty) {
    [xlo, xhi, ylo, yhi] = [0, 1, panel.logY ? 1 : 0, panel.logY ? 10 : 1];
  }
  if (xlo === xhi) [xlo, xhi] = [xlo - 0.5, xhi + 0.5];
  if (!panel.yDomain) {
    if (panel.logY) {
      if (ylo === yhi) [ylo, yhi] = [ylo / 2, yhi * 2];
      const pad = (Math.log10(yhi) - Math.log10(ylo)) * 0.05;
      [ylo, yhi] = [ylo / 10 ** pad, yhi * 10 ** pad];
    } else {
      if (ylo === yhi) [ylo, yhi] = [ylo - (Math.abs(ylo) || 1) * 0.5, yhi + (Math.abs(yhi) || 1) * 0.5];
      const pad = (yhi - ylo) * 0.05;
      [ylo, yhi] = [ylo - pad, yhi + pad];
    }
  }
  const sx: Scale = (v) => x0 + ((v - xlo) / (xhi - xlo)) * (x1 - x0);
  const sy: Scale = panel.logY
    ? (v) => y0 - ((Math.log10(v) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) * (y0 - y1)
    : (v) => y0 - ((v - ylo) / (yhi - ylo)) * (y0 - y1);
  // Axes and grid.
  out.push(
    `<rect x="${r(x0)}" y="${r(y1)}" width="${r(x1 - x0)}" height="${r(y0 - y1)}" fill="none" stroke="#999"/>`,
  );
  const yTicks = panel.logY ? logTicks(ylo, yhi) : niceTicks(ylo, yhi, 5);
  for (const t of yTicks) {
    const y = sy(t);
    out.push(
      `<line x1="${r(x0)}" y1="${r(y)}" x2="${r(x1)}" y2="${r(y)}" stroke="#eee"/><text x="${r(x0 - 4)}" y="${r(y + fontSize / 3)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`,
    );
  }
  const xTicks: { v: number; label: string }[] = panel.xCategories
    ? panel.xCategories.map((label, i) => ({ v: i, label }))
    : niceTicks(xlo, xhi, 5).map((v) => ({ v, label: formatTick(v) }));
  for (const t of xTicks) {
    const x = sx(t.v);
    out.push(
      `<line x1="${r(x)}" y1="${r(y0)}" x2="${r(x)}" y2="${r(y0 + 4)}" stroke="#999"/><text x="${r(x)}" y="${r(y0 + fontSize + 4)}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  if (panel.xLabel) {
    out.push(
      `<text x="${r((x0 + x1) / 2)}" y="${r(y0 + 2 * fontSize + 8)}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    );
  }
  if (panel.yLabel) {
    const cx = ox + fontSize;
    const cy = (y0 + y1) / 2;
    out.push(
      `<text x="${r(cx)}" y="${r(cy)}" text-anchor="middle" transform="rotate(-90 ${r(cx)} ${r(cy)})">${escapeXml(panel.yLabel)}</text>`,
    );
  }
  if (empty) {
    out.push(
      `<text x="${r((x0 + x1) / 2)}" y="${r((y0 + y1) / 2)}" text-anchor="middle" fill="#999">no data</text>`,
    );
  }
  for (const ref of panel.referenceLines ?? []) {
    if (!Number.isFinite(ref.y) || (panel.logY && ref.y <= 0)) continue;
    const y = sy(ref.y);
    out.push(
      `<line x1="${r(x0)}" y1="${r(y)}" x2="${r(x1)}" y2="${r(y)}" stroke="#666" stroke-dasharray="2 3"/>${ref.label ? `<text x="${r(x1 - 3)}" y="${r(y - 3)}" text-anchor="end" fill="#666">${escapeXml(ref.label)}</text>` : ""}`,
    );
  }
  // Series, clipped to the plot area by construction of the domain (error bars are clamped).
  for (const s of panel.series) {
    const colour = colours.get(s.name) ?? PALETTE[0];
    const mode = s.mode ?? "line";
    const ok = (i: number) =>
      Number.isFinite(s.x[i]) && Number.isFinite(s.y[i]) && !(panel.logY && s.y[i] <= 0) && i < s.y.length;
    if (mode !== "scatter") {
      let d = "";
      let pen = false;
      for (let i = 0; i < s.x.length; i++) {
        if (!ok(i)) {
          pen = false;
          continue;
        }
        d += `${pen ? "L" : "M"}${r(sx(s.x[i]))} ${r(sy(s.y[i]))}`;
        pen = true;
      }
      if (d) {
        out.push(
          `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`,
        );
      }
    }
    for (let i = 0; i < s.x.length; i++) {
      if (!ok(i)) continue;
      const cx = sx(s.x[i]);
      const e = s.yErr?.[i];
      if (e !== undefined && Number.isFinite(e) && e > 0) {
        const top = Math.max(y1, sy(s.y[i] + e));
        const bottom = panel.logY && s.y[i] - e <= 0 ? y0 : Math.min(y0, sy(s.y[i] - e));
        out.push(
          `<path d="M${r(cx)} ${r(top)}L${r(cx)} ${r(bottom)}M${r(cx - 3)} ${r(top)}L${r(cx + 3)} ${r(top)}M${r(cx - 3)} ${r(bottom)}L${r(cx + 3)} ${r(bottom)}" stroke="${colour}" stroke-width="1"/>`,
        );
      }
      if (mode !== "line-only")
        out.push(`<circle cx="${r(cx)}" cy="${r(sy(s.y[i]))}" r="2.5" fill="${colour}"/>`);
    }
  }
  out.push(`</g>`);
  return out.join("\n");
}
