/** @file The terminal table's sparklines (numbers themselves go through the core's `fmtNum`, the one formatter). */

const SPARKS = "▁▂▃▄▅▆▇█";

/** A unicode sparkline of `values` averaged into `width` buckets (min → ▁, max → █). */
export function sparkline(values: readonly number[], width = 12): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "";
  const buckets: number[] = [];
  const w = Math.min(width, values.length);
  for (let b = 0; b < w; b++) {
    const from = Math.floor((b * values.length) / w);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / w));
    let s = 0;
    let c = 0;
    for (let i = from; i < to; i++) {
      if (Number.isFinite(values[i])) {
        s += values[i];
        c++;
      }
    }
    buckets.push(c > 0 ? s / c : Number.NaN);
  }
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return buckets
    .map((v) => (Number.isFinite(v) ? SPARKS[hi > lo ? Math.round(((v - lo) / (hi - lo)) * 7) : 3] : " "))
    .join("");
}
