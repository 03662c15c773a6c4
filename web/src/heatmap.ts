/** @file The layer × time heatmap: one canvas, drawn through ImageData, never one DOM node per cell, so 2,000
 * tensors × 1,000 windows stay fluid. Pan (drag, arrows) and zoom (wheel, +/−) only change the viewport and redraw
 * (coalesced to one draw per animation frame). When a screen pixel covers several cells it shows their mean: rows
 * are averaged through a pyramid built once per data set (level k averages 2^k rows, NaN cells excluded), so the
 * cost of a frame is about (pixel rows) × (visible columns + pixel columns), independent of the tensor count.
 *
 * For tests and accessibility the canvas carries its numbers in data-* attributes (rows, cols, metric, min, max,
 * view, version) and, for small matrices, a hidden table holds every cell; the hover tooltip names the tensor, the
 * window and the exact value under the cursor. */
import { fmtNum } from "../../src/core/format.ts";
import { type ColorScale, cssColor, lut, NAN_RGB, pack } from "./colormap.ts";
import { type ColumnSteps, columnLabel, stepRange } from "./steps.ts";

export interface HeatmapInput {
  readonly rows: number;
  readonly cols: number;
  /** rows × cols, row-major; NaN = missing. */
  readonly values: Float32Array;
  readonly rowLabels: readonly string[];
  /** Logged step numbers of each column (first and last step) and how many step positions a column spans. */
  readonly columns: ColumnSteps;
  readonly metric: string;
  readonly valueLabel: string;
  readonly scale: ColorScale;
  /** Finite minimum / maximum of the values (from the server's header; null when none is finite). */
  readonly min: number | null;
  readonly max: number | null;
  readonly version: number;
}

export interface Viewport {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

interface Level {
  readonly rows: number;
  /** Level 0: the values themselves (NaN = missing); above: sums of 2^k rows of non-NaN values. */
  readonly sums: Float32Array;
  /** Non-NaN cells summed into each entry; null at level 0. */
  readonly counts: Uint16Array | null;
}

/** How values map to LUT indices, unpacked for the inner loop (see lutIndex). */
interface Mapping {
  readonly mode: 0 | 1 | 2;
  readonly lo: number;
  readonly k: number;
  readonly center: number;
  readonly below: number;
  readonly above: number;
}

function mappingOf(scale: ColorScale): Mapping {
  if (scale.log) {
    return {
      mode: 2,
      lo: Math.log(scale.lo),
      k: 255 / (Math.log(scale.hi) - Math.log(scale.lo)),
      center: 0,
      below: 0,
      above: 0,
    };
  }
  if (scale.center !== undefined && scale.center > scale.lo && scale.center < scale.hi) {
    return {
      mode: 1,
      lo: scale.lo,
      k: 0,
      center: scale.center,
      below: 127.5 / (scale.center - scale.lo),
      above: 127.5 / (scale.hi - scale.center),
    };
  }
  return { mode: 0, lo: scale.lo, k: 255 / (scale.hi - scale.lo), center: 0, below: 0, above: 0 };
}

/** LUT index 0..255 of a finite value: the same mapping as colormap.toUnit, inlined for the per-pixel loop. */
function lutIndex(
  v: number,
  mode: number,
  lo: number,
  k: number,
  center: number,
  below: number,
  above: number,
): number {
  let t: number;
  if (mode === 0) t = (v - lo) * k;
  else if (mode === 1) t = v <= center ? (v - lo) * below : 127.5 + (v - center) * above;
  else t = v > 0 ? (Math.log(v) - lo) * k : 0;
  return t <= 0 ? 0 : t >= 255 ? 255 : (t + 0.5) | 0;
}

/** Largest matrix mirrored into the hidden table (tests, screen readers); larger ones rely on the tooltip. */
const TABLE_CELLS = 4096;
const MIN_LABEL_PX = 11;

export class Heatmap {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly gutter: HTMLCanvasElement;
  private readonly body: HTMLElement;
  private readonly axis: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly tooltip: HTMLElement;
  private data: HeatmapInput | null = null;
  private levels: Level[] = [];
  private lut = lut("sequential");
  private mapping: Mapping = mappingOf({ kind: "sequential", log: false, lo: 0, hi: 1 });
  private colBuf = new Uint32Array(0);
  private image: ImageData | null = null;
  private view: Viewport = { r0: 0, r1: 1, c0: 0, c1: 1 };
  private pending = 0;
  private frames = 0;
  private drag: { x: number; y: number; view: Viewport; moved: boolean } | null = null;
  private rowBuf = new Float64Array(0);
  private cntBuf = new Float64Array(0);
  private readonly resizeObserver: ResizeObserver;
  private cssSize: { w: number; h: number } | null = null;
  private gutterWidth = 180;
  private labelCache = new Map<string, string>();
  private lastAxisText = "";
  onSelectRow: ((row: number) => void) | null = null;

  constructor(container: HTMLElement, tooltip: HTMLElement) {
    this.tooltip = tooltip;
    this.element = document.createElement("div");
    this.element.className = "heatmap";
    const body = document.createElement("div");
    body.className = "heatmap-body";
    this.body = body;
    this.gutter = document.createElement("canvas");
    this.gutter.className = "heatmap-gutter";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "heatmap-canvas";
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute("role", "img");
    body.append(this.gutter, this.canvas);
    this.axis = document.createElement("div");
    this.axis.className = "heatmap-axis";
    this.legend = document.createElement("div");
    this.legend.className = "heatmap-legend";
    this.table = document.createElement("table");
    this.table.className = "heatmap-table";
    this.table.hidden = true;
    this.element.append(body, this.axis, this.legend, this.table);
    container.append(this.element);
    this.bindEvents();
    // Sizes come from the observer, never from layout reads inside a frame (a forced layout of a page holding a
    // 2,000-row table costs more than the whole draw).
    this.resizeObserver = new ResizeObserver((entries) => {
      for (const e of entries) {
        const box = e.contentRect;
        if (e.target === this.canvas) this.cssSize = { w: box.width, h: box.height };
        else if (e.target === this.gutter) this.gutterWidth = box.width;
      }
      this.schedule();
    });
    this.resizeObserver.observe(this.canvas);
    this.resizeObserver.observe(this.gutter);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.pending);
    this.element.remove();
    this.tooltip.hidden = true;
  }

  /** New data; the viewport is kept when the shape allows (live updates), else reset to everything. */
  setData(data: HeatmapInput): void {
    const old = this.data;
    const wasFull =
      !old ||
      (this.view.r0 <= 0 && this.view.c0 <= 0 && this.view.r1 >= old.rows && this.view.c1 >= old.cols);
    this.data = data;
    this.levels = [{ rows: data.rows, sums: data.values, counts: null }];
    this.mapping = mappingOf(data.scale);
    this.lut = lut(data.scale.kind);
    this.rowBuf = new Float64Array(data.cols);
    this.cntBuf = new Float64Array(data.cols);
    this.colBuf = new Uint32Array(data.cols);
    if (wasFull || !old || old.rows !== data.rows) this.view = { r0: 0, r1: data.rows, c0: 0, c1: data.cols };
    const d = this.canvas.dataset;
    d.rows = String(data.rows);
    d.cols = String(data.cols);
    d.metric = data.metric;
    d.version = String(data.version);
    d.min = String(data.min ?? Number.NaN);
    d.max = String(data.max ?? Number.NaN);
    d.bucketed = String(data.columns.bucketed === true);
    const unit = data.columns.span === 1 ? "steps" : "windows";
    this.canvas.setAttribute(
      "aria-label",
      `${data.valueLabel} of ${data.rows} tensors over ${data.cols} ${data.columns.bucketed ? `buckets of ${unit}` : unit}`,
    );
    // A few tensors get a short heatmap, many the full height (rows are then sub-pixel and averaged).
    const height = `${Math.min(480, Math.max(160, data.rows * 28))}px`;
    if (this.body.style.height !== height) {
      this.body.style.height = height;
      this.cssSize = null; // re-measured once by the next draw
    }
    this.renderLegend();
    this.renderTable();
    this.drawNow();
  }

  getView(): Viewport {
    return { ...this.view };
  }

  setView(v: Viewport): void {
    if (!this.data) return;
    this.view = clampView(v, this.data.rows, this.data.cols);
    this.schedule();
  }

  resetView(): void {
    if (this.data) this.setView({ r0: 0, r1: this.data.rows, c0: 0, c1: this.data.cols });
  }

  /** Multiplies the visible span by `factor` around the data point (row, col). */
  zoom(factor: number, row: number, col: number, { rows = true, cols = true } = {}): void {
    const v = this.view;
    const next = { ...v };
    if (rows) {
      next.r0 = row - (row - v.r0) * factor;
      next.r1 = row + (v.r1 - row) * factor;
    }
    if (cols) {
      next.c0 = col - (col - v.c0) * factor;
      next.c1 = col + (v.c1 - col) * factor;
    }
    this.setView(next);
  }

  pan(dRows: number, dCols: number): void {
    const v = this.view;
    this.setView({ r0: v.r0 + dRows, r1: v.r1 + dRows, c0: v.c0 + dCols, c1: v.c1 + dCols });
  }

  /** Cell under a canvas-relative CSS pixel position. */
  cellAt(x: number, y: number): { row: number; col: number } | null {
    if (!this.data) return null;
    const rect = this.canvas.getBoundingClientRect();
    if (x < 0 || y < 0 || x >= rect.width || y >= rect.height) return null;
    const v = this.view;
    const row = Math.floor(v.r0 + (y / rect.height) * (v.r1 - v.r0));
    const col = Math.floor(v.c0 + (x / rect.width) * (v.c1 - v.c0));
    if (row < 0 || col < 0 || row >= this.data.rows || col >= this.data.cols) return null;
    return { row, col };
  }

  value(row: number, col: number): number {
    return this.data ? this.data.values[row * this.data.cols + col] : Number.NaN;
  }

  /** PNG of the current view (what the user sees, without labels). */
  toPngBlob(): Promise<Blob | null> {
    return new Promise((resolve) => this.canvas.toBlob(resolve, "image/png"));
  }

  /**
   * SVG of the current view: the pixels as an embedded PNG (a vector cell per value would be millions of
   * elements), with the title, the visible tensor and step ranges, and the colour scale as vector text.
   */
  toSvg(title: string): string {
    const data = this.data;
    const w = this.canvas.width;
    const h = this.canvas.height;
    const png = this.canvas.toDataURL("image/png");
    const v = this.view;
    const esc = (t: string) =>
      t.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
    const s = data?.scale;
    const stops = s
      ? Array.from(
          { length: 11 },
          (_, i) => `<stop offset="${i * 10}%" stop-color="${cssColor(s.kind, i / 10)}"/>`,
        ).join("")
      : "";
    const W = w + 40;
    const H = h + 110;
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
      `<rect width="${W}" height="${H}" fill="white"/>`,
      `<text x="20" y="22" font-size="14">${esc(title)}</text>`,
      `<image x="20" y="34" width="${w}" height="${h}" href="${png}" style="image-rendering:pixelated"/>`,
      `<text x="20" y="${h + 54}">${esc(this.lastAxisText.split(" · drag")[0])}</text>`,
      s
        ? `<defs><linearGradient id="scale">${stops}</linearGradient></defs><text x="20" y="${h + 84}">${esc(data!.valueLabel)} ${fmtNum(s.lo)}</text><rect x="170" y="${h + 74}" width="200" height="12" fill="url(#scale)"/><text x="378" y="${h + 84}">${fmtNum(s.hi)}${s.log ? " (log)" : ""}</text>`
        : "",
      `<desc>rows ${v.r0}–${v.r1}, columns ${v.c0}–${v.c1}</desc>`,
      "</svg>",
    ].join("");
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.drawNow();
    });
  }

  /** Draws the current view synchronously; returns the time spent, in ms. */
  drawNow(): number {
    const t0 = performance.now();
    const data = this.data;
    const dpr = window.devicePixelRatio || 1;
    if (!this.cssSize) {
      // Before the first observer callback (the first draw right after setData): one layout read, once.
      const r = this.canvas.getBoundingClientRect();
      this.cssSize = { w: r.width, h: r.height };
      this.gutterWidth = this.gutter.getBoundingClientRect().width || 180;
    }
    const cssW = Math.max(50, this.cssSize.w);
    const cssH = Math.max(80, this.cssSize.h);
    const w = Math.round(cssW * dpr);
    const h = Math.round(cssH * dpr);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.image = null;
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx || !data || data.rows === 0 || data.cols === 0) return 0;
    if (!this.image) this.image = ctx.createImageData(w, h);
    this.render(this.image, w, h, data);
    ctx.putImageData(this.image, 0, 0);
    this.drawGutter(data, cssH, dpr);
    const v = this.view;
    const ms = performance.now() - t0;
    this.frames++;
    const d = this.canvas.dataset;
    d.view = [v.r0, v.r1, v.c0, v.c1].map((x) => +x.toFixed(3)).join(",");
    d.drawMs = ms.toFixed(2);
    d.frames = String(this.frames);
    if (this.frames === 1) performance.mark("gradtrace:heatmap-first-draw");
    const [firstStep, lastStep] = stepRange(data.columns, v.c0, v.c1);
    const c = data.columns;
    const grain = c.span === 1 ? "per step" : `windows of ${c.span} steps`;
    // A bucketed column averages several steps or windows (a long run): say how many.
    const perColumn =
      c.bucketed && c.range ? `, ${((c.range[1] - c.range[0]) / data.cols).toFixed(1)} per column` : "";
    const axisText = `tensors ${Math.floor(v.r0) + 1}–${Math.ceil(v.r1)} of ${data.rows} · steps ${firstStep}–${lastStep} (${grain}${perColumn}) · drag to pan, wheel to zoom (shift: time only, alt: tensors only), double-click to reset`;
    if (axisText !== this.lastAxisText) {
      this.axis.textContent = axisText;
      this.lastAxisText = axisText;
    }
    return ms;
  }

  private render(image: ImageData, w: number, h: number, data: HeatmapInput): void {
    const out = new Uint32Array(image.data.buffer);
    const { r0, r1, c0, c1 } = this.view;
    const nanColor = pack(NAN_RGB);
    const rowsPerPx = (r1 - r0) / h;
    const level = this.level(Math.max(0, Math.floor(Math.log2(Math.max(1, rowsPerPx)))));
    const L = this.levels[level];
    const scale = 2 ** level;
    const colsPerPx = (c1 - c0) / w;
    const cs = new Int32Array(w);
    const ce = new Int32Array(w);
    for (let x = 0; x < w; x++) {
      const a = Math.min(data.cols - 1, Math.max(0, Math.floor(c0 + x * colsPerPx)));
      cs[x] = a;
      ce[x] = Math.min(data.cols, Math.max(a + 1, Math.floor(c0 + (x + 1) * colsPerPx)));
    }
    const cmin = cs[0];
    const cmax = ce[w - 1];
    const cols = data.cols;
    const sumRow = this.rowBuf;
    const cntRow = this.cntBuf;
    const colour = this.colBuf;
    const table = this.lut;
    const { mode, lo, k, center, below, above } = this.mapping;
    const oneColumnPerPixel = colsPerPx <= 1;
    let prevA = -1;
    let prevB = -1;
    for (let y = 0; y < h; y++) {
      const a = Math.min(L.rows - 1, Math.max(0, Math.floor((r0 + y * rowsPerPx) / scale)));
      const b = Math.min(L.rows, Math.max(a + 1, Math.floor((r0 + (y + 1) * rowsPerPx) / scale)));
      const rowOut = y * w;
      if (a === prevA && b === prevB) {
        out.copyWithin(rowOut, rowOut - w, rowOut);
        continue;
      }
      prevA = a;
      prevB = b;
      sumRow.fill(0, cmin, cmax);
      cntRow.fill(0, cmin, cmax);
      if (L.counts === null) {
        // Level 0 is the data itself: NaN cells are skipped here rather than copied out once per data set.
        const src = L.sums;
        for (let r = a; r < b; r++) {
          const base = r * cols;
          for (let c = cmin; c < cmax; c++) {
            const v = src[base + c];
            if (!Number.isNaN(v)) {
              sumRow[c] += v;
              cntRow[c] += 1;
            }
          }
        }
      } else {
        const src = L.sums;
        const cnt = L.counts;
        for (let r = a; r < b; r++) {
          const base = r * cols;
          for (let c = cmin; c < cmax; c++) {
            sumRow[c] += src[base + c];
            cntRow[c] += cnt[base + c];
          }
        }
      }
      if (oneColumnPerPixel) {
        for (let c = cmin; c < cmax; c++) {
          const n = cntRow[c];
          colour[c] = n > 0 ? table[lutIndex(sumRow[c] / n, mode, lo, k, center, below, above)] : nanColor;
        }
        for (let x = 0; x < w; x++) out[rowOut + x] = colour[cs[x]];
      } else {
        for (let x = 0; x < w; x++) {
          let sum = 0;
          let n = 0;
          for (let c = cs[x], e = ce[x]; c < e; c++) {
            sum += sumRow[c];
            n += cntRow[c];
          }
          out[rowOut + x] = n > 0 ? table[lutIndex(sum / n, mode, lo, k, center, below, above)] : nanColor;
        }
      }
    }
  }

  /** Builds pyramid levels up to `wanted` on first need (a first draw zoomed out needs only a couple). */
  private level(wanted: number): number {
    while (this.levels.length - 1 < wanted && this.levels[this.levels.length - 1].rows > 1) {
      this.levels.push(halve(this.levels[this.levels.length - 1], this.data!.cols));
    }
    return Math.min(wanted, this.levels.length - 1);
  }

  private drawGutter(data: HeatmapInput, cssH: number, dpr: number): void {
    const g = this.gutter;
    const cssW = this.gutterWidth || 180;
    const gw = Math.round(cssW * dpr);
    const gh = Math.round(cssH * dpr);
    // Resizing a canvas reallocates it: only when the size really changed.
    if (g.width !== gw || g.height !== gh) {
      g.width = gw;
      g.height = gh;
      this.labelCache.clear();
    }
    const ctx = g.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const { r0, r1 } = this.view;
    const rowPx = cssH / (r1 - r0);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.textAlign = "right";
    ctx.fillStyle = "#333";
    // Every row's name when rows are tall enough to read, else every k-th row's.
    const every = rowPx >= MIN_LABEL_PX ? 1 : Math.ceil(MIN_LABEL_PX / rowPx);
    const first = Math.max(0, Math.floor(r0 / every) * every);
    for (let r = first; r < Math.min(data.rows, Math.ceil(r1)); r += every) {
      const y = (r + 0.5 - r0) * rowPx;
      if (y < 0 || y > cssH) continue;
      const name = data.rowLabels[r] ?? "";
      let label = this.labelCache.get(name);
      if (label === undefined) {
        label = shorten(name, cssW - 8, ctx);
        this.labelCache.set(name, label);
      }
      ctx.fillText(label, cssW - 4, y);
    }
  }

  private renderLegend(): void {
    const data = this.data!;
    const s = data.scale;
    const stops = Array.from({ length: 11 }, (_, i) => `${cssColor(s.kind, i / 10)} ${i * 10}%`).join(",");
    this.legend.innerHTML = "";
    const lo = document.createElement("span");
    lo.textContent = fmtNum(s.lo);
    const bar = document.createElement("span");
    bar.className = "legend-bar";
    bar.style.background = `linear-gradient(to right, ${stops})`;
    const hi = document.createElement("span");
    hi.textContent = `${fmtNum(s.hi)}${s.log ? " (log)" : ""}`;
    const label = document.createElement("span");
    label.textContent = s.center !== undefined ? `${data.valueLabel}, white = ${s.center}` : data.valueLabel;
    const nan = document.createElement("span");
    nan.className = "legend-nan";
    nan.textContent = "n/a";
    this.legend.append(label, lo, bar, hi, nan);
  }

  private renderTable(): void {
    const data = this.data!;
    this.table.innerHTML = "";
    this.table.dataset.complete = String(data.rows * data.cols <= TABLE_CELLS);
    if (data.rows * data.cols > TABLE_CELLS) return;
    const head = this.table.createTHead().insertRow();
    head.insertCell().textContent = "tensor";
    data.columns.first.forEach((s) => {
      head.insertCell().textContent = String(s);
    });
    const body = this.table.createTBody();
    for (let r = 0; r < data.rows; r++) {
      const tr = body.insertRow();
      tr.dataset.row = String(r);
      tr.dataset.tensor = data.rowLabels[r];
      const th = document.createElement("th");
      th.textContent = data.rowLabels[r];
      tr.append(th);
      for (let c = 0; c < data.cols; c++) {
        const td = tr.insertCell();
        const v = data.values[r * data.cols + c];
        td.dataset.col = String(c);
        td.dataset.value = Number.isNaN(v) ? "" : String(v);
        td.textContent = Number.isNaN(v) ? "" : String(v);
      }
    }
  }

  private bindEvents(): void {
    const c = this.canvas;
    c.addEventListener(
      "wheel",
      (ev) => {
        if (!this.data) return;
        ev.preventDefault();
        const rect = c.getBoundingClientRect();
        const v = this.view;
        const row = v.r0 + ((ev.clientY - rect.top) / rect.height) * (v.r1 - v.r0);
        const col = v.c0 + ((ev.clientX - rect.left) / rect.width) * (v.c1 - v.c0);
        const factor = Math.exp(Math.max(-1, Math.min(1, ev.deltaY * 0.002)));
        this.zoom(factor, row, col, { rows: !ev.shiftKey, cols: !ev.altKey });
      },
      { passive: false },
    );
    c.addEventListener("pointerdown", (ev) => {
      try {
        c.setPointerCapture(ev.pointerId);
      } catch {
        // synthetic events (tests, benchmarks) carry no capturable pointer; dragging works without capture
      }
      this.drag = { x: ev.clientX, y: ev.clientY, view: { ...this.view }, moved: false };
    });
    c.addEventListener("pointermove", (ev) => {
      if (this.drag && this.data) {
        const rect = c.getBoundingClientRect();
        const dx = ev.clientX - this.drag.x;
        const dy = ev.clientY - this.drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
        const v = this.drag.view;
        const dr = (-dy / rect.height) * (v.r1 - v.r0);
        const dc = (-dx / rect.width) * (v.c1 - v.c0);
        this.setView({ r0: v.r0 + dr, r1: v.r1 + dr, c0: v.c0 + dc, c1: v.c1 + dc });
      }
      this.showTooltip(ev);
    });
    c.addEventListener("pointerup", (ev) => {
      const d = this.drag;
      this.drag = null;
      if (d && !d.moved) {
        const rect = c.getBoundingClientRect();
        const cell = this.cellAt(ev.clientX - rect.left, ev.clientY - rect.top);
        if (cell) this.onSelectRow?.(cell.row);
      }
    });
    c.addEventListener("pointerleave", () => {
      this.tooltip.hidden = true;
    });
    c.addEventListener("dblclick", () => this.resetView());
    c.addEventListener("keydown", (ev) => {
      if (!this.data) return;
      const v = this.view;
      const midR = (v.r0 + v.r1) / 2;
      const midC = (v.c0 + v.c1) / 2;
      const stepR = (v.r1 - v.r0) / 10;
      const stepC = (v.c1 - v.c0) / 10;
      const actions: Record<string, () => void> = {
        ArrowUp: () => this.pan(-stepR, 0),
        ArrowDown: () => this.pan(stepR, 0),
        ArrowLeft: () => this.pan(0, -stepC),
        ArrowRight: () => this.pan(0, stepC),
        "+": () => this.zoom(0.8, midR, midC),
        "=": () => this.zoom(0.8, midR, midC),
        "-": () => this.zoom(1.25, midR, midC),
        "0": () => this.resetView(),
      };
      const act = actions[ev.key];
      if (act) {
        ev.preventDefault();
        act();
      }
    });
  }

  private showTooltip(ev: PointerEvent): void {
    const data = this.data;
    if (!data) return;
    const rect = this.canvas.getBoundingClientRect();
    const cell = this.cellAt(ev.clientX - rect.left, ev.clientY - rect.top);
    const tip = this.tooltip;
    if (!cell) {
      tip.hidden = true;
      return;
    }
    const v = this.value(cell.row, cell.col);
    const when = columnLabel(data.columns, cell.col);
    tip.textContent = "";
    const name = document.createElement("strong");
    name.textContent = data.rowLabels[cell.row];
    const line = document.createElement("div");
    line.textContent = when;
    const val = document.createElement("div");
    val.textContent = `${data.valueLabel} = ${Number.isNaN(v) ? "n/a" : formatValue(v)}`;
    tip.append(name, line, val);
    tip.dataset.row = String(cell.row);
    tip.dataset.col = String(cell.col);
    tip.dataset.tensor = data.rowLabels[cell.row];
    tip.dataset.value = Number.isNaN(v) ? "" : String(v);
    tip.hidden = false;
    tip.style.left = `${ev.clientX + 14}px`;
    tip.style.top = `${ev.clientY + 14}px`;
  }
}

/** The tooltip's value: the one formatter with more digits (the tooltip is where one cell is read closely). */
function formatValue(v: number): string {
  return fmtNum(v, 5);
}

function shorten(text: string, maxPx: number, ctx: CanvasRenderingContext2D): string {
  if (ctx.measureText(text).width <= maxPx) return text;
  // Keep the end of the name (the distinctive part: "…layers.11.mlp.weight"); binary search on the cut.
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ctx.measureText(`…${text.slice(mid)}`).width <= maxPx) hi = mid;
    else lo = mid + 1;
  }
  return `…${text.slice(lo)}`;
}

function clampView(v: Viewport, rows: number, cols: number): Viewport {
  const clampAxis = (a: number, b: number, n: number, minSpan: number): [number, number] => {
    let span = Math.min(n, Math.max(minSpan, b - a));
    let lo = a + (b - a - span) / 2;
    if (lo < 0) lo = 0;
    if (lo + span > n) lo = n - span;
    span = Math.min(span, n);
    return [Math.max(0, lo), Math.max(0, lo) + span];
  };
  const [r0, r1] = clampAxis(v.r0, v.r1, rows, Math.min(rows, 1));
  const [c0, c1] = clampAxis(v.c0, v.c1, cols, Math.min(cols, 1));
  return { r0, r1, c0, c1 };
}

/** One pyramid level up: each row sums two rows of `prev` (NaN cells excluded, their count kept). */
function halve(prev: Level, cols: number): Level {
  const n = Math.ceil(prev.rows / 2);
  const sums = new Float32Array(n * cols);
  const counts = new Uint16Array(n * cols);
  const src = prev.sums;
  const cnt = prev.counts;
  for (let r = 0; r < n; r++) {
    const o = r * cols;
    for (let half = 0; half < 2 && 2 * r + half < prev.rows; half++) {
      const base = (2 * r + half) * cols;
      if (cnt === null) {
        for (let c = 0; c < cols; c++) {
          const v = src[base + c];
          if (!Number.isNaN(v)) {
            sums[o + c] += v;
            counts[o + c] += 1;
          }
        }
      } else {
        for (let c = 0; c < cols; c++) {
          sums[o + c] += src[base + c];
          counts[o + c] += cnt[base + c];
        }
      }
    }
  }
  return { rows: n, sums, counts };
}
