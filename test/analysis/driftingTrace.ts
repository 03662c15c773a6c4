/** @file A small trace for the streaming tests: a drifting low-rank signal plus noise per tensor. */
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter } from "../../src/trace/index.ts";

/** A drifting low-rank signal plus noise per tensor, with a sign flip and a rank jump partway (so predictors and
 * windows see different regimes), and optionally one NaN step. */
export function writeTrace(
  file: string,
  steps: number,
  shapes: Record<string, number[]>,
  seed: number,
  nanAt: number | readonly number[] = -1,
): void {
  const rng = createRng(seed);
  const names = Object.keys(shapes);
  const numel = (n: string) => shapes[n].reduce((a, b) => a * b, 1);
  const basis = Object.fromEntries(
    names.map((n) => [
      n,
      Array.from({ length: 6 }, () => Float64Array.from({ length: numel(n) }, () => rng.normal())),
    ]),
  );
  const w = createGtraceWriter(file, { tensors: names.map((name) => ({ name, shape: shapes[name] })) });
  for (let t = 0; t < steps; t++) {
    const step: Record<string, Float32Array> = {};
    for (const n of names) {
      const g = new Float32Array(numel(n));
      const rank = t < steps / 2 ? 2 : 5;
      for (let r = 0; r < rank; r++) {
        const c = Math.cos(0.07 * t * (r + 1) + r) * (6 - r) * (t % 17 === 0 ? -1 : 1);
        for (let i = 0; i < g.length; i++) g[i] += c * basis[n][r][i];
      }
      for (let i = 0; i < g.length; i++) g[i] += 0.1 * rng.normal();
      if ((typeof nanAt === "number" ? [nanAt] : nanAt).includes(t) && n === names[0]) g[3] = Number.NaN;
      step[n] = g;
    }
    w.append(t, step);
  }
  w.close();
}
