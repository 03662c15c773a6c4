/** @file Which heatmap rows to show, in which order: a filter on tensor names (case-insensitive text, or a
 * `/regex/flags`) and an ordering by the rows' values (mean or maximum over the columns, NaN cells ignored; rows
 * without any value last), so the least predictable layers of a 2,000-tensor model can be brought to the top. */

export type RowOrder = "trace" | "mean-desc" | "mean-asc" | "max-desc";

export const ROW_ORDERS: readonly RowOrder[] = ["trace", "mean-desc", "mean-asc", "max-desc"];

export interface RowSelection {
  /** Source row of each shown row. */
  readonly indices: number[];
  readonly names: string[];
  /** The shown rows' values, row-major (a copy; the source is left untouched). */
  readonly values: Float32Array;
}

/** A name matcher: `/…/flags` is a regular expression (an invalid one matches as plain text), else a substring. */
export function nameMatcher(filter: string): (name: string) => boolean {
  const f = filter.trim();
  if (f === "") return () => true;
  const re = /^\/(.+)\/([a-z]*)$/.exec(f);
  if (re) {
    try {
      const rx = new RegExp(re[1], re[2]);
      return (name) => rx.test(name);
    } catch {
      // not a valid expression: fall through to a substring match
    }
  }
  const needle = f.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

function rowStat(values: Float32Array, row: number, cols: number, stat: "mean" | "max"): number {
  let s = 0;
  let n = 0;
  let m = Number.NEGATIVE_INFINITY;
  for (let c = 0, i = row * cols; c < cols; c++, i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
    if (v > m) m = v;
  }
  if (n === 0) return Number.NaN;
  return stat === "mean" ? s / n : m;
}

export function selectRows(
  names: readonly string[],
  values: Float32Array,
  cols: number,
  { filter = "", order = "trace" }: { filter?: string; order?: RowOrder } = {},
): RowSelection {
  const match = nameMatcher(filter);
  let indices = names.map((_, i) => i).filter((i) => match(names[i]));
  if (order !== "trace") {
    const stat = order === "max-desc" ? "max" : "mean";
    const key = new Float64Array(names.length);
    for (const i of indices) key[i] = rowStat(values, i, cols, stat);
    const sign = order === "mean-asc" ? 1 : -1;
    // Stable: ties keep trace order; rows without values go last whatever the direction.
    indices = [...indices].sort((a, b) => {
      const x = key[a];
      const y = key[b];
      if (Number.isNaN(x) || Number.isNaN(y))
        return Number.isNaN(x) === Number.isNaN(y) ? a - b : Number.isNaN(x) ? 1 : -1;
      return x === y ? a - b : sign * (x - y);
    });
  }
  const out = new Float32Array(indices.length * cols);
  indices.forEach((src, k) => {
    out.set(values.subarray(src * cols, (src + 1) * cols), k * cols);
  });
  return { indices, names: indices.map((i) => names[i]), values: out };
}
