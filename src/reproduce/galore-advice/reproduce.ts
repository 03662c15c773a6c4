/** @file `gradtrace reproduce galore-advice`: run (pilot → advice → three arms × seeds) → judge → render, on the
 * shared reproduction types. Writes <outDir>/galore-advice.md, one loss-curve SVG per model and the records as
 * JSON. */
import * as path from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../../io/index.ts";
import type { ReproduceOptions, ReproduceResult } from "../types.ts";
import { galoreAdviceBudget } from "./budget.ts";
import { judgeGaloreAdvice } from "./judge.ts";
import { lossCurvesSvg, renderGaloreAdviceMarkdown } from "./render.ts";
import { runGaloreAdvice } from "./run.ts";

export const GALORE_ADVICE = "galore-advice";

export async function reproduceGaloreAdvice({
  outDir,
  budget = "quick",
  onProgress,
}: ReproduceOptions): Promise<ReproduceResult> {
  const started = performance.now();
  const spec = galoreAdviceBudget(budget);
  const models = await runGaloreAdvice(spec, (p) =>
    onProgress?.({
      experiment: GALORE_ADVICE,
      phase: "train",
      done: p.done,
      total: p.total,
      message: p.message,
    }),
  );
  onProgress?.({ experiment: GALORE_ADVICE, phase: "judge", done: 0, total: 0, message: "verdicts" });
  const verdicts = judgeGaloreAdvice(models);
  const seconds = (performance.now() - started) / 1000;
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
