/** @file Text renderings of spiked-lab results: the terminal table of `gradtrace lab spiked` (one row per analyzed
 * step, or per sweep point) and markdown tables for the reproduction report. */
import { fmtNum } from "../../core/index.ts";
import type { SpikedResult, StepRecord } from "./experiment.ts";
import type { SweepQuantity, SweepResult } from "./sweep.ts";

/** Columns shown for each analyzed step. */
const STEP_COLUMNS: [string, (r: StepRecord) => string][] = [
  ["step", (r) => String(r.step)],
  ["loss", (r) => fmtNum(r.loss)],
  ["σ1", (r) => fmtNum(r.singularValues[0])],
  ["σ2", (r) => fmtNum(r.singularValues[1] ?? Number.NaN)],
  ["σ3", (r) => fmtNum(r.singularValues[2] ?? Number.NaN)],
  ["outliers", (r) => String(r.outliers)],
  ["stableRank", (r) => fmtNum(r.stableRank)],
  ["effRank", (r) => (r.effectiveRank === null ? "-" : fmtNum(r.effectiveRank))],
  ["top2Energy", (r) => fmtNum(r.top2Energy)],
  ["cosRes1", (r) => fmtNum(r.cosResidue[0])],
  ["cosSpike1", (r) => fmtNum(r.cosSpike[0])],
  ["cosSpike2", (r) => fmtNum(r.cosSpike[1] ?? Number.NaN)],
  ["energyInSpan", (r) => fmtNum(r.energyInSpan)],
  ["‖S1‖", (r) => fmtNum(r.s1Norm)],
  ["‖S2‖", (r) => fmtNum(r.s2Norm)],
  ["‖E‖", (r) => fmtNum(r.errNorm)],
  ["test", (r) => (r.testLoss === null ? "-" : fmtNum(r.testLoss))],
];

export function alignColumns(header: string[], rows: string[][]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, j) => c.padStart(widths[j])).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

export function spikedTable(result: SpikedResult): string {
  const c = result.config;
  const head =
    `spiked lab: n ${c.n}, d ${result.d}, m ${c.m}, ν ${c.nu} (ζ ${fmtNum(result.zeta)}), α ${fmtNum(c.alpha)}, ` +
    `${c.activation}, ${c.scaling}, ${c.weights} W, ${c.data}, seed ${c.seed}; products ${result.gemm}; ` +
    `${fmtNum(result.seconds)} s`;
  const table = alignColumns(
    STEP_COLUMNS.map(([h]) => h),
    result.records.map((r) => STEP_COLUMNS.map(([, f]) => f(r))),
  );
  return `${head}\n${table}\n`;
}

/** Mean ± sd cells for chosen quantities, one row per (series, x). */
export function sweepRows(
  result: SweepResult,
  quantities: readonly SweepQuantity[],
): { header: string[]; rows: string[][] } {
  const header = ["series", result.param, ...quantities];
  const rows = result.points.map((p) => [
    p.series,
    String(p.x),
    ...quantities.map((q) =>
      p.seeds.length > 1 ? `${fmtNum(p.mean[q])} ± ${fmtNum(p.sd[q], 2)}` : fmtNum(p.mean[q]),
    ),
  ]);
  return { header, rows };
}

export function sweepTable(result: SweepResult, quantities: readonly SweepQuantity[]): string {
  const { header, rows } = sweepRows(result, quantities);
  return `${alignColumns(header, rows)}\n`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}
