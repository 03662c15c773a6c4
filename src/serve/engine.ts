/** @file The analysis engine behind the server: opens a trace, runs `analyze()`, and computes the per-window ranks
 * of the rank heatmap. Behind an interface so tests can inject a deterministic engine, and so the store never
 * knows how traces are read. */
import { analyze } from "../analysis/index.ts";
import { accumulateGrams } from "../analysis/gramPass.ts";
import type { AnalysisResult } from "../analysis/types.ts";
import { openTrace } from "../trace/index.ts";
import type { WindowedRanks } from "./cache.ts";
import { windowedRanksFromGram } from "./windowedRank.ts";

/** The analysis options the dashboard exposes (`gradtrace serve --predictors … --eps … --window …`). */
export interface ServeAnalyzeOptions {
  readonly predictors?: readonly string[];
  readonly eps?: readonly number[];
  readonly window?: number;
  readonly bootstrap?: boolean;
  readonly sketch?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly seed?: number;
}

export interface EngineOutput {
  readonly result: AnalysisResult;
  /** Step index (as logged) of each step position of the result. */
  readonly stepIndices: number[];
}

export interface AnalysisEngine {
  analyze(absPath: string, options: ServeAnalyzeOptions): Promise<EngineOutput>;
  /** r*(ε) per tensor per κ window of `result` (see windowedRank.ts). */
  windowedRanks(absPath: string, result: AnalysisResult): Promise<WindowedRanks>;
}

/** Lets the event loop answer requests between tensors of a long computation. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export const traceEngine: AnalysisEngine = {
  async analyze(absPath, options) {
    const reader = openTrace(absPath);
    try {
      const result = await analyze(reader, { ...options, matrixGeometry: true });
      const steps = reader.info.steps;
      // analyze() drops steps with NaN/Inf gradients; step numbers are then only known by position.
      const stepIndices =
        result.trace.steps === steps.length ? [...steps] : result.total.gradNorm.map((_, i) => i);
      return { result, stepIndices };
    } finally {
      reader.close();
    }
  },

  async windowedRanks(absPath, result) {
    const reader = openTrace(absPath);
    try {
      const out: WindowedRanks = {};
      for (const t of result.tensors) {
        if (!t.windows) continue;
        const k = (await accumulateGrams(reader, { tensors: [t.name] })).grams.get(t.name)!;
        // The Gram must describe the same steps as the result (the trace may have grown since).
        if (k.rows < t.steps) continue;
        const kk = k.rows === t.steps ? k : sliceGram(k, t.steps);
        out[t.name] = windowedRanksFromGram(kk, {
          starts: t.windows.starts,
          size: t.windows.size,
          eps: result.options.eps,
        });
        await yieldToLoop();
      }
      return out;
    } finally {
      reader.close();
    }
  },
};

function sliceGram(k: { rows: number; cols: number; data: Float64Array }, n: number) {
  const data = new Float64Array(n * n);
  for (let i = 0; i < n; i++) data.set(k.data.subarray(i * k.cols, i * k.cols + n), i * n);
  return { rows: n, cols: n, data };
}
