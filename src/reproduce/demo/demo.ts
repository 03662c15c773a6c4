/** @file The built-in example end to end (`gradtrace demo`): train a small zoo model on real MNIST digits with the
 * TypeScript trainer, log every step's gradients to a trace, analyse it and write the reports. Needs nothing
 * beyond `npm ci`. The CLI only prints; this module does the work so the library can run it too. */
import * as fs from "node:fs";
import * as path from "node:path";
import type { AnalysisResult } from "../../analysis/index.ts";
import { analyzeWithSeries } from "../../analysis/index.ts";
import { writeFileAtomic } from "../../io/index.ts";
import type { OptimizerName } from "../../lab/index.ts";
import { createTraceLogger, createZooModel, parameterCount, train } from "../../lab/index.ts";
import { renderHtmlReport } from "../../report/index.ts";
import { openTrace } from "../../trace/index.ts";

export interface DemoOptions {
  /** Zoo model (default "cnn"). */
  readonly model?: string;
  /** Training steps (default 120). */
  readonly steps?: number;
  readonly optimizer?: OptimizerName;
  readonly seed?: number;
  /** Output folder; a fresh one (`-2`, `-3`, … appended) is used when it exists, so nothing is overwritten. */
  readonly outDir?: string;
  /** Called once before training (the model's size) and after every step. */
  readonly onProgress?: (event: DemoProgress) => void;
}

export type DemoProgress =
  | { readonly phase: "start"; readonly model: string; readonly parameters: number }
  | { readonly phase: "train"; readonly step: number; readonly steps: number; readonly loss: number }
  | { readonly phase: "analyze" };

export interface DemoResult {
  readonly outDir: string;
  readonly tracePath: string;
  readonly reportPath: string;
  readonly analysisPath: string;
  readonly loss: readonly number[];
  readonly seconds: number;
  readonly stepsPerSecond: number;
  readonly analysis: AnalysisResult;
}

export const DEMO_DEFAULTS = {
  model: "cnn",
  steps: 120,
  optimizer: "adam" as OptimizerName,
  seed: 0,
  outDir: "gradtrace-demo",
} as const;

/** `base`, or `base-2`, `base-3`, … : the first name not taken, so a demo never writes into an existing folder. */
export function freshDirectory(base: string): string {
  if (!fs.existsSync(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}

export async function runDemo({
  model: modelName = DEMO_DEFAULTS.model,
  steps = DEMO_DEFAULTS.steps,
  optimizer = DEMO_DEFAULTS.optimizer,
  seed = DEMO_DEFAULTS.seed,
  outDir: requestedDir = DEMO_DEFAULTS.outDir,
  onProgress,
}: DemoOptions = {}): Promise<DemoResult> {
  const outDir = freshDirectory(requestedDir);
  const model = createZooModel(modelName);
  onProgress?.({ phase: "start", model: model.name, parameters: parameterCount(model) });
  const logger = createTraceLogger({
    outDir,
    params: model.params,
    meta: { model: model.name, optimizer, seed },
  });
  let trained: Awaited<ReturnType<typeof train>>;
  try {
    trained = await train({
      model,
      optimizer,
      steps,
      seed,
      onStep: (info) => {
        logger.onStep(info);
        onProgress?.({ phase: "train", step: info.step + 1, steps, loss: info.loss });
      },
    });
  } finally {
    logger.close();
  }
  onProgress?.({ phase: "analyze" });
  const reader = openTrace(logger.tracePath);
  try {
    const { result: analysis } = await analyzeWithSeries(reader, {});
    const analysisPath = path.join(outDir, "analysis.json");
    const reportPath = path.join(outDir, "report.html");
    writeFileAtomic(analysisPath, `${JSON.stringify(analysis, null, 1)}\n`, { what: "demo" });
    writeFileAtomic(reportPath, renderHtmlReport(analysis), { what: "demo" });
    return {
      outDir,
      tracePath: logger.tracePath,
      reportPath,
      analysisPath,
      loss: trained.loss,
      seconds: trained.seconds,
      stepsPerSecond: trained.stepsPerSecond,
      analysis,
    };
  } finally {
    reader.close();
  }
}
