/** @file The terminal table of `gradtrace analyze`: a header line naming the mode that ran and its bounds, then one
 * row per tensor plus the total — κ per predictor (with the bootstrap half-width), the Eckart–Young oracle's κ
 * beside them, r*(ε), effective and stable rank, and the ‖g‖ trend. */
import type { AnalysisResult, TensorResult } from "../analysis/index.ts";
import { fmtNum } from "../core/index.ts";
import { sparkline } from "./format.ts";
import { modeDescription } from "./mode.ts";

export interface TableOptions {
  /** Predictors shown as columns (default: all analyzed except the zero predictor, whose κ is 1 by definition). */
  readonly predictors?: readonly string[];
  /** Rows shown at most (the largest tensors first are kept); the total row is always shown. */
  readonly maxRows?: number;
  /** Column width limit for tensor names. */
  readonly nameWidth?: number;
  /** Rank k of the oracle column "κ oracle<k>": the best rank-k predictor of the increments in hindsight (default 4,
   * the rank of the default subspace predictor lowrank4w16). */
  readonly oracleRank?: number;
}

/** The oracle's κ at rank k (empty when the run is too short to have it). */
export function oracleCell(r: TensorResult, k: number): string {
  const v = r.oracleKappa?.[k];
  return v === undefined ? "" : fmtNum(v);
}

function kappaCell(r: TensorResult, id: string): string {
  const k = r.kappa[id];
  const ci = r.kappaCI?.[id];
  if (!ci || !Number.isFinite(ci[0])) return fmtNum(k);
  return `${fmtNum(k)}±${fmtNum((ci[1] - ci[0]) / 2, 2)}`;
}

function row(
  r: TensorResult,
  predictors: readonly string[],
  eps: readonly string[],
  oracleRank: number,
): string[] {
  const first = r.gradNorm[0];
  const last = r.gradNorm[r.gradNorm.length - 1];
  return [
    r.name,
    String(r.numel),
    ...predictors.map((id) => kappaCell(r, id)),
    oracleCell(r, oracleRank),
    ...eps.map((e) => String(r.predictableRank[e] ?? "")),
    fmtNum(r.effectiveRank),
    fmtNum(r.stableRank),
    `${sparkline(r.gradNorm, 10)} ×${fmtNum(first > 0 ? last / first : Number.NaN, 2)}`,
  ];
}

function truncate(s: string, w: number): string {
  return s.length <= w ? s : `…${s.slice(s.length - w + 1)}`;
}

export function renderTable(result: AnalysisResult, options: TableOptions = {}): string {
  const { maxRows = 40, nameWidth = 32, oracleRank = 4 } = options;
  const predictors = options.predictors ?? result.options.predictors.filter((p) => p !== "zero");
  const eps = [result.options.eps[0], result.options.eps[result.options.eps.length - 1]]
    .filter((e, i, a) => e !== undefined && a.indexOf(e) === i)
    .map(String);
  const header = [
    "tensor",
    "numel",
    ...predictors.map((p) => `κ ${p}`),
    `κ oracle${oracleRank}`,
    ...eps.map((e) => `r*(${e})`),
    "eff.rank",
    "stab.rank",
    "‖g‖ trend",
  ];
  let shown = result.tensors;
  let hidden = 0;
  if (shown.length > maxRows) {
    shown = [...shown].sort((a, b) => b.numel - a.numel).slice(0, maxRows);
    hidden = result.tensors.length - maxRows;
  }
  const rows = shown.map((t) => row(t, predictors, eps, oracleRank));
  rows.push(row(result.total, predictors, eps, oracleRank));
  for (const r of rows) r[0] = truncate(r[0], nameWidth);
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  const sep = widths.map((w) => "─".repeat(w)).join("  ");
  const out = [
    modeDescription(result),
    line(header),
    sep,
    ...rows.slice(0, -1).map(line),
    sep,
    line(rows[rows.length - 1]),
  ];
  if (hidden > 0) out.push(`(${hidden} smaller tensors not shown; see --json / --html)`);
  return out.join("\n");
}
