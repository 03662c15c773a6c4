/** @file The test matrix Ω (cols × s, i.i.d. N(0, 1/s)) of the range sketches Y_t = G_t·Ω that the loggers write for
 * matrix-shaped tensors (python/gradtrace_log/rangesketch.py; docs/trace-format.md). Counter-based, so any entry is
 * a function of (seed, tensor name, row j, column c) alone:
 *   base_c = deriveSeed(tensorSketchSeed(seed, name), 4, c)
 *   u1 = (hashIndex(base_c, 2j) + 1) / 2³²,  u2 = hashIndex(base_c, 2j + 1) / 2³²
 *   Ω[j, c] = √(−2 ln u1) · cos(2π u2) / √s                         (Box–Muller)
 * The analysis never needs Ω (it works on Y alone); this is for writers in TypeScript and for tests. */
import { type Mat, mat } from "../matrix.ts";
import { deriveSeed } from "../rng.ts";
import { hashIndex } from "./common.ts";
import { tensorSketchSeed } from "./seeding.ts";

const RANGE_STREAM_TAG = 4;

/** Ω for tensor `name` with `cols` columns of its matrix view, s sketch columns: a cols × s matrix. */
export function rangeSketchOmega(seed: number, name: string, cols: number, s: number): Mat {
  const out = mat(cols, s);
  const tseed = tensorSketchSeed(seed, name);
  const scale = 1 / Math.sqrt(s);
  for (let c = 0; c < s; c++) {
    const base = deriveSeed(tseed, RANGE_STREAM_TAG, c);
    for (let j = 0; j < cols; j++) {
      const u1 = (hashIndex(base, 2 * j) + 1) / 4294967296;
      const u2 = hashIndex(base, 2 * j + 1) / 4294967296;
      out.data[j * s + c] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2) * scale;
    }
  }
  return out;
}
