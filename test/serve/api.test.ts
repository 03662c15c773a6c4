/** @file API tests of `gradtrace serve` on fake traces: every endpoint against the engine's result, refused run ids
 * and traversal spellings, token and Host checks, the results cache (reused, rebuilt when deleted), and live
 * updates over SSE while a trace grows. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  HeatmapJson,
  RunsResponse,
  SeriesResponse,
  SummaryResponse,
} from "../../src/serve/api-types.ts";
import { CACHE_VERSION } from "../../src/serve/cache.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { decodeHeatmapBinary } from "../../src/serve/views.ts";
import { type FakeEngine, fakeEngine, fixtureResult, writeFakeTrace } from "./fixtures.ts";
import { openSse, rawGet } from "./http.ts";

let dir: string;
let webDir: string;
let server: RunningServer;
let engine: FakeEngine;

function makeRunsDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-api-"));
  fs.mkdirSync(path.join(d, "adam", "seed1"), { recursive: true });
  fs.mkdirSync(path.join(d, "sgd"), { recursive: true });
  fs.mkdirSync(path.join(d, ".hidden"), { recursive: true });
  writeFakeTrace(path.join(d, "adam", "seed1", "trace.gtrace"), 20);
  writeFakeTrace(path.join(d, "sgd", "run.gtrace"), 12, 2);
  writeFakeTrace(path.join(d, "broken.gtrace"), 5);
  fs.appendFileSync(path.join(d, "broken.gtrace"), "broken\n");
  writeFakeTrace(path.join(d, ".hidden", "x.gtrace"), 5);
  fs.writeFileSync(
    path.join(d, "nu-sweep.lab.json"),
    JSON.stringify({
      title: "spike strength",
      parameter: "nu",
      points: [
        { value: 0, singularValues: [3, 1], cosines: { q: 0.1, residue: 0.9 } },
        { value: 0.3, singularValues: [4, 2.5], cosines: { q: 0.8, residue: 0.7 } },
      ],
    }),
  );
  return d;
}

beforeAll(async () => {
  dir = makeRunsDir();
  webDir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-web-"));
  fs.writeFileSync(path.join(webDir, "index.html"), "<!doctype html><title>gradtrace</title>");
  fs.mkdirSync(path.join(webDir, "assets"));
  fs.writeFileSync(path.join(webDir, "assets", "app.js"), "console.log(1)");
  fs.writeFileSync(path.join(dir, "secret.txt"), "do not serve");
  engine = fakeEngine();
  server = await startServer({ path: dir, engine, webDir, pollMs: 50 });
  await server.store.idle();
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(webDir, { recursive: true, force: true });
});

const get = (p: string, headers?: Record<string, string>) => rawGet(server.port, p, { headers });

describe("listing and summaries", () => {
  it("lists every trace as a run with stable slug ids, skipping hidden directories, and lists lab files", async () => {
    const res = await get("/api/runs");
    expect(res.status).toBe(200);
    const body = res.json<RunsResponse>();
    expect(body.runs.map((r) => [r.id, r.path])).toEqual([
      ["adam-seed1-trace-gtrace", "adam/seed1/trace.gtrace"],
      ["broken-gtrace", "broken.gtrace"],
      ["sgd-run-gtrace", "sgd/run.gtrace"],
    ]);
    expect(body.labs).toEqual([
      {
        id: "nu-sweep-lab-json",
        path: "nu-sweep.lab.json",
        title: "spike strength",
        parameter: "nu",
        points: 2,
      },
    ]);
  });

  it("gives the whole-model headline numbers of each analyzed run", async () => {
    const body = (await get("/api/runs")).json<RunsResponse>();
    const adam = body.runs.find((r) => r.id === "adam-seed1-trace-gtrace")!;
    const expected = fixtureResult({ steps: 20, tensors: 3, seed: 20 });
    expect(adam.status).toBe("ready");
    expect(adam.steps).toBe(20);
    expect(adam.tensors).toBe(3);
    expect(adam.kappa).toEqual(expected.total.kappa);
    expect(adam.kappaCI).toEqual(expected.total.kappaCI);
    expect(adam.predictableRank).toEqual(expected.total.predictableRank);
    expect(adam.effectiveRank).toBe(expected.total.effectiveRank);
    const broken = body.runs.find((r) => r.id === "broken-gtrace")!;
    expect(broken.status).toBe("error");
    expect(broken.error).toMatch(/broken fake trace/);
  });

  it("serves the summary without the per-step and per-window arrays and without the absolute path", async () => {
    const res = await get("/api/runs/adam-seed1-trace-gtrace/summary");
    expect(res.status).toBe(200);
    const s = res.json<SummaryResponse>();
    const expected = fixtureResult({ steps: 20, tensors: 3, seed: 20 });
    expect(s.trace.path).toBe("adam/seed1/trace.gtrace");
    expect(res.body.toString()).not.toContain("/somewhere/secret");
    expect(s.tensors.map((t) => t.name)).toEqual(expected.tensors.map((t) => t.name));
    for (const [i, t] of s.tensors.entries()) {
      const e = expected.tensors[i];
      expect(t).not.toHaveProperty("gradNorm");
      expect(t).not.toHaveProperty("windows");
      expect(t).not.toHaveProperty("matrix");
      expect(t.kappa).toEqual(e.kappa);
      expect(t).not.toHaveProperty("increments");
      expect(t.predictableRank).toEqual(e.increments.predictableRank);
      expect(t.participationRatio).toBe(e.increments.participationRatio);
      expect(t.windowCount).toBe(e.windows!.starts.length);
      expect(t.windowSize).toBe(e.windows!.size);
      expect(t.hasMatrix).toBe(e.shape.length === 2);
    }
    expect(s.heatmapMetrics).toEqual(["kappa", "rank", "gradNorm"]);
    expect(s.run.id).toBe("adam-seed1-trace-gtrace");
  });

  it("answers a run whose analysis failed with 422 and the reason", async () => {
    const res = await get("/api/runs/broken-gtrace/summary");
    expect(res.status).toBe(422);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/broken fake trace/);
  });
});

describe("series", () => {
  it("returns one tensor's series exactly as analyzed, NaN as null, with step indices", async () => {
    const expected = fixtureResult({ steps: 20, tensors: 3, seed: 20 });
    const name = expected.tensors[0].name;
    const res = await get(`/api/runs/adam-seed1-trace-gtrace/tensors/${encodeURIComponent(name)}/series`);
    expect(res.status).toBe(200);
    const s = res.json<SeriesResponse>();
    const e = expected.tensors[0];
    expect(s.name).toBe(name);
    expect(s.gradNorm).toEqual(e.gradNorm);
    expect(s.stepIndices).toEqual(e.gradNorm.map((_, i) => 10 * i));
    expect(s.windows!.starts).toEqual(e.windows!.starts);
    expect(s.windows!.kappa.last[0]).toBeNull();
    expect(s.windows!.kappa.last.slice(1)).toEqual(e.windows!.kappa.last.slice(1));
    expect(s.windows!.kappa["ema0.9"]).toEqual(e.windows!.kappa["ema0.9"]);
    expect(s.matrix).toEqual(e.matrix);
    expect(s.increments.rankCurve).toEqual(e.increments.rankCurve);
  });

  it("finds tensor names holding slashes, brackets and dots when URL-encoded, and the whole model as @total", async () => {
    const expected = fixtureResult({ steps: 20, tensors: 3, seed: 20 });
    const name = "block/0.attn[q].weight";
    const s = (
      await get(`/api/runs/adam-seed1-trace-gtrace/tensors/${encodeURIComponent(name)}/series`)
    ).json<SeriesResponse>();
    expect(s.gradNorm).toEqual(expected.tensors[1].gradNorm);
    expect(s.matrix).toBeNull();
    const total = (
      await get("/api/runs/adam-seed1-trace-gtrace/tensors/@total/series")
    ).json<SeriesResponse>();
    expect(total.gradNorm).toEqual(expected.total.gradNorm);
  });

  it("takes a logged-step range and a point budget; refuses bad ones with 400", async () => {
    const expected = fixtureResult({ steps: 20, tensors: 3, seed: 20 });
    const base = "/api/runs/adam-seed1-trace-gtrace/tensors/@total/series";
    const s = (await get(`${base}?from=35&to=120&points=16`)).json<SeriesResponse>();
    // Logged steps are 10·i: steps 40…120 are positions 4…12, 9 points (within the budget: not decimated).
    expect(s.view).toMatchObject({ from: 40, to: 120, steps: 9, points: 16, decimated: false });
    expect(s.stepIndices).toEqual([40, 50, 60, 70, 80, 90, 100, 110, 120]);
    expect(s.gradNorm).toEqual(expected.total.gradNorm.slice(4, 13));
    for (const q of ["points=8", "points=20001", "points=1.5", "from=x", "from=9&to=3"]) {
      const res = await get(`${base}?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json<{ error: { code: string } }>().error.code).toBe("E_ARG");
    }
    const heat = (
      await get("/api/runs/adam-seed1-trace-gtrace/heatmap?metric=gradNorm&cols=5&from=30")
    ).json<HeatmapJson>();
    expect(heat).toMatchObject({ cols: 5, bucketed: true, columnRange: [3, 20], columnsTotal: 20 });
    expect((await get("/api/runs/adam-seed1-trace-gtrace/heatmap?cols=0")).status).toBe(400);
  });

  it("404s an unknown tensor and 400s a name with control characters", async () => {
    expect((await get("/api/runs/adam-seed1-trace-gtrace/tensors/nope/series")).status).toBe(404);
    expect((await get("/api/runs/adam-seed1-trace-gtrace/tensors/a%00b/series")).status).toBe(400);
    expect((await get("/api/runs/adam-seed1-trace-gtrace/tensors/a%0Ab/series")).status).toBe(400);
  });
});

describe("heatmap", () => {
  const expected = () => fixtureResult({ steps: 20, tensors: 3, seed: 20 });

  it("JSON: κ of each tensor (row) in each window (column) of the chosen predictor", async () => {
    const h = (
      await get("/api/runs/adam-seed1-trace-gtrace/heatmap?metric=kappa&predictor=last")
    ).json<HeatmapJson>();
    const e = expected();
    expect(h.rows).toBe(3);
    expect(h.tensors).toEqual(e.tensors.map((t) => t.name));
    expect(h.starts).toEqual(e.tensors[0].windows!.starts);
    expect(h.cols).toBe(h.starts.length);
    expect(h.span).toBe(8);
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < h.rows; r++) {
      for (let c = 0; c < h.cols; c++) {
        const v = e.tensors[r].windows!.kappa.last[c];
        expect(h.values[r * h.cols + c]).toBe(Number.isNaN(v) ? null : v);
        if (Number.isFinite(v)) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    expect([h.min, h.max]).toEqual([min, max]);
  });

  it("defaults to ema0.9 and serves the same numbers as float32 in the binary form", async () => {
    const res = await get("/api/runs/adam-seed1-trace-gtrace/heatmap?format=f32");
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    const { header, values } = decodeHeatmapBinary(new Uint8Array(res.body));
    expect(header.predictor).toBe("ema0.9");
    const e = expected();
    for (let r = 0; r < header.rows; r++) {
      for (let c = 0; c < header.cols; c++) {
        expect(values[r * header.cols + c]).toBe(Math.fround(e.tensors[r].windows!.kappa["ema0.9"][c]));
      }
    }
  });

  it("metric=gradNorm has one column per step; metric=rank one per window and ε", async () => {
    const g = (await get("/api/runs/adam-seed1-trace-gtrace/heatmap?metric=gradNorm")).json<HeatmapJson>();
    const e = expected();
    expect(g.cols).toBe(20);
    expect(g.values.slice(20, 40)).toEqual(e.tensors[1].gradNorm);
    const r = (
      await get("/api/runs/adam-seed1-trace-gtrace/heatmap?metric=rank&eps=0.01")
    ).json<HeatmapJson>();
    expect(r.eps).toBe(0.01);
    expect(r.values.slice(0, r.cols)).toEqual(e.tensors[0].windows!.starts.map((s) => (s % 7) + 1));
  });

  it("refuses unknown metrics, predictors not analyzed and ε not analyzed with 400", async () => {
    for (const q of ["metric=loss", "metric=kappa&predictor=ar9", "metric=rank&eps=0.3", "format=xml"]) {
      const res = await get(`/api/runs/adam-seed1-trace-gtrace/heatmap?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json<{ error: { code: string } }>().error.code).toBe("E_ARG");
    }
  });
});

describe("labs", () => {
  it("normalises a spiked-lab sweep file", async () => {
    const res = await get("/api/labs/nu-sweep-lab-json");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      id: "nu-sweep-lab-json",
      path: "nu-sweep.lab.json",
      title: "spike strength",
      parameter: "nu",
      values: [0, 0.3],
      xLabels: null,
      norms: [],
      singularValues: [
        { label: "σ1", y: [3, 4] },
        { label: "σ2", y: [1, 2.5] },
      ],
      cosines: [
        { label: "q", y: [0.1, 0.8] },
        { label: "residue", y: [0.9, 0.7] },
      ],
    });
    expect((await get("/api/labs/nope")).status).toBe(404);
    expect(res.body.toString()).not.toContain(dir);
  });
});

describe("refusals", () => {
  it.each([
    ["../etc/passwd", "/api/runs/../../etc/passwd/summary"],
    ["encoded dots", "/api/runs/%2e%2e/summary"],
    ["encoded slash", "/api/runs/..%2f..%2fetc/summary"],
    ["double-encoded", "/api/runs/%252e%252e/summary"],
    ["absolute path", "/api/runs/%2Fetc%2Fpasswd/summary"],
    ["null byte", "/api/runs/adam-seed1-trace-gtrace%00/summary"],
    ["upper case", "/api/runs/ADAM-SEED1-TRACE-GTRACE/summary"],
    ["backslash", "/api/runs/..%5c..%5cwindows/summary"],
    ["unknown run", "/api/runs/no-such-run/summary"],
    ["lab traversal", "/api/labs/..%2fsecret.txt"],
  ])("refuses a bad run id (%s) with a 4xx JSON error and never serves a file", async (_label, p) => {
    const res = await get(p);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.toString()).not.toContain("root:");
    expect(res.body.toString()).not.toContain("do not serve");
  });

  it.each([
    "/api/runs/adam-seed1-trace-gtrace/tensors/..%2f..%2f..%2fsecret.txt/series",
    "/api/runs/adam-seed1-trace-gtrace/tensors/%2Fetc%2Fpasswd/series",
    "/api/runs/adam-seed1-trace-gtrace/tensors/%E0%A4%A/series",
    "/api/runs/adam-seed1-trace-gtrace/tensors/%/series",
    "/api/runs/adam-seed1-trace-gtrace/heatmap?predictor=..%2F..%2Fsecret.txt",
    "/api/runs/%E0%A4%A/summary",
  ])("treats tensor names and query values as names, never paths: %s is a 4xx", async (p) => {
    const res = await get(p);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.toString()).not.toContain("do not serve");
  });

  it.each([
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/..%2f..%2fsecret.txt",
    "/assets/%2e%2e/%2e%2e/secret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/index.html%00.js",
    "/.gradtrace-cache/adam-seed1-trace-gtrace.json",
    "/adam/seed1/trace.gtrace",
  ])("serves only the built page files: %s is 404", async (p) => {
    const res = await get(p);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain("do not serve");
  });

  it("serves the page and its assets with safe headers", async () => {
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain("<title>gradtrace</title>");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect((await get("/assets/app.js")).headers["content-type"]).toMatch(/javascript/);
  });

  it("allows only GET and HEAD", async () => {
    const res = await rawGet(server.port, "/api/runs", { method: "POST" });
    expect(res.status).toBe(405);
    const head = await rawGet(server.port, "/api/runs", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect((await rawGet(server.port, "/api/runs", { method: "DELETE" })).status).toBe(405);
  });

  it("refuses a Host header that is not a loopback name (DNS rebinding)", async () => {
    expect((await get("/api/runs", { Host: "evil.example:80" })).status).toBe(403);
    expect((await get("/api/runs", { Host: `localhost:${server.port}` })).status).toBe(200);
  });

  it("404s unknown API endpoints", async () => {
    expect((await get("/api/nothing")).status).toBe(404);
    expect((await get("/api/runs/adam-seed1-trace-gtrace/other")).status).toBe(404);
  });
});

describe("cache", () => {
  it("reuses cached results on restart without analyzing, and rebuilds them when the cache is deleted", async () => {
    const cacheDir = path.join(dir, ".gradtrace-cache");
    expect(fs.existsSync(path.join(cacheDir, "sgd-run-gtrace.json"))).toBe(true);
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const again = fakeEngine();
    const second = await startServer({ path: dir, engine: again, webDir });
    try {
      await second.store.idle();
      // Only the failed run is retried; the others come from the cache.
      expect(again.calls.map((c) => path.relative(dir, c))).toEqual(["broken.gtrace"]);
      const s = (await rawGet(second.port, "/api/runs/sgd-run-gtrace/summary")).json<SummaryResponse>();
      expect(s.total.kappa).toEqual(fixtureResult({ steps: 12, tensors: 2, seed: 12 }).total.kappa);
    } finally {
      await second.close();
    }
    fs.rmSync(cacheDir, { recursive: true });
    const third = fakeEngine();
    const rebuilt = await startServer({ path: dir, engine: third, webDir });
    try {
      await rebuilt.store.idle();
      expect(third.calls.length).toBe(3);
      expect(fs.existsSync(path.join(cacheDir, "sgd-run-gtrace.meta.json"))).toBe(true);
    } finally {
      await rebuilt.close();
    }
  });

  it("serves the per-window ranks from the analysis result, with no pass of its own, also after a restart", async () => {
    const e = fakeEngine();
    const s = await startServer({ path: dir, engine: e, webDir });
    try {
      await s.store.idle();
      const analyzed = e.calls.length;
      const q = "/api/runs/sgd-run-gtrace/heatmap?metric=rank";
      const first = (await rawGet(s.port, q)).json<HeatmapJson>();
      const second = (await rawGet(s.port, `${q}&eps=0.01`)).json<HeatmapJson>();
      expect(e.calls.length).toBe(analyzed);
      expect(first.eps).toBe(0.1);
      expect(second.eps).toBe(0.01);
      expect(first.values.slice(0, first.cols)).toEqual(first.starts.map((st) => (st % 7) + 1));
    } finally {
      await s.close();
    }
    const again = fakeEngine();
    const restarted = await startServer({ path: dir, engine: again, webDir });
    try {
      await restarted.store.idle();
      const h = (
        await rawGet(restarted.port, "/api/runs/sgd-run-gtrace/heatmap?metric=rank")
      ).json<HeatmapJson>();
      // Only the failed run is retried; the rank heatmap needs nothing beyond the cached result.
      expect(again.calls.map((c) => path.relative(dir, c))).toEqual(["broken.gtrace"]);
      expect(h.values.slice(0, h.cols)).toEqual(h.starts.map((st) => (st % 7) + 1));
    } finally {
      await restarted.close();
    }
  });

  it("treats cache files of an older cache version as stale and re-analyzes those runs", async () => {
    const cacheDir = path.join(dir, ".gradtrace-cache");
    for (const suffix of [".json", ".meta.json"]) {
      const file = path.join(cacheDir, `sgd-run-gtrace${suffix}`);
      const v = JSON.parse(fs.readFileSync(file, "utf8")) as { cacheVersion: number };
      expect(v.cacheVersion).toBe(CACHE_VERSION);
      fs.writeFileSync(file, JSON.stringify({ ...v, cacheVersion: CACHE_VERSION - 1 }));
    }
    const e = fakeEngine();
    const s = await startServer({ path: dir, engine: e, webDir });
    try {
      await s.store.idle();
      expect(e.calls.map((c) => path.relative(dir, c)).sort()).toEqual(["broken.gtrace", "sgd/run.gtrace"]);
      const v = JSON.parse(fs.readFileSync(path.join(cacheDir, "sgd-run-gtrace.json"), "utf8"));
      expect(v.cacheVersion).toBe(CACHE_VERSION);
    } finally {
      await s.close();
    }
  });

  it("re-analyzes a run whose trace changed while the server was down", async () => {
    const trace = path.join(dir, "sgd", "run.gtrace");
    fs.appendFileSync(trace, "steps=14\n");
    const e = fakeEngine();
    const s = await startServer({ path: dir, engine: e, webDir });
    try {
      await s.store.idle();
      expect(e.calls.map((c) => path.relative(dir, c)).sort()).toEqual(["broken.gtrace", "sgd/run.gtrace"]);
      const entry = (await rawGet(s.port, "/api/runs"))
        .json<RunsResponse>()
        .runs.find((r) => r.id === "sgd-run-gtrace")!;
      expect(entry.steps).toBe(14);
    } finally {
      await s.close();
    }
  });
});

describe("live mode", () => {
  it("pushes an update over SSE within a second of the trace growing, and serves the new result", async () => {
    const trace = path.join(dir, "adam", "seed1", "trace.gtrace");
    const sse = openSse(server.port, "/api/runs/adam-seed1-trace-gtrace/events");
    await sse.ready;
    expect(sse.status).toBe(200);
    const first = JSON.parse((await sse.next((e) => e.event === "status")).data);
    const version = first.run.version as number;
    const t0 = Date.now();
    fs.appendFileSync(trace, "steps=26\n");
    const upd = await sse.next((e) => e.event === "update" && JSON.parse(e.data).run.version > version, 5000);
    const elapsed = Date.now() - t0;
    sse.close();
    expect(JSON.parse(upd.data).run.steps).toBe(26);
    // Loose bound (a loaded CI machine): the latency itself is measured by bench/dashboard.bench.ts.
    expect(elapsed).toBeLessThan(3000);
    const h = (await get("/api/runs/adam-seed1-trace-gtrace/heatmap?metric=gradNorm")).json<HeatmapJson>();
    expect(h.cols).toBe(26);
    expect(h.version).toBe(version + 1);
  });

  it("the overview stream announces runs that appear in the directory", async () => {
    const sse = openSse(server.port, "/api/events");
    await sse.ready;
    fs.mkdirSync(path.join(dir, "new"), { recursive: true });
    writeFakeTrace(path.join(dir, "new", "late.gtrace"), 9);
    const ev = await sse.next(
      (e) => JSON.parse(e.data).run.id === "new-late-gtrace" && JSON.parse(e.data).run.status === "ready",
      8000,
    );
    sse.close();
    expect(JSON.parse(ev.data).run.steps).toBe(9);
  });

  it("/api/runs also picks up new runs (throttled re-scan), without an open stream", async () => {
    writeFakeTrace(path.join(dir, "later.gtrace"), 7);
    const deadline = Date.now() + 8000;
    let entry: RunsResponse["runs"][number] | undefined;
    while (!entry && Date.now() < deadline) {
      entry = (await get("/api/runs")).json<RunsResponse>().runs.find((r) => r.id === "later-gtrace");
      if (!entry) await new Promise((r) => setTimeout(r, 200));
    }
    expect(entry?.path).toBe("later.gtrace");
    const s = (await get("/api/runs/later-gtrace/summary")).json<SummaryResponse>();
    expect(s.trace.steps).toBe(7);
  });

  it("refuses event streams of unknown runs", async () => {
    expect((await get("/api/runs/nope/events")).status).toBe(404);
  });
});

describe("the page", () => {
  it("refuses to start without a built page instead of serving a blank one; webDir null serves the API only", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-nopage-"));
    try {
      await expect(startServer({ path: dir, engine: fakeEngine(), webDir: empty })).rejects.toMatchObject({
        code: "E_NOT_FOUND",
        message: `serve: ${empty} holds no index.html (not a built dashboard page)`,
      });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    const apiOnly = await startServer({ path: dir, engine: fakeEngine(), webDir: null });
    try {
      expect((await rawGet(apiOnly.port, "/api/runs")).status).toBe(200);
      expect((await rawGet(apiOnly.port, "/")).status).toBe(404);
    } finally {
      await apiOnly.close();
    }
  });
});

describe("tokens and binding", () => {
  it("refuses to bind a non-loopback host without a token, and short tokens", async () => {
    await expect(startServer({ path: dir, engine: fakeEngine(), webDir, host: "0.0.0.0" })).rejects.toThrow(
      /--token/,
    );
    await expect(startServer({ path: dir, engine: fakeEngine(), webDir, token: "short" })).rejects.toThrow(
      /16/,
    );
  });

  it("requires the token on every API request, as a Bearer header or ?token=, but not for the page", async () => {
    const token = "0123456789abcdef0123";
    const s = await startServer({ path: dir, engine: fakeEngine(), webDir, token });
    try {
      expect(s.url).toBe(`http://127.0.0.1:${s.port}/?token=${token}`);
      expect((await rawGet(s.port, "/api/runs")).status).toBe(401);
      expect((await rawGet(s.port, "/api/runs?token=wrong-token-wrong-token")).status).toBe(401);
      expect((await rawGet(s.port, "/api/runs", { headers: { Authorization: "Bearer nope" } })).status).toBe(
        401,
      );
      expect((await rawGet(s.port, `/api/runs?token=${token}`)).status).toBe(200);
      expect(
        (await rawGet(s.port, "/api/runs", { headers: { Authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      expect((await rawGet(s.port, "/api/runs/adam-seed1-trace-gtrace/events")).status).toBe(401);
      expect((await rawGet(s.port, "/")).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
