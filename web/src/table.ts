/** @file Sortable data tables with CSV export. Every cell keeps its full-precision number in data-value (the text
 * is rounded for reading), so tests and the CSV see exact values. */
import { fmtNum } from "../../src/core/format.ts";
import { download, tableToCsv } from "./export.ts";

export type Cell = number | string | null;

export interface Column<T> {
  readonly key: string;
  readonly label: string;
  readonly title?: string;
  readonly value: (row: T) => Cell;
  /** Text shown (default: `fmt`). */
  readonly text?: (row: T) => string;
  /** Extra data-* attributes of the cell (e.g. CI bounds). */
  readonly data?: (row: T) => Record<string, string>;
}

/** A cell's text: missing values (JSON null, NaN, ±Infinity) "–", counts as they are, other numbers through the
 * project's one formatter (`fmtNum`, as in the CLI table, the summary and the HTML report). */
export function fmt(v: Cell, digits = 3): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "–";
  if (Number.isInteger(v)) return String(v);
  return fmtNum(v, digits);
}

export class DataTable<T> {
  readonly element: HTMLElement;
  readonly table: HTMLTableElement;
  private rows: T[] = [];
  private sortKey: string | null = null;
  private sortDir = 1;
  private readonly columns: readonly Column<T>[];
  private readonly rowKey: (row: T) => string;
  onRowClick: ((row: T) => void) | null = null;
  rowHref: ((row: T) => string) | null = null;

  constructor(
    container: HTMLElement,
    {
      id,
      title,
      columns,
      rowKey,
    }: { id: string; title: string; columns: readonly Column<T>[]; rowKey: (row: T) => string },
  ) {
    this.columns = columns;
    this.rowKey = rowKey;
    this.element = document.createElement("section");
    this.element.className = "data-table";
    this.element.dataset.table = id;
    const head = document.createElement("div");
    head.className = "section-head";
    const h = document.createElement("h3");
    h.textContent = title;
    const csv = document.createElement("button");
    csv.type = "button";
    csv.textContent = "CSV";
    csv.dataset.export = "csv";
    csv.addEventListener("click", () =>
      download(`${id}.csv`, new Blob([tableToCsv(this.table)], { type: "text/csv" })),
    );
    head.append(h, csv);
    const scroller = document.createElement("div");
    scroller.className = "table-scroll";
    this.table = document.createElement("table");
    scroller.append(this.table);
    this.element.append(head, scroller);
    container.append(this.element);
  }

  setRows(rows: readonly T[]): void {
    this.rows = [...rows];
    this.render();
  }

  /** Replaces (or appends) the row with the same key. */
  upsert(row: T): void {
    const key = this.rowKey(row);
    const i = this.rows.findIndex((r) => this.rowKey(r) === key);
    if (i >= 0) this.rows[i] = row;
    else this.rows.push(row);
    this.render();
  }

  private render(): void {
    const t = this.table;
    t.innerHTML = "";
    const head = t.createTHead().insertRow();
    for (const c of this.columns) {
      const th = document.createElement("th");
      th.textContent = c.label + (this.sortKey === c.key ? (this.sortDir > 0 ? " ▲" : " ▼") : "");
      th.dataset.key = c.key;
      if (c.title) th.title = c.title;
      th.addEventListener("click", () => {
        this.sortDir = this.sortKey === c.key ? -this.sortDir : 1;
        this.sortKey = c.key;
        this.render();
      });
      head.append(th);
    }
    let rows = this.rows;
    const col = this.columns.find((c) => c.key === this.sortKey);
    if (col) {
      rows = [...rows].sort((a, b) => {
        const x = col.value(a);
        const y = col.value(b);
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * this.sortDir;
      });
    }
    const body = t.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.key = this.rowKey(row);
      if (this.onRowClick) {
        tr.classList.add("clickable");
        tr.addEventListener("click", () => this.onRowClick?.(row));
      }
      this.columns.forEach((c, i) => {
        const td = tr.insertCell();
        const v = c.value(row);
        td.dataset.key = c.key;
        td.dataset.value = v === null ? "" : String(v);
        for (const [k, x] of Object.entries(c.data?.(row) ?? {})) td.dataset[k] = x;
        const text = c.text ? c.text(row) : fmt(v);
        if (i === 0 && this.rowHref) {
          const a = document.createElement("a");
          a.href = this.rowHref(row);
          a.textContent = text;
          td.append(a);
        } else td.textContent = text;
      });
    }
  }
}
