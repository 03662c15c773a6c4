/** @file One number formatter: a κ prints identically in the terminal table, the summary paragraph under it, the
 * HTML report and the dashboard's cell formatter (web/src/table.ts, used by the overview and the run page), for
 * values across the formatter's regimes (exponent below 1e-3, fixed digits above). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/analysis/index.ts";
import { summarize } from "../../src/analysis/summary.ts";
import type { AnalysisResult } from "../../src/analysis/types.ts";
import { fmtNum } from "../../src/core/format.ts";
import { renderHtmlReport } from "../../src/report/html.ts";
import { renderTable } from "../../src/report/table.ts";
import { openTrace } from "../../src/trace/index.ts";
import { fmt as dashboardCell } from "../../web/src/table.ts";
import { SMALL_MODEL, writeTrace } from "../serve/traces.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-format-"));
let base: AnalysisResult;
beforeAll(async () => {
  const file = path.join(dir, "f.gtrace");
  writeTrace(file, { tensors: SMALL_MODEL, seed: 5 }, 12);
  const reader = openTrace(file);
  try {
    base = await analyze(reader, { predictors: ["zero", "last", "ema0.9"], bootstrap: false });
  } finally {
    reader.close();
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The analysis with the whole-model κ of `last` set to `k` (the best predictor), the others worse. */
function withKappa(k: number): AnalysisResult {
  const total = { ...base.total, kappa: { zero: 1, last: k, "ema0.9": 2 }, kappaCI: undefined };
  return { ...base, total, summary: summarize(total, base.tensors, base.options.eps) };
}

describe("fmtNum everywhere", () => {
  it("κ = 0.0123 prints as 0.0123 in the table, the paragraph, the HTML report and the dashboard", () => {
    const r = withKappa(0.0123);
    expect(fmtNum(0.0123)).toBe("0.0123");
    expect(r.summary).toContain("κ = 0.0123 (κ = 1: predicting zero)");
    const totalLine = renderTable(r)
      .split("\n")
      .find((l) => l.startsWith("total"))!;
    expect(totalLine.split(/\s+/)).toContain("0.0123");
    expect(renderHtmlReport(r)).toMatch(/<tr class="total" data-tensor="total">.*<td>0\.0123<\/td>/);
    expect(dashboardCell(0.0123)).toBe("0.0123");
  });

  it.each([0.87654, 1.23456, 0.00012345, 0.1, 0.001, 0.3333333])("κ = %s prints identically", (k) => {
    const r = withKappa(k);
    const s = fmtNum(k);
    expect(r.summary).toContain(`is last, κ = ${s} (`);
    const totalLine = renderTable(r)
      .split("\n")
      .find((l) => l.startsWith("total"))!;
    expect(totalLine.split(/\s+/)).toContain(s);
    const html = /<tr class="total" data-tensor="total">(.*?)<\/tr>/.exec(renderHtmlReport(r))![1];
    expect(html).toContain(`<td>${s}</td>`);
    expect(dashboardCell(k)).toBe(s);
  });

  it("the dashboard shows missing values as – and counts as they are", () => {
    expect(dashboardCell(null)).toBe("–");
    expect(dashboardCell(Number.NaN)).toBe("–");
    expect(dashboardCell(12345)).toBe("12345");
    expect(dashboardCell(0.000123456, 5)).toBe(fmtNum(0.000123456, 5));
  });
});
