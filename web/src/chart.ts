/** @file One chart of the page: a uPlot time-series plot (fast canvas charts made for this), its numbers in a
 * hidden table (what tests read, and what CSV export writes), and SVG / PNG / CSV export buttons. Zooming the x axis
 * (drag) is reported to the page, which re-requests that range at a higher resolution (decimated long series); a
 * double-click shows everything again. */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { chartToSvg, download, PALETTE, type SvgChart, tableToCsv } from "./export.ts";

export interface ChartSpec {
  /** Stable id used in data-chart and file names. */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: readonly number[];
  readonly series: readonly { label: string; y: readonly (number | null)[] }[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Draw points only (spectra) instead of lines. */
  readonly points?: boolean;
  /** Category names for x = 0, 1, … (categorical sweeps). */
  readonly xLabels?: readonly string[];
  /** Called when the user zooms the x axis (drag across the plot: the x range selected) or asks for everything
   * again (double-click: null). The chart zooms at once on the points it has; the caller may answer with `refine`
   * (the same range at a higher resolution). */
  readonly onZoom?: (range: [number, number] | null) => void;
}

export class Chart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private spec: ChartSpec;
  private readonly plotHost: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly resizeObserver: ResizeObserver;

  constructor(container: HTMLElement, spec: ChartSpec) {
    this.spec = spec;
    this.element = document.createElement("figure");
    this.element.className = "chart";
    const caption = document.createElement("figcaption");
    const title = document.createElement("span");
    title.textContent = spec.title;
    const tools = document.createElement("span");
    tools.className = "tools";
    for (const [label, fn] of [
      ["SVG", () => this.exportSvg()],
      ["PNG", () => this.exportPng()],
      ["CSV", () => this.exportCsv()],
    ] as const) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.export = label.toLowerCase();
      b.addEventListener("click", fn);
      tools.append(b);
    }
    caption.append(title, tools);
    this.plotHost = document.createElement("div");
    this.plotHost.className = "plot";
    this.table = document.createElement("table");
    this.table.className = "chart-data";
    this.table.hidden = true;
    this.element.append(caption, this.plotHost, this.table);
    container.append(this.element);
    this.update(spec);
    this.resizeObserver = new ResizeObserver(() => {
      const w = this.width();
      if (this.plot && Math.abs(this.plot.width - w) > 2) this.plot.setSize({ width: w, height: 220 });
    });
    this.resizeObserver.observe(this.element);
  }

  private width(): number {
    return Math.max(240, (this.element.clientWidth || 480) - 8);
  }

  /** New data for the x range the user zoomed to (see `onZoom`): the plot keeps showing that range. */
  refine(spec: ChartSpec, range: [number, number]): void {
    this.update(spec, range);
  }

  /** New data; the x axis shows all of it, or `zoom` (a range the user chose). */
  update(spec: ChartSpec, zoom: [number, number] | null = null): void {
    this.spec = spec;
    this.element.dataset.zoom = zoom ? zoom.join(",") : "";
    this.element.dataset.chart = spec.id;
    this.element.dataset.points = String(spec.x.length);
    this.element.dataset.series = spec.series.map((s) => s.label).join("|");
    this.renderTable();
    const data: uPlot.AlignedData = [
      Float64Array.from(spec.x),
      ...spec.series.map((s) =>
        s.y.map((v) => (v === null || !Number.isFinite(v) || (spec.logY && v <= 0) ? null : v)),
      ),
    ];
    this.plot?.destroy();
    const opts: uPlot.Options = {
      width: this.width(),
      height: 220,
      scales: {
        x: { time: false, ...(spec.logX ? { distr: 3 } : {}) },
        y: spec.logY ? { distr: 3 } : {},
      },
      axes: [
        spec.xLabels
          ? {
              label: spec.xLabel,
              splits: () => spec.x.map(Number),
              values: (_u: uPlot, splits: number[]) => splits.map((v) => spec.xLabels?.[v] ?? String(v)),
            }
          : { label: spec.xLabel },
        { label: spec.yLabel, size: 60 },
      ],
      legend: { show: true },
      cursor: {
        // A drag that selects an x range zooms there (uPlot's default); a double-click shows everything again.
        bind: {
          dblclick: (_u, _target, handler) => (e) => {
            handler(e);
            if (this.element.dataset.zoom) {
              this.element.dataset.zoom = "";
              this.spec.onZoom?.(null);
            }
            return null;
          },
        },
      },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width <= 0 || !this.spec.onZoom) return;
            const a = u.posToVal(u.select.left, "x");
            const b = u.posToVal(u.select.left + u.select.width, "x");
            this.element.dataset.zoom = [a, b].join(",");
            this.spec.onZoom([a, b]);
          },
        ],
        draw: [
          (u) => {
            // What the x axis shows (tests read it: the axis is drawn on the canvas).
            this.element.dataset.xScale = [u.scales.x.min, u.scales.x.max].join(",");
          },
        ],
      },
      series: [
        { label: spec.xLabel },
        ...spec.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          ...(spec.points
            ? { paths: () => null, points: { show: true, size: 6 } }
            : { points: { show: spec.x.length < 40 } }),
        })),
      ],
    };
    // uPlot needs an ascending x; a single point would give a zero-width scale, which uPlot pads itself.
    this.plot = new uPlot(opts, data, this.plotHost);
    if (zoom) this.plot.setScale("x", { min: zoom[0], max: zoom[1] });
  }

  private renderTable(): void {
    const { x, series, xLabel } = this.spec;
    this.table.innerHTML = "";
    const head = this.table.createTHead().insertRow();
    head.insertCell().textContent = xLabel;
    for (const s of series) head.insertCell().textContent = s.label;
    const body = this.table.createTBody();
    x.forEach((xv, i) => {
      const tr = body.insertRow();
      const th = tr.insertCell();
      th.dataset.value = String(xv);
      th.textContent = String(xv);
      for (const s of series) {
        const v = s.y[i];
        const td = tr.insertCell();
        td.dataset.value = v === null || v === undefined ? "" : String(v);
        td.textContent = td.dataset.value;
      }
    });
  }

  svgSpec(): SvgChart {
    const s = this.spec;
    return {
      title: s.title,
      xLabel: s.xLabel,
      yLabel: s.yLabel,
      x: s.x,
      logX: s.logX,
      logY: s.logY,
      series: s.series.map((v, i) => ({ label: v.label, y: v.y, color: PALETTE[i % PALETTE.length] })),
    };
  }

  exportSvg(): void {
    download(`${this.spec.id}.svg`, new Blob([chartToSvg(this.svgSpec())], { type: "image/svg+xml" }));
  }

  exportPng(): void {
    this.plot?.ctx.canvas.toBlob((b) => b && download(`${this.spec.id}.png`, b), "image/png");
  }

  exportCsv(): void {
    download(`${this.spec.id}.csv`, new Blob([tableToCsv(this.table)], { type: "text/csv" }));
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.element.remove();
  }
}
