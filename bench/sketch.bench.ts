/** @file Benchmark of the random sketches: ms to sketch one float32 gradient of p = 10^7 (10^6 with
 * GRADTRACE_BENCH_QUICK=1) to k = 512, each against a plain pass over the same buffer (sum of squares in float64)
 * measured in the same run. Dense JL is timed on a slice and extrapolated linearly (its cost is exactly k per
 * coordinate): at p = 10^7 its S would take 20 GB, so it must regenerate S (one normal draw per entry) every step.
 * The hashing sketches are timed with their default cached (row, sign) table and hashing on the fly
 * (cacheBytes 0). The machine is shared, so each row interleaves rounds of the reference and the sketch and keeps
 * the fastest of each (the least disturbed run); the ratio is fastest sketch / fastest reference of those rounds. */
import { createRng } from "../src/core/rng.ts";
import { type CreateSketchOptions, createSketch } from "../src/core/sketch/index.ts";
import type { BenchRow } from "./types.ts";

/** Fastest wall time in ms of `fn` over `reps` runs after one warm-up run. The minimum, not the median: on a shared
 * machine the fastest run is the least disturbed one, and the reference pass is measured the same way. */
function time(fn: () => void, reps: number): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const p = quick ? 1_000_000 : 10_000_000;
  const k = 512;
  const reps = 3;
  const rounds = 3;
  const rng = createRng(1);
  const g = new Float32Array(p);
  for (let j = 0; j < p; j++) g[j] = rng.uniform() - 0.5;

  let sink = 0;
  const referencePass = (): void => {
    let s = 0;
    for (let j = 0; j < p; j++) s += g[j] * g[j];
    sink += s;
  };
  let referenceMs = time(referencePass, reps);
  const reference = `sum of squares over the same ${p.toExponential(0)}-element float32 buffer`;
  const rows: BenchRow[] = [];

  /** Fastest of `rounds` interleaved (reference, fn) rounds: [fn ms, reference ms of the same rounds]. */
  const interleaved = (fn: () => void, fnReps = reps): [number, number] => {
    let best = Number.POSITIVE_INFINITY;
    let bestRef = Number.POSITIVE_INFINITY;
    for (let r = 0; r < rounds; r++) {
      bestRef = Math.min(bestRef, time(referencePass, reps));
      best = Math.min(best, time(fn, fnReps));
    }
    referenceMs = Math.min(referenceMs, bestRef);
    return [best, bestRef];
  };

  const sketchRow = (label: string, options: CreateSketchOptions, note?: string): void => {
    const sketch = createSketch(options);
    const out = new Float64Array(k);
    const [ms, refMs] = interleaved(() => sketch.accumulate(g, 0, out));
    sink += out[0];
    rows.push({
      name: `sketch: ${label}, p=${p}, k=${k}`,
      value: ms,
      unit: "ms/step",
      ratio: ms / refMs,
      reference,
      note,
    });
  };
  // Dense JL on a slice: regenerating S (what p = 10^7 forces) and with S cached (the matvec alone). First, while
  // the process-wide cache pool is empty: the hashing sketches below keep their tables in the same pool.
  {
    const sub = quick ? 5_000 : 20_000;
    const slice = g.subarray(0, sub);
    const out = new Float64Array(k);
    const regen = createSketch({ kind: "jl", k, dim: sub, cacheBytes: 0 });
    const cached = createSketch({ kind: "jl", k, dim: sub, cacheBytes: 4 * k * sub });
    const regenMs = time(() => regen.accumulate(slice, 0, out), 1) * (p / sub);
    const cachedMs = time(() => cached.accumulate(slice, 0, out), reps) * (p / sub);
    sink += out[0];
    rows.push({
      name: `sketch: dense jl (S regenerated), p=${p}, k=${k}`,
      value: regenMs,
      unit: "ms/step",
      ratio: regenMs / referenceMs,
      reference,
      note: `extrapolated ×${p / sub} from a ${sub}-coordinate slice`,
    });
    rows.push({
      name: `sketch: dense jl (S cached, matvec only), p=${p}, k=${k}`,
      value: cachedMs,
      unit: "ms/step",
      ratio: cachedMs / referenceMs,
      reference,
      note: `extrapolated ×${p / sub} from a ${sub}-coordinate slice; S would need ${((4 * k * p) / 2 ** 30).toFixed(1)} GiB`,
    });
  }
  sketchRow("countsketch, wasm kernel (default; SIMD hash, no table)", {
    kind: "countsketch",
    k,
    dim: p,
    kernel: "wasm",
  });
  sketchRow(
    "countsketch, js kernel, cached table",
    { kind: "countsketch", k, dim: p, kernel: "js" },
    `table ${(4 * p) / 2 ** 20} MiB`,
  );
  sketchRow("countsketch, js kernel, hash on the fly", {
    kind: "countsketch",
    k,
    dim: p,
    cacheBytes: 0,
    kernel: "js",
  });
  sketchRow("sparsejl s=8, wasm kernel (default)", { kind: "sparsejl", k, dim: p, kernel: "wasm" });
  sketchRow("sparsejl s=8, js kernel, table up to 64 MiB", { kind: "sparsejl", k, dim: p, kernel: "js" });
  sketchRow("sparsejl s=8, js kernel, hash on the fly", {
    kind: "sparsejl",
    k,
    dim: p,
    cacheBytes: 0,
    kernel: "js",
  });
  sketchRow("srht (blocks of 4096), wasm transform (default)", { kind: "srht", k, dim: p, kernel: "wasm" });
  sketchRow("srht (blocks of 4096), js transform", { kind: "srht", k, dim: p, kernel: "js" });

  // Sparse JL's whole table at p = 10^7 would take 320 MB; compare the two paths on a 10^6 slice instead.
  {
    const sub = Math.min(p, 1_000_000);
    const slice = g.subarray(0, sub);
    const out = new Float64Array(k);
    const hashed = createSketch({ kind: "sparsejl", k, dim: sub, cacheBytes: 0, kernel: "js" });
    const tabled = createSketch({ kind: "sparsejl", k, dim: sub, cacheBytes: 32 * sub, kernel: "js" });
    let hashMs = Number.POSITIVE_INFINITY;
    let tableMs = Number.POSITIVE_INFINITY;
    for (let r = 0; r < rounds; r++) {
      hashMs = Math.min(
        hashMs,
        time(() => hashed.accumulate(slice, 0, out), reps),
      );
      tableMs = Math.min(
        tableMs,
        time(() => tabled.accumulate(slice, 0, out), reps),
      );
    }
    sink += out[0];
    rows.push({
      name: `sketch: sparsejl s=8 cached table vs hash (js kernel), p=${sub}`,
      value: tableMs,
      unit: "ms/step",
      ratio: tableMs / hashMs,
      reference: "the same sketch hashing on the fly",
      note: `hash ${hashMs.toFixed(1)} ms, table ${tableMs.toFixed(1)} ms (table ${(32 * sub) / 2 ** 20} MiB)`,
    });
  }

  if (!Number.isFinite(sink)) rows.push({ name: "sketch: sink", value: sink, unit: "" });
  return [
    {
      name: `sketch: plain pass (sum of squares), p=${p}`,
      value: referenceMs,
      unit: "ms",
      note: "fastest pass of the run",
    },
    ...rows,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(JSON.stringify(row));
}
