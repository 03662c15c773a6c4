/** @file Per-step series as CSV (one file per tensor plus total): step, ‖g_t‖², and ‖g_t − m_t‖² per predictor. */
import type { TensorSeries } from "../analysis/index.ts";

/** RFC 4180 quoting for a cell. */
export function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function seriesCsv(steps: readonly number[], series: TensorSeries): string {
  const ids = Object.keys(series.error);
  const lines = [["step", "gradNormSq", ...ids.map((id) => `error_${id}`)].map(csvCell).join(",")];
  for (let t = 0; t < series.gradNormSq.length; t++) {
    lines.push(
      [
        String(steps[t] ?? t),
        String(series.gradNormSq[t]),
        ...ids.map((id) => String(series.error[id][t])),
      ].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** A file name for a tensor's CSV: unsafe characters replaced, stable and unique per name. */
export function csvFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, "_")}.csv`;
}
