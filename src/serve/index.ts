/** @file Public surface of the dashboard server (`gradtrace serve`). */
export type * from "./api-types.ts";
export { type AppOptions, createApp } from "./app.ts";
export { CACHE_DIR_NAME } from "./cache.ts";
export {
  type AnalysisEngine,
  type ClosableEngine,
  type EngineOutput,
  type ServeAnalyzeOptions,
  traceEngine,
  workerEngine,
} from "./engine.ts";
export {
  DEFAULT_SERVE_OPTIONS,
  MIN_TOKEN_LENGTH,
  type RunningServer,
  type ServeOptions,
  startServer,
} from "./server.ts";
export { RunStore, type RunStoreOptions } from "./store.ts";
export { decodeHeatmapBinary, encodeHeatmapBinary, TOTAL_NAME } from "./views.ts";
