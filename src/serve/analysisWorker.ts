/** @file The task module of the server's analysis worker (see workerEngine in engine.ts), run through the
 * project's worker pool: the exact pass is CPU-bound and synchronous, and running it in a worker thread keeps the
 * server answering requests and streaming events while a big run is being analyzed. */
import { type EngineOutput, type ServeAnalyzeOptions, traceEngine } from "./engine.ts";

/** Opens the trace at `absPath`, analyzes it with the dashboard's options and closes it. */
export function analyzeTrace(absPath: string, options: ServeAnalyzeOptions): Promise<EngineOutput> {
  return traceEngine.analyze(absPath, options);
}
