/** @file Dashboard speed in headless chromium: time to first render of a 2,000-tensor × 1,000-window κ heatmap
 * (page load → summary + 8 MB binary heatmap fetched → first canvas draw), the draw time of pan / zoom frames, and
 * live-update latency (trace append → page updated). References measured in the same run, same page: a blank
 * putImageData of the same canvas size (the floor of any ImageData renderer) for frames, and the bare fetch of the
 * heatmap binary for first render. Targets: first render < 1 s, frames within 16.7 ms (60 fps).
 * A 100,000-step run (issue 13): first render and payload sizes of a 32-tensor result (decimated series, bucketed
 * ‖g‖ heatmap), the HTML report's size, and the live-update latency of a real 100,000-step trace followed on the
 * streaming state (its catch-up and the result assembled from the live state reported alongside).
 * GRADTRACE_BENCH_QUICK=1 shrinks the heatmap to 500 × 250 and the long run to 20,000 steps × 8 tensors. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AnalysisResult, SpectrumSummary, TensorResult } from "../src/analysis/types.ts";
import { createRng } from "../src/core/rng.ts";
import { renderHtmlReport } from "../src/report/index.ts";
import type { SeriesResponse } from "../src/serve/api-types.ts";
import type { AnalysisEngine } from "../src/serve/engine.ts";
import { startServer } from "../src/serve/server.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "../test/browser/harness.ts";
import { fixtureResult } from "../test/serve/fixtures.ts";
import { SMALL_MODEL, writeTrace } from "../test/serve/traces.ts";
import type { BenchRow } from "./types.ts";

const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
const TENSORS = quick ? 500 : 2000;
const WINDOWS = quick ? 250 : 1000;
const FRAMES = 60;

function spectrum(): SpectrumSummary {
  const sv = Array.from({ length: 32 }, (_, i) => 10 / (i + 1));
  return {
    singularValues: sv,
    predictableRank: { "0.1": 4, "0.05": 6, "0.01": 12 },
    effectiveRank: 5.5,
    stableRank: 1.6,
    participationRatio: 2.1,
    rankCurve: { eps: [0.5, 0.1, 0.01, 0.001], rank: [1, 4, 12, 20] },
    oracleRankPathLength: sv.map((s) => s * s),
  };
}

/** An analysis result of the benchmark's size: κ per window with structure (layers × time) and noise. */
export function bigResult(): AnalysisResult {
  const rng = createRng(7);
  const starts = Array.from({ length: WINDOWS }, (_, i) => 4 * i);
  const tensor = (i: number): TensorResult => ({
    name: `blocks.${Math.floor(i / 8)}.${["attn.q", "attn.k", "attn.v", "attn.o", "mlp.up", "mlp.down", "ln1", "ln2"][i % 8]}.weight`,
    shape: [64, 64],
    numel: 4096,
    steps: 4 * WINDOWS + 4,
    kappa: { "ema0.9": 0.8 },
    pathLength: { "ema0.9": 1 },
    gradNormSq: 1,
    gradNorm: [1],
    cosineConsecutive: 0.5,
    cosinePredicted: { "ema0.9": 0.5 },
    predictableRank: { "0.1": 4 },
    effectiveRank: 5,
    stableRank: 1.5,
    singularValues: spectrum().singularValues,
    increments: spectrum(),
    gradients: spectrum(),
    windows: {
      size: 8,
      starts,
      predictableRank: { "0.1": starts.map(() => 4) },
      kappa: {
        "ema0.9": starts.map(
          (_, w) => 0.2 + 1.5 * Math.abs(Math.sin(i / 97 + w / 53)) * (0.6 + 0.4 * rng.uniform()),
        ),
      },
    },
  });
  const tensors = Array.from({ length: TENSORS }, (_, i) => tensor(i));
  return {
    schemaVersion: 1,
    mode: "exact",
    trace: {
      path: "bench",
      format: "gtrace",
      steps: 4 * WINDOWS + 4,
      tensors: TENSORS,
      problems: [],
      excludedSteps: { nonfinite: 0, corrupt: 0 },
    },
    options: { predictors: ["ema0.9"], eps: [0.1], window: 8, bootstrap: false },
    tensors,
    total: { ...tensor(0), name: "total" },
    bounds: { regret: {}, regretWorstCase: 1, nonconvexPathTerm: {}, assumptions: [] },
    summary: "benchmark",
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p95 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))];

export async function run(): Promise<BenchRow[]> {
  requireBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-dash-"));
  fs.writeFileSync(path.join(dir, "big.gtrace"), "synthetic");
  const result = bigResult();
  const engine: AnalysisEngine = {
    analyze: async () => ({ result, stepIndices: [0] }),
  };
  const server = await startServer({ path: dir, engine, webDir: DIST_DIR });
  const browser = await launchChromium();
  const rows: BenchRow[] = [];
  try {
    await server.store.idle();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // tsx compiles with esbuild's keepNames, which wraps functions passed to page.evaluate in a __name() helper.
    await page.addInitScript("globalThis.__name = (f) => f;");
    const firstRender: number[] = [];
    const fetchOnly: number[] = [];
    const drawOnly: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A real page load each time (a goto that only changes the hash would not reload).
      await page.goto("about:blank");
      await page.goto(`${server.url}#/run/big-gtrace`);
      await page.waitForFunction(
        () => performance.getEntriesByName("gradtrace:heatmap-first-draw").length > 0,
        null,
        {
          timeout: 60_000,
        },
      );
      firstRender.push(
        await page.evaluate(() => performance.getEntriesByName("gradtrace:heatmap-first-draw")[0].startTime),
      );
      drawOnly.push(Number(await page.locator("canvas.heatmap-canvas").getAttribute("data-draw-ms")));
      fetchOnly.push(
        await page.evaluate(async () => {
          const t0 = performance.now();
          const buf = await (
            await fetch("/api/runs/big-gtrace/heatmap?format=f32&predictor=ema0.9")
          ).arrayBuffer();
          return buf.byteLength > 0 ? performance.now() - t0 : Number.NaN;
        }),
      );
    }
    await page.waitForSelector("body[data-state=ready]", { timeout: 60_000 });
    const frames = await page.evaluate(async (n) => {
      const c = document.querySelector<HTMLCanvasElement>("canvas.heatmap-canvas")!;
      const rect = c.getBoundingClientRect();
      const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
      const zoom: number[] = [];
      const pan: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const before = c.dataset.frames;
        c.dispatchEvent(
          new WheelEvent("wheel", {
            deltaY: i % 2 === 0 ? -150 : 140,
            clientX: rect.left + rect.width * (0.3 + (0.4 * ((i * 37) % 10)) / 10),
            clientY: rect.top + rect.height * (0.3 + (0.4 * ((i * 53) % 10)) / 10),
            bubbles: true,
            cancelable: true,
          }),
        );
        await nextFrame();
        if (c.dataset.frames !== before) zoom.push(Number(c.dataset.drawMs));
      }
      const zoomWall = performance.now() - t0;
      // Pan at 3× zoom: drag across the canvas.
      c.dispatchEvent(
        new WheelEvent("wheel", {
          deltaY: -550,
          clientX: rect.left + rect.width / 2,
          clientY: rect.top + rect.height / 2,
          bubbles: true,
          cancelable: true,
        }),
      );
      await nextFrame();
      const x0 = rect.left + rect.width / 2;
      const y0 = rect.top + rect.height / 2;
      c.dispatchEvent(
        new PointerEvent("pointerdown", { clientX: x0, clientY: y0, pointerId: 1, bubbles: true }),
      );
      const t1 = performance.now();
      for (let i = 0; i < n; i++) {
        const before = c.dataset.frames;
        const dx = 200 * Math.sin((i / n) * 2 * Math.PI);
        const dy = 120 * Math.cos((i / n) * 2 * Math.PI);
        c.dispatchEvent(
          new PointerEvent("pointermove", {
            clientX: x0 + dx,
            clientY: y0 + dy,
            pointerId: 1,
            bubbles: true,
          }),
        );
        await nextFrame();
        if (c.dataset.frames !== before) pan.push(Number(c.dataset.drawMs));
      }
      const panWall = performance.now() - t1;
      c.dispatchEvent(
        new PointerEvent("pointerup", { clientX: x0, clientY: y0, pointerId: 1, bubbles: true }),
      );
      // Reference: a blank putImageData / fillRect of the same device size, per frame, in this page.
      const ref = document.createElement("canvas");
      ref.width = c.width;
      ref.height = c.height;
      document.body.append(ref);
      const ctx = ref.getContext("2d")!;
      const img = ctx.createImageData(ref.width, ref.height);
      new Uint32Array(img.data.buffer).fill(0xffcccccc);
      const blankPut: number[] = [];
      const blankFill: number[] = [];
      for (let i = 0; i < n; i++) {
        let t = performance.now();
        ctx.putImageData(img, 0, 0);
        blankPut.push(performance.now() - t);
        t = performance.now();
        ctx.fillStyle = i % 2 ? "#eee" : "#ddd";
        ctx.fillRect(0, 0, ref.width, ref.height);
        blankFill.push(performance.now() - t);
        await nextFrame();
      }
      ref.remove();
      return { zoom, pan, zoomWall, panWall, blankPut, blankFill, width: c.width, height: c.height };
    }, FRAMES);
    const size = `${TENSORS} tensors × ${WINDOWS} windows, canvas ${frames.width}×${frames.height} px`;
    rows.push({
      name: "heatmap first render (page load → first draw)",
      value: median(firstRender),
      unit: "ms",
      ratio: median(firstRender) / median(fetchOnly),
      reference: "fetch of the binary heatmap alone",
      target: "< 1000 ms",
      note: `${size}; median of 3 loads (the first, with the server encoding the heatmap: ${firstRender[0].toFixed(0)} ms); draw itself ${median(drawOnly).toFixed(1)} ms`,
    });
    const blank = median(frames.blankPut);
    rows.push({
      name: "heatmap zoom frame draw (mean)",
      value: mean(frames.zoom),
      unit: "ms",
      ratio: mean(frames.zoom) / blank,
      reference: "blank putImageData of the same size",
      target: "< 16.7 ms (60 fps)",
      note: `p95 ${p95(frames.zoom).toFixed(2)} ms over ${frames.zoom.length} frames; ${((1000 * FRAMES) / frames.zoomWall).toFixed(0)} frames/s with rAF`,
    });
    rows.push({
      name: "heatmap pan frame draw (mean)",
      value: mean(frames.pan),
      unit: "ms",
      ratio: mean(frames.pan) / blank,
      reference: "blank putImageData of the same size",
      target: "< 16.7 ms (60 fps)",
      note: `p95 ${p95(frames.pan).toFixed(2)} ms over ${frames.pan.length} frames; ${((1000 * FRAMES) / frames.panWall).toFixed(0)} frames/s with rAF`,
    });
    rows.push({
      name: "blank putImageData (reference)",
      value: blank,
      unit: "ms",
      note: `fillRect of the same size: ${median(frames.blankFill).toFixed(3)} ms`,
    });
    rows.push(await liveLatency(browser));
    rows.push(...(await longRun(browser)));
    rows.push(await liveLatencyLong(browser));
    rows.push(await manyRuns());
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** A directory of many cached runs: server start (discovery + headline cache reads) to `/api/runs` answered. */
async function manyRuns(): Promise<BenchRow> {
  const count = quick ? 100 : 300;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-runs-"));
  const result = bigSmallResult();
  const engine: AnalysisEngine = {
    analyze: async () => ({ result, stepIndices: [] }),
  };
  try {
    for (let i = 0; i < count; i++) {
      fs.mkdirSync(path.join(dir, `sweep${i % 10}`, `seed${i}`), { recursive: true });
      fs.writeFileSync(path.join(dir, `sweep${i % 10}`, `seed${i}`, "run.gtrace"), `run ${i}`);
    }
    const warm = await startServer({ path: dir, engine, webDir: DIST_DIR });
    await warm.store.idle();
    await warm.close();
    const times: number[] = [];
    const reads: number[] = [];
    for (let k = 0; k < 3; k++) {
      let t0 = performance.now();
      const server = await startServer({ path: dir, engine, webDir: DIST_DIR });
      const res = await fetch(`${server.url}api/runs`);
      const body = (await res.json()) as { runs: { status: string }[] };
      times.push(performance.now() - t0);
      if (body.runs.filter((r) => r.status === "ready").length !== count)
        throw new Error("runs not served from the cache");
      await server.close();
      // Reference: reading and parsing the same number of small JSON files.
      const metas = fs
        .readdirSync(path.join(dir, ".gradtrace-cache"))
        .filter((f) => f.endsWith(".meta.json"));
      t0 = performance.now();
      for (const f of metas) JSON.parse(fs.readFileSync(path.join(dir, ".gradtrace-cache", f), "utf8"));
      reads.push(performance.now() - t0);
    }
    return {
      name: `open a directory of ${count} cached runs (start → /api/runs)`,
      value: median(times),
      unit: "ms",
      ratio: median(times) / median(reads),
      reference: `reading + parsing the ${count} headline files alone`,
      note: "discovery walks the tree; full results are read only when a run is opened",
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A small analysis result (one tensor) for the many-runs row. */
function bigSmallResult(): AnalysisResult {
  const r = bigResult();
  return { ...r, tensors: r.tensors.slice(0, 4), trace: { ...r.trace, tensors: 4 } };
}

/** Trace append → run page showing the new step count, on a small real trace analyzed by the real engine. */
async function liveLatency(browser: Awaited<ReturnType<typeof launchChromium>>): Promise<BenchRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-live-"));
  const file = path.join(dir, "live.gtrace");
  const live = writeTrace(file, { tensors: SMALL_MODEL, seed: 3 }, 32, { keepOpen: true });
  const server = await startServer({ path: dir, webDir: DIST_DIR });
  const latencies: number[] = [];
  try {
    await server.store.idle();
    const page = await browser.newPage();
    await page.addInitScript("globalThis.__name = (f) => f;");
    await page.goto(`${server.url}#/run/live-gtrace`);
    await page.waitForSelector("body[data-state=ready]");
    await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");
    let steps = 32;
    for (let k = 0; k < 5; k++) {
      const t0 = Date.now();
      for (let i = 0; i < 4; i++) live.writer.append(steps + i, live.grad(steps + i));
      steps += 4;
      await page.waitForFunction(
        (n) => document.querySelector<HTMLElement>(".run-head .facts")?.dataset.steps === String(n),
        steps,
        { timeout: 10_000 },
      );
      latencies.push(Date.now() - t0);
      await page.waitForTimeout(300);
    }
  } finally {
    live.writer.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return {
    name: "live update latency (append → page updated)",
    value: median(latencies),
    unit: "ms",
    target: "< 1000 ms",
    note: `median of ${latencies.length}, max ${Math.max(...latencies)} ms; 3 tensors, 32–52 steps, incremental live event (new steps only)`,
  };
}

const LONG_STEPS = quick ? 20_000 : 100_000;
const LONG_TENSORS = quick ? 8 : 32;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;

/**
 * A LONG_STEPS-step result (LONG_TENSORS tensors, the 8 default predictors, windows of 64 steps: ≈ T/32 windows)
 * served to the page: first render (page load → heatmap drawn, and → page ready with the tensor charts and table),
 * the bytes of each response the page needed, and the HTML report's size.
 */
async function longRun(browser: Awaited<ReturnType<typeof launchChromium>>): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-long-"));
  fs.writeFileSync(path.join(dir, "long.gtrace"), "synthetic");
  const result = fixtureResult({
    steps: LONG_STEPS,
    tensors: LONG_TENSORS,
    window: 64,
    predictors: ["zero", "last", "ema0.5", "ema0.9", "ema0.99", "linear", "ar2", "lowrank4w16"],
  });
  const stepIndices = Array.from({ length: LONG_STEPS }, (_, i) => 10 * i);
  const engine: AnalysisEngine = { analyze: async () => ({ result, stepIndices }) };
  let t0 = performance.now();
  const server = await startServer({ path: dir, engine, webDir: DIST_DIR });
  const rows: BenchRow[] = [];
  try {
    await server.store.idle();
    const cacheMs = performance.now() - t0;
    const cacheBytes = fs.statSync(path.join(dir, ".gradtrace-cache", "long-gtrace.json")).size;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript("globalThis.__name = (f) => f;");
    const bytes = new Map<string, number>();
    page.on("response", async (res) => {
      const url = new URL(res.url());
      if (!url.pathname.startsWith("/api/runs/long-gtrace/")) return;
      try {
        const key = url.pathname
          .split("/")
          .slice(4)
          .join("/")
          .replace(/^tensors\/[^/]+\//, "tensor/");
        bytes.set(key, (await res.body()).length);
      } catch {
        // an event stream has no body to read
      }
    });
    const firstDraw: number[] = [];
    const ready: number[] = [];
    const fetchOnly: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto("about:blank");
      await page.goto(`${server.url}#/run/long-gtrace`);
      await page.waitForSelector("body[data-state=ready]", { timeout: 120_000 });
      const marks = await page.evaluate(() => ({
        draw: performance.getEntriesByName("gradtrace:heatmap-first-draw")[0]?.startTime ?? Number.NaN,
        ready: performance.getEntriesByName("gradtrace:table-end")[0]?.startTime ?? Number.NaN,
      }));
      firstDraw.push(marks.draw);
      ready.push(marks.ready);
      fetchOnly.push(
        await page.evaluate(async () => {
          const start = performance.now();
          const buf = await (await fetch("/api/runs/long-gtrace/heatmap?format=f32")).arrayBuffer();
          return buf.byteLength > 0 ? performance.now() - start : Number.NaN;
        }),
      );
    }
    const points = Number(await page.locator('[data-chart="grad-norm"]').getAttribute("data-points"));
    const gradNormHeatmap = await page.evaluate(
      async () =>
        (await (await fetch("/api/runs/long-gtrace/heatmap?format=f32&metric=gradNorm")).arrayBuffer())
          .byteLength,
    );
    const series = await (await fetch(`${server.url}api/runs/long-gtrace/tensors/@total/series`)).text();
    const parsed = JSON.parse(series) as SeriesResponse;
    // What one tensor's series would weigh undecimated: its per-step and per-window arrays as JSON.
    const whole = JSON.stringify({
      gradNorm: result.total.gradNorm,
      starts: result.total.windows?.starts,
      kappa: result.total.windows?.kappa,
    }).length;
    const size = `${LONG_STEPS.toLocaleString("en-US")} steps × ${LONG_TENSORS} tensors, ${result.total.windows?.starts.length} windows of 64, 8 predictors`;
    rows.push({
      name: `${LONG_STEPS.toLocaleString("en-US")}-step run: first render (page load → heatmap drawn)`,
      value: median(firstDraw),
      unit: "ms",
      ratio: median(firstDraw) / median(fetchOnly),
      reference: "fetch of the binary heatmap alone",
      target: "< 1000 ms",
      note: `${size}; median of 3 loads (first ${firstDraw[0].toFixed(0)} ms); page ready (charts + table) ${median(ready).toFixed(0)} ms`,
    });
    const summary = bytes.get("summary") ?? Number.NaN;
    const heat = bytes.get("heatmap") ?? Number.NaN;
    const tensor = bytes.get("tensor/series") ?? series.length;
    rows.push({
      name: `${LONG_STEPS.toLocaleString("en-US")}-step run: bytes of the page's first render`,
      value: summary + heat + tensor,
      unit: "B",
      note: `summary ${kb(summary)}, κ heatmap (f32) ${kb(heat)}, @total series ${kb(tensor)} (${parsed.gradNorm.length} ‖g‖ points, ${parsed.windows?.starts.length} windows; chart ${points} points); ‖g‖ heatmap (f32, bucketed to 4,096 columns) ${kb(gradNormHeatmap)}`,
    });
    rows.push({
      name: `${LONG_STEPS.toLocaleString("en-US")}-step run: one tensor's series request`,
      value: series.length,
      unit: "B",
      ratio: series.length / whole,
      reference: "the same series undecimated (JSON)",
      target: "≤ 2,000 points per series",
      note: `${parsed.gradNorm.length} of ${LONG_STEPS} steps kept (min/max per bucket); undecimated ${kb(whole)}`,
    });
    rows.push({
      name: `${LONG_STEPS.toLocaleString("en-US")}-step run: result into the server (JSON round trip + cache write)`,
      value: cacheMs,
      unit: "ms",
      note: `cache file ${(cacheBytes / 2 ** 20).toFixed(1)} MiB (per-step ‖g‖ of every tensor as JSON)`,
    });
    t0 = performance.now();
    const html = renderHtmlReport(result);
    const htmlMs = performance.now() - t0;
    rows.push({
      name: `${LONG_STEPS.toLocaleString("en-US")}-step run: HTML report size`,
      value: html.length,
      unit: "B",
      target: "< 1 MB",
      note: `${size}; rendered in ${htmlMs.toFixed(0)} ms; series min/max-decimated to 1,200 points per line`,
    });
    await page.close();
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/** A real LONG_STEPS-step trace (3 small tensors) served by the real engine: after the first growth catches up
 * on the whole trace once, append → page updated, then the next result assembled from the live state. */
async function liveLatencyLong(browser: Awaited<ReturnType<typeof launchChromium>>): Promise<BenchRow> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-bench-live-long-"));
  const file = path.join(dir, "live.gtrace");
  let t0 = performance.now();
  const live = writeTrace(file, { tensors: SMALL_MODEL, seed: 3 }, LONG_STEPS, { keepOpen: true });
  const writeMs = performance.now() - t0;
  const log: string[] = [];
  t0 = performance.now();
  const server = await startServer({ path: dir, webDir: DIST_DIR, log: (m) => log.push(m) });
  const latencies: number[] = [];
  let analyzeMs = Number.NaN;
  let catchUpMs = Number.NaN;
  let fromLive = "";
  try {
    await server.store.idle();
    analyzeMs = performance.now() - t0;
    const page = await browser.newPage();
    await page.addInitScript("globalThis.__name = (f) => f;");
    await page.goto(`${server.url}#/run/live-gtrace`);
    await page.waitForSelector("body[data-state=ready]", { timeout: 120_000 });
    await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");
    let steps = LONG_STEPS;
    const appendAndWait = async (k: number) => {
      const start = Date.now();
      for (let i = 0; i < k; i++) live.writer.append(steps + i, live.grad(steps + i));
      steps += k;
      await page.waitForFunction(
        (n) => document.querySelector<HTMLElement>(".run-head .facts")?.dataset.steps === String(n),
        steps,
        { timeout: 1_800_000, polling: 20 },
      );
      return Date.now() - start;
    };
    // The first growth: the live state reads the whole trace once.
    catchUpMs = await appendAndWait(1);
    for (let k = 0; k < 5; k++) {
      latencies.push(await appendAndWait(4));
      await page.waitForTimeout(150);
    }
    // Quiet: the next result comes from the live state (no pass over the trace).
    await page.waitForFunction(
      (n) =>
        document.querySelector<HTMLElement>(".run-head .facts")?.dataset.steps === String(n) &&
        document.querySelector(".run-head .live-steps") === null,
      steps,
      { timeout: 1_800_000 },
    );
    fromLive = log.filter((m) => m.includes("result assembled from the live state")).pop() ?? "";
    await page.close();
  } finally {
    live.writer.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const took = /\((\d+) steps, streaming\) in (\d+) ms/.exec(fromLive);
  return {
    name: `live update latency at ${LONG_STEPS.toLocaleString("en-US")} steps (append → page updated)`,
    value: median(latencies),
    unit: "ms",
    ratio: median(latencies) / analyzeMs,
    reference: "the full (streaming) analysis of the trace",
    target: "< 1000 ms",
    note: `median of ${latencies.length}, max ${Math.max(...latencies)} ms; 3 tensors, 4 steps per append; trace written in ${(writeMs / 1000).toFixed(1)} s, analyzed in ${(analyzeMs / 1000).toFixed(1)} s; first growth (catch-up of the whole trace into the live state) ${(catchUpMs / 1000).toFixed(1)} s; ${took ? `the last result (${took[1]} steps) from the live state (checkpoint, assembly in the worker, JSON, cache) in ${took[2]} ms` : "no result assembled from the live state"}`,
  };
}
