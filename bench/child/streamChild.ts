/** @file One long-run analysis in a fresh process (its peak RSS is its own): analyzes a .gtrace in the requested mode
 * with the default predictors and prints JSON {seconds, cpuSeconds, maxRssBytes, mode, kappa, …}: wall time and
 * this process's CPU time (user + system) of `analyze` alone, opening the trace excluded. Used by
 * bench/streaming.bench.ts. */
import { analyze } from "../../src/analysis/analyze.ts";
import { openTrace } from "../../src/trace/index.ts";

const [file, mode, matrix, window, fdRows] = process.argv.slice(2);
const reader = openTrace(file);
const cpu0 = process.cpuUsage();
const started = performance.now();
const result = await analyze(reader, {
  mode: mode as "auto" | "exact" | "streaming",
  matrixGeometry: matrix === "matrix",
  ...(window ? { window: Number(window) } : {}),
  ...(fdRows ? { fdRows: Number(fdRows) } : {}),
});
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
reader.close();
process.stdout.write(
  JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    mode: result.mode,
    steps: result.trace.steps,
    kappa: result.total.kappa,
    predictableRank: result.total.predictableRank,
  }),
);
