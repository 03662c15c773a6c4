/** @file One analysis in a fresh process, so its peak RSS is its own: prints JSON {seconds, maxRssBytes, bytes,
 * gradNormSq, pathLengthLast} (the last two: the whole model's Σ‖g_t‖² and Σ‖g_t − g_{t−1}‖², for comparing with
 * another implementation). Arguments: trace, mode ("exact" or a sketch spec), Gram kernel (js | wasm | jax). */
import { analyze } from "../../src/analysis/analyze.ts";
import { openTrace } from "../../src/trace/index.ts";

const [file, mode, kernel] = process.argv.slice(2);
const reader = openTrace(file);
const started = performance.now();
let bytes = 0;
const result = await analyze(reader, {
  predictors: ["zero", "last", "ema0.9", "linear"],
  bootstrap: false,
  matrixGeometry: false,
  sketch: mode === "exact" ? undefined : mode,
  sketchCheckSteps: 0,
  gramKernel: kernel === "jax" || kernel === "wasm" ? kernel : "js",
  memoryBytes: 64 * 2 ** 20,
  onProgress: (p) => {
    bytes = p.bytes;
  },
});
const seconds = (performance.now() - started) / 1000;
reader.close();
process.stdout.write(
  JSON.stringify({
    seconds,
    bytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    gradNormSq: result.total.gradNormSq,
    pathLengthLast: result.total.pathLength.last,
  }),
);
