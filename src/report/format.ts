/** @file Number formatting shared by the terminal table, CSV and HTML report, so one value reads the same
 * everywhere. */

/** Compact fixed/exponential formatting: 3 significant digits, exponent outside [1e-3, 1e4). */
export function fmtNum(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "n/a";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

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
