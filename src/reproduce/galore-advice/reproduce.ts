/** @file `gradtrace reproduce galore-advice`: run (pilot → advice → three arms × seeds) → judge → render, on the
 * shared reproduction types. Writes <outDir>/galore-advice.md, one loss-curve SVG per model and the records as
 * JSON. */
import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../../core/index.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../io/index.ts";
import type { ReproduceBudget, ReproduceOptions, ReproduceResult } from "../types.ts";
import { type GaloreAdviceBudget, galoreAdviceBudget } from "./plan.ts";
import { judgeGaloreAdvice } from "./judge.ts";
import { lossCurvesSvg, renderGaloreAdviceMarkdown } from "./render.ts";
import { type ModelRecords, runGaloreAdvice } from "./run.ts";

export const GALORE_ADVICE = "galore-advice";

export interface GaloreAdviceOptions extends ReproduceOptions {
  /** Judge and render the records of an earlier run (its galore-advice.json) instead of training. */
  readonly records?: string;
}

interface RecordsFile {
  readonly budget: ReproduceBudget;
  readonly spec: GaloreAdviceBudget;
  readonly seconds: number;
  readonly models: ModelRecords[];
}

function readRecords(file: string): RecordsFile {
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<RecordsFile>;
  if (!parsed.spec || !Array.isArray(parsed.models) || typeof parsed.seconds !== "number" || !parsed.budget) {
    throw new GradtraceError(
      "E_FORMAT",
      `${file}: not a galore-advice records file (expected budget, spec, seconds and models)`,
    );
  }
  return parsed as RecordsFile;
}

export async function reproduceGaloreAdvice({
  outDir,
  budget: requested = "quick",
  records,
  onProgress,
}: GaloreAdviceOptions): Promise<ReproduceResult> {
  const started = performance.now();
  let budget = requested;
  let spec: GaloreAdviceBudget;
  let models: ModelRecords[];
  let seconds: number;
  if (records !== undefined) {
    // Re-render: the earlier run's budget and wall time are kept.
    ({ budget, spec, models, seconds } = readRecords(records));
  } else {
    spec = galoreAdviceBudget(budget);
    models = await runGaloreAdvice(spec, (p) =>
      onProgress?.({
        experiment: GALORE_ADVICE,
        phase: "train",
        done: p.done,
        total: p.total,
        message: p.message,
      }),
    );
    seconds = (performance.now() - started) / 1000;
  }
  onProgress?.({ experiment: GALORE_ADVICE, phase: "judge", done: 0, total: 0, message: "verdicts" });
  const verdicts = judgeGaloreAdvice(models);
  const opts = { force: true, mkdir: true, what: "reproduce galore-advice" };
  const figures = models.map((m) => `${GALORE_ADVICE}-${m.model}.svg`);
  models.forEach((m, i) => {
    writeFileAtomic(path.join(outDir, figures[i]), lossCurvesSvg(m), opts);
  });
  const jsonPath = path.join(outDir, `${GALORE_ADVICE}.json`);
  writeJsonAtomic(jsonPath, { budget, spec, seconds, verdicts, models }, opts);
  const reportPath = path.join(outDir, `${GALORE_ADVICE}.md`);
  writeFileAtomic(
    reportPath,
    renderGaloreAdviceMarkdown(budget, spec, models, verdicts, figures, seconds),
    opts,
  );
  return {
    experiment: GALORE_ADVICE,
    budget,
    seconds,
    verdicts,
    reportPath,
    files: [reportPath, jsonPath, ...figures.map((f) => path.join(outDir, f))],
  };
}
