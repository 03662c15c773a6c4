/** @file The task module of the server's analysis worker (see workerEngine in engine.ts), run through the
 * project's worker pool: the exact pass is CPU-bound and synchronous, and running it in a worker thread keeps the
 * server answering requests and streaming events while a big run is being analyzed; so is assembling a long live
 * run's result from its streaming state, and so is the GaLore advice (an SVD per refresh per matrix tensor). */
import type { AdviseResult, StreamingCheckpoint } from "../analysis/index.ts";
import {
  type EngineOutput,
  type ServeAdviseOptions,
  type ServeAnalyzeOptions,
  traceEngine,
} from "./engine.ts";

/** Opens the trace at `absPath`, analyzes it with the dashboard's options and closes it. */
export function analyzeTrace(absPath: string, options: ServeAnalyzeOptions): Promise<EngineOutput> {
  return traceEngine.analyze(absPath, options);
}

/** The result of a live run's streaming state (its checkpoint), assembled against the trace at `absPath`: the
 * bootstrap intervals and spectra of a long run take seconds, off the server's thread. */
export function assembleTrace(absPath: string, checkpoint: StreamingCheckpoint): Promise<EngineOutput> {
  return traceEngine.assemble(absPath, checkpoint);
}

/** GaLore advice for the trace at `absPath` (advise()). */
export function adviseTrace(absPath: string, options: ServeAdviseOptions): Promise<AdviseResult> {
  return traceEngine.advise(absPath, options);
}
