/** @file Public API of the report layer: the only module other layers import. */
export { ADVISE_STYLE, adviseSectionHtml, renderAdviseHtml, renderAdviseTable } from "./advise.ts";
export { csvFileName, seriesCsv } from "./csv.ts";
export { type HtmlReportOptions, renderHtmlReport } from "./html.ts";
export { modeDescription } from "./mode.ts";
export { type ChartPanel, type ChartSeries, renderSvgChart } from "./svgChart.ts";
export { renderTable } from "./table.ts";
