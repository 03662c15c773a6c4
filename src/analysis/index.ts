/** @file Public API of the analysis layer. */
export {
  analyze,
  analyzeWithSeries,
  DEFAULT_EPS,
  type AnalyzeOptions,
  type AnalysisOutput,
} from "./analyze.ts";
export { selectTensors, compilePattern } from "./select.ts";
export type * from "./types.ts";
