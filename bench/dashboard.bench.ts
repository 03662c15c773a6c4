/** @file Dashboard speed in headless chromium: time to first render of a 2,000-tensor × 1,000-window κ heatmap
 * (page load → summary + 8 MB binary heatmap fetched → first canvas draw), the draw time of pan / zoom frames, and
 * live-update latency (trace append → page updated). References measured in the same run, same page: a blank
 * putImageData of the same canvas size (the floor of any ImageData renderer) for frames, and the bare fetch of the
 * heatmap binary for first render. Targets: first render < 1 s, frames within 16.7 ms (60 fps).
 * GRADTRACE_BENCH_QUICK=1 shrinks the heatmap to 500 × 250. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AnalysisResult, SpectrumSummary, TensorResult } from "../src/analysis/types.ts";
import { createRng } from "../src/core/rng.ts";
import type { AnalysisEngine } from "../src/serve/engine.ts";
import { startServer } from "../src/serve/server.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "../test/browser/harness.ts";
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
