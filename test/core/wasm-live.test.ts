/** @file The live accumulator's WebAssembly path (fused, batched update: src/core/wasm/live.ts) against its
 * JavaScript reference on the same float32 steps: every series, κ, cosine and the window Gram, for windows and batch
 * sizes that put steps at every position of a batch, tensors whose lengths are not multiples of the vector width,
 * non-finite steps (skipped the same way), momentum alongside (a JavaScript-only predictor) and a float64 gradient
 * arriving mid-run (the accumulator moves to the JavaScript path and goes on from the same state).
 *
 * Tolerance: both paths sum float64 products of the same float32 values in different orders, so each Gram entry
 * differs by at most ≈ 2p·2⁻⁵³·Σ|g_s g_t|; the predictors' errors are combinations of such entries (for the EMAs,
 * of sums over the same bit-identical states). We require |Δ| ≤ 1e-12 · max_t ‖g_t‖² (p ≤ 300 here), which a wrong
 * lag, step, EMA update or batch boundary misses by many orders of magnitude. */
import { describe, expect, it } from "vitest";
import { LiveAccumulator, type LiveSnapshot } from "../../src/core/live.ts";
import { DEFAULT_PREDICTORS } from "../../src/core/predictors/index.ts";
import { createRng } from "../../src/core/rng.ts";

const TENSORS = [
  { name: "w", numel: 257 },
  { name: "b", numel: 3 },
  { name: "v", numel: 1 },
  { name: "u", numel: 40 },
];

/** Correlated float32 steps (a random walk plus noise), optionally with NaN/Inf planted in some steps. */
function steps(
  count: number,
  seed: number,
  bad: ReadonlyMap<number, number> = new Map(),
): Record<string, Float32Array>[] {
  const rng = createRng(seed);
  const x = TENSORS.map((t) => Float64Array.from({ length: t.numel }, () => rng.normal()));
  return Array.from({ length: count }, (_, s) => {
    const step: Record<string, Float32Array> = {};
    TENSORS.forEach((t, k) => {
      for (let i = 0; i < t.numel; i++) x[k][i] += 0.3 * rng.normal();
      step[t.name] = Float32Array.from(x[k], (v) => v + 0.1 * rng.normal());
    });
    const poison = bad.get(s);
    if (poison !== undefined) step.w[s % 257] = poison;
    return step;
  });
}

/** Equal to 10 digits, or both NaN (undefined cosines). */
function sameNumber(a: number, b: number, what: string): void {
  if (Number.isNaN(b)) expect(a, what).toBeNaN();
  else expect(a, what).toBeCloseTo(b, 10);
}

function expectSameSnapshot(got: LiveSnapshot, want: LiveSnapshot): void {
  expect(got.steps).toBe(want.steps);
  expect(got.skippedSteps).toEqual(want.skippedSteps);
  const series = [
    ...got.tensors.map((t, i) => [t, want.tensors[i]] as const),
    [got.total, want.total] as const,
  ];
  for (const [a, b] of series) {
    const scale = Math.max(...b.gradNormSqSeries);
    const tol = 1e-12 * scale;
    const close = (x: ArrayLike<number>, y: ArrayLike<number>, what: string) => {
      expect(x.length, what).toBe(y.length);
      for (let i = 0; i < y.length; i++) {
        if (!(Math.abs(x[i] - y[i]) <= tol)) {
          throw new Error(`${b.name} ${what}[${i}]: wasm ${x[i]} vs js ${y[i]} (tolerance ${tol})`);
        }
      }
    };
    close(a.gradNormSqSeries, b.gradNormSqSeries, "‖g‖²");
    for (const id of Object.keys(b.error)) {
      close(a.error[id], b.error[id], `error ${id}`);
      sameNumber(a.kappa[id], b.kappa[id], `${b.name} κ ${id}`);
      sameNumber(a.cosinePredicted[id], b.cosinePredicted[id], `${b.name} cos ${id}`);
    }
    sameNumber(a.cosineConsecutive, b.cosineConsecutive, `${b.name} consecutive cosine`);
    expect(a.windowSteps).toEqual(b.windowSteps);
    close(a.windowGram.data, b.windowGram.data, "window Gram");
  }
}

function run(
  data: Record<string, Float32Array | Float64Array>[],
  kernel: "js" | "wasm",
  options: { window: number; batch?: number; predictors?: readonly string[]; momentum?: boolean },
  snapshotEvery = 0,
): { acc: LiveAccumulator; snap: LiveSnapshot } {
  const acc = new LiveAccumulator({ tensors: TENSORS, kernel, ...options });
  data.forEach((step, s) => {
    const momentum = options.momentum
      ? Object.fromEntries(Object.entries(step).map(([k, v]) => [k, Float32Array.from(v, (x) => 0.9 * x)]))
      : undefined;
    acc.observe(step, momentum ? { momentum } : undefined);
    if (snapshotEvery > 0 && s % snapshotEvery === snapshotEvery - 1) acc.snapshot();
  });
  return { acc, snap: acc.snapshot() };
}

describe("LiveAccumulator: wasm path equals the js reference", () => {
  const cases: { window: number; batch: number }[] = [
    { window: 1, batch: 1 },
    { window: 2, batch: 3 },
    { window: 5, batch: 8 },
    { window: 16, batch: 4 },
    { window: 32, batch: 8 },
  ];
  it.each(cases)("default predictors, window $window, batch $batch", ({ window, batch }) => {
    const data = steps(45, window * 10 + batch);
    const wasm = run(data, "wasm", {
      window,
      batch,
      predictors: DEFAULT_PREDICTORS.filter((id) => id !== "lowrank4w16" || window >= 16),
    });
    const js = run(data, "js", {
      window,
      predictors: DEFAULT_PREDICTORS.filter((id) => id !== "lowrank4w16" || window >= 16),
    });
    expect(wasm.acc.kernel).toBe("wasm");
    expect(js.acc.kernel).toBe("js");
    expectSameSnapshot(wasm.snap, js.snap);
  });

  it("snapshots in the middle of a batch change nothing", () => {
    const data = steps(30, 7);
    const a = run(data, "wasm", { window: 6, batch: 8 }, 5);
    const b = run(data, "wasm", { window: 6, batch: 8 });
    const js = run(data, "js", { window: 6 });
    expectSameSnapshot(a.snap, js.snap);
    expectSameSnapshot(b.snap, js.snap);
  });

  it("NaN and ±Inf steps are skipped exactly as in js, at any position of a batch", () => {
    const bad = new Map([
      [0, Number.NaN],
      [5, Number.POSITIVE_INFINITY],
      [6, Number.NEGATIVE_INFINITY],
      [17, Number.NaN],
    ]);
    const data = steps(26, 11, bad);
    const wasm = run(data, "wasm", { window: 4, batch: 3 });
    const js = run(data, "js", { window: 4 });
    expect(wasm.snap.skippedSteps).toEqual([0, 5, 6, 17]);
    expectSameSnapshot(wasm.snap, js.snap);
  });

  it("momentum (a js-only predictor) runs beside the fused update", () => {
    const data = steps(20, 3);
    const predictors = ["zero", "last", "ema0.9", "momentum", "momentum0.1", "ar2"];
    const wasm = run(data, "wasm", { window: 4, batch: 5, predictors, momentum: true });
    const js = run(data, "js", { window: 4, predictors, momentum: true });
    expectSameSnapshot(wasm.snap, js.snap);
  });

  it("a float64 gradient mid-run moves to the js path and continues from the same state", () => {
    const data: Record<string, Float32Array | Float64Array>[] = steps(24, 5);
    data[13] = Object.fromEntries(
      Object.entries(data[13]).map(([k, v]) => [k, Float64Array.from(v, (x) => x * (1 + 1e-9))]),
    );
    const wasm = run(data, "wasm", { window: 8, batch: 4 });
    const js = run(data, "js", { window: 8 });
    expect(wasm.acc.kernel).toBe("js");
    expectSameSnapshot(wasm.snap, js.snap);
  });
});
