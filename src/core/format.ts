/** @file The one number formatter of gradtrace: the terminal table, the summary paragraph, the HTML report, the
 * dashboard (web/ imports this file) and the reproductions print a value through it, so κ = 0.0123 reads the same
 * everywhere. Pure: no I/O, no locale. */

/** `digits` significant digits [3], trailing zeros dropped; exponent form outside [1e-3, 1e4); NaN → "n/a",
 * ±Infinity → "inf" / "-inf". */
export function fmtNum(x: number, digits = 3): string {
  if (Number.isNaN(x)) return "n/a";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e4 || a < 1e-3) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** An axis tick label (round values, short): up to 4 significant digits, exponent form (`1.2e5`) outside
 * [1e-3, 1e5). Used by the report's SVG charts and the dashboard's exported SVG. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}
