/** @file The analysis engine behind the server: opens a trace and runs `analyze()` (whose result carries everything
 * the page shows, the per-window ranks of the rank heatmap included), or assembles the result of a live run's
 * streaming state (its checkpoint) without a pass over the trace. Behind an interface so tests can inject a
 * deterministic engine, and so the store never knows how traces are read. */
import type {
  AdviseOptions,
  AdviseResult,
  AnalysisResult,
  AnalyzeOptions,
  StreamingCheckpoint,
} from "../analysis/index.ts";
import { advise, analyzeWithSeries, streamingOutput } from "../analysis/index.ts";
import { createPool, siblingModule } from "../parallel/index.ts";
import { openTrace } from "../trace/index.ts";

/** The analysis options the dashboard exposes (`gradtrace serve --predictors … --eps … --window …`). */
export type ServeAnalyzeOptions = Pick<
  AnalyzeOptions,
  | "predictors"
  | "eps"
  | "window"
  | "bootstrap"
  | "sketch"
  | "include"
  | "exclude"
  | "seed"
  | "mode"
  | "exactMaxSteps"
  | "fdRows"
>;

/** The advisor's options the dashboard passes (`/api/runs/:id/advise?target=`). */
export type ServeAdviseOptions = Pick<AdviseOptions, "target" | "include" | "exclude">;

export interface EngineOutput {
  readonly result: AnalysisResult;
  /** Step index (as logged) of each step position of the result (`AnalysisOutput.stepIndices`). */
  readonly stepIndices: number[];
}

export interface AnalysisEngine {
  analyze(absPath: string, options: ServeAnalyzeOptions): Promise<EngineOutput>;
  /** The result of a streaming state fed elsewhere (a live run's checkpoint): assembled as `analyze()`'s streaming
   * mode assembles its own, reading only the trace's metadata and the matrix geometry's sampled steps. Engines
   * without it have the store assemble in its own thread. */
  assemble?(absPath: string, checkpoint: StreamingCheckpoint): Promise<EngineOutput>;
  /** GaLore advice for the trace (advise()); engines without it have the store advise in its own thread. */
  advise?(absPath: string, options: ServeAdviseOptions): Promise<AdviseResult>;
}

export const traceEngine: Required<AnalysisEngine> = {
  async analyze(absPath, options) {
    const reader = openTrace(absPath);
    try {
      // The logged step numbers come from the analysis itself (steps with NaN/Inf gradients are dropped there).
      const { result, stepIndices } = await analyzeWithSeries(reader, { ...options, matrixGeometry: true });
      return { result, stepIndices };
    } finally {
      reader.close();
    }
  },
  async assemble(absPath, checkpoint) {
    const reader = openTrace(absPath);
    try {
      const { result, stepIndices } = streamingOutput(reader, checkpoint);
      return { result, stepIndices };
    } finally {
      reader.close();
    }
  },
  advise(absPath, options) {
    return advise(absPath, options);
  },
};

export interface WorkerEngineOptions {
  /** Milliseconds to wait for the worker to start before falling back to analyzing in the main thread. */
  readonly startTimeoutMs?: number;
  readonly log?: (message: string) => void;
}

export interface ClosableEngine extends Required<AnalysisEngine> {
  /** Where analyses run now: in the worker, or in the main thread after a failed start. */
  mode(): "worker" | "main-thread" | "not-started";
  close(): Promise<void>;
}

/**
 * The trace engine in a worker thread (the project's worker pool, one thread), so the server keeps answering while
 * an analysis runs; analyses are serialised by the store anyway. If the worker cannot start, the engine falls back
 * to analyzing in the main thread (same results, less responsive) and says so through `log`. A worker that dies
 * (e.g. out of memory) fails its analysis and is replaced for the next one.
 */
export function workerEngine({
  startTimeoutMs = 20_000,
  log = () => {},
}: WorkerEngineOptions = {}): ClosableEngine {
  const pool = createPool<typeof import("./analysisWorker.ts")>({
    module: siblingModule(import.meta.url, "analysisWorker"),
  });
  let mode: "worker" | "main-thread" | "not-started" = "not-started";
  let started: Promise<boolean> | null = null;

  const start = (): Promise<boolean> => {
    started ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("the analysis worker did not start in time")),
          startTimeoutMs,
        );
        timer.unref();
      });
      try {
        await Promise.race([pool.ready(), timeout]);
        if (mode === "not-started") mode = "worker";
        return mode === "worker";
      } catch (err) {
        if (mode !== "main-thread") log(`serve: analyzing in the main thread (${(err as Error).message})`);
        mode = "main-thread";
        void pool.close();
        return false;
      } finally {
        clearTimeout(timer);
      }
    })();
    return started;
  };

  return {
    async analyze(absPath, options) {
      if (!(await start())) return traceEngine.analyze(absPath, options);
      return pool.run("analyzeTrace", [absPath, options]);
    },
    async assemble(absPath, checkpoint) {
      if (!(await start())) return traceEngine.assemble(absPath, checkpoint);
      return pool.run("assembleTrace", [absPath, checkpoint]);
    },
    async advise(absPath, options) {
      if (!(await start())) return traceEngine.advise(absPath, options);
      return pool.run("adviseTrace", [absPath, options]);
    },
    mode: () => mode,
    async close() {
      mode = "main-thread";
      await pool.close();
    },
  };
}
