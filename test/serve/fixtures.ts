/** @file Test fixtures for the dashboard server: a deterministic AnalysisResult generator (shaped like analyze()'s
 * output, numbers random but seeded) and a fake engine whose "traces" are small text files `steps=N tensors=M`, so
 * API behaviour (reshaping, caching, live updates) is tested independently of the analysis engine. */
import * as fs from "node:fs";
import type { AnalysisResult, SpectrumSummary, TensorResult } from "../../src/analysis/types.ts";
import { createRng, type Rng } from "../../src/core/rng.ts";
import type { AnalysisEngine } from "../../src/serve/engine.ts";

export interface FixtureOptions {
  readonly tensors?: number;
  readonly steps?: number;
  readonly window?: number;
  readonly predictors?: readonly string[];
  readonly eps?: readonly number[];
  readonly seed?: number;
}

function spectrum(rng: Rng, n: number, eps: readonly number[]): SpectrumSummary {
  const sv = Array.from({ length: Math.min(n, 32) }, () => rng.uniform() * 10).sort((a, b) => b - a);
  const predictableRank: Record<string, number> = {};
  eps.forEach((e, i) => {
    predictableRank[String(e)] = Math.min(sv.length, 1 + i * 2);
  });
  return {
    singularValues: sv,
    predictableRank,
    effectiveRank: 1 + rng.uniform() * 5,
    stableRank: 1 + rng.uniform() * 3,
    participationRatio: 1 + rng.uniform() * 4,
    rankCurve: { eps: [0.5, 0.1, 0.01], rank: [1, 3, 6] },
    oracleRankPathLength: sv.map((_, k) => 100 / (k + 1)),
  };
}

export function fixtureStarts(n: number, size: number): number[] {
  if (n <= size) return [0];
  const stride = Math.ceil(size / 2);
  const starts: number[] = [];
  for (let s = 0; s + size <= n; s += stride) starts.push(s);
  if (starts[starts.length - 1] + size < n) starts.push(n - size);
  return starts;
}

function tensor(
  rng: Rng,
  name: string,
  shape: number[],
  n: number,
  o: Required<FixtureOptions>,
): TensorResult {
  const kappa: Record<string, number> = {};
  const kappaCI: Record<string, [number, number]> = {};
  const pathLength: Record<string, number> = {};
  const cosinePredicted: Record<string, number> = {};
  const size = Math.min(o.window, n);
  const starts = fixtureStarts(n, size);
  const wk: Record<string, number[]> = {};
  for (const p of o.predictors) {
    kappa[p] = p === "zero" ? 1 : rng.uniform() * 2;
    kappaCI[p] = [kappa[p] * 0.9, kappa[p] * 1.1];
    pathLength[p] = kappa[p] * 50;
    cosinePredicted[p] = rng.uniform();
    wk[p] = starts.map(() => (p === "zero" ? 1 : rng.uniform() * 2));
  }
  const increments = spectrum(rng, n - 1, o.eps);
  const numel = shape.reduce((a, b) => a * b, 1);
  return {
    name,
    shape,
    numel,
    steps: n,
    kappa,
    kappaCI,
    pathLength,
    gradNormSq: 50,
    gradNorm: Array.from({ length: n }, () => rng.uniform() * 3),
    cosineConsecutive: rng.uniform(),
    cosinePredicted,
    predictableRank: increments.predictableRank,
    effectiveRank: increments.effectiveRank,
    stableRank: increments.stableRank,
    singularValues: increments.singularValues,
    increments,
    gradients: spectrum(rng, n, o.eps),
    // Per-window ranks with a recognisable pattern, so tests can tell which column the API served.
    windows: {
      size,
      starts,
      kappa: wk,
      predictableRank: Object.fromEntries(o.eps.map((e) => [String(e), starts.map((s) => (s % 7) + 1)])),
    },
    ...(shape.length === 2
      ? {
          matrix: {
            rows: shape[0],
            cols: shape[1],
            at: [0, Math.floor(n / 2)],
            singularValues: [
              [3, 2, 1],
              [2.5, 1.5, 0.5],
            ],
            effectiveRank: [2.5, 2.2],
            stableRank: [1.5, 1.4],
            staleEnergy: { k: 2, delta: [1, 2, 4, 8], energy: [0.9, 0.8, 0.6, 0.4] },
          },
        }
      : {}),
  };
}

export function fixtureResult(options: FixtureOptions = {}): AnalysisResult {
  const o: Required<FixtureOptions> = {
    tensors: 3,
    steps: 20,
    window: 8,
    predictors: ["zero", "last", "ema0.9"],
    eps: [0.1, 0.01],
    seed: 1,
    ...options,
  };
  const rng = createRng(o.seed);
  const tensors = Array.from({ length: o.tensors }, (_, i) =>
    tensor(
      rng,
      i === 1 ? "block/0.attn[q].weight" : `layer${i}.weight`,
      i % 2 === 0 ? [4, 3] : [5],
      o.steps,
      o,
    ),
  );
  // One NaN (a zero-gradient window) so the NaN → null policy is exercised.
  tensors[0].windows!.kappa[o.predictors[1]][0] = Number.NaN;
  return {
    schemaVersion: 1,
    mode: "exact",
    trace: {
      path: "/somewhere/secret/trace.gtrace",
      format: "gtrace",
      steps: o.steps,
      tensors: o.tensors,
      problems: [],
      excludedSteps: { nonfinite: 0, corrupt: 0 },
    },
    options: { predictors: [...o.predictors], eps: [...o.eps], window: o.window, bootstrap: true },
    tensors,
    total: tensor(rng, "total", [tensors.reduce((s, t) => s + t.numel, 0)], o.steps, o),
    bounds: { regret: {}, regretWorstCase: 1, nonconvexPathTerm: {}, assumptions: [] },
    summary: "fixture",
  };
}

/** A fake trace: a text file "steps=N tensors=M" (appending "steps=N" lines grows it, the last one counts). */
export function writeFakeTrace(file: string, steps: number, tensors = 3): void {
  fs.writeFileSync(file, `tensors=${tensors}\nsteps=${steps}\n`);
}

export function readFakeTrace(file: string): { steps: number; tensors: number } {
  const text = fs.readFileSync(file, "utf8");
  if (text.includes("broken")) throw new Error(`${file}: broken fake trace`);
  const steps = [...text.matchAll(/steps=(\d+)/g)].map((m) => Number(m[1]));
  const tensors = Number(/tensors=(\d+)/.exec(text)?.[1] ?? 3);
  return { steps: steps[steps.length - 1], tensors };
}

export interface FakeEngine extends AnalysisEngine {
  readonly calls: string[];
}

export function fakeEngine(): FakeEngine {
  const calls: string[] = [];
  return {
    calls,
    async analyze(absPath) {
      calls.push(absPath);
      const { steps, tensors } = readFakeTrace(absPath);
      const result = fixtureResult({ steps, tensors, seed: steps });
      return { result, stepIndices: Array.from({ length: steps }, (_, i) => 10 * i) };
    },
  };
}
