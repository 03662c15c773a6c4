/** @file The server on real gtrace traces analyzed by the real engine: summary, series and heatmaps equal a direct
 * `analyze()` of the same trace; the rank heatmap equals r*(ε) of each window's increment matrix computed by brute
 * force (ml-matrix's SVD of the explicit increments); and a trace being appended to by its writer is picked up
 * live, including a record caught half-written. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Matrix, SingularValueDecomposition } from "ml-matrix";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  HeatmapJson,
  RunsResponse,
  SeriesResponse,
  SummaryResponse,
} from "../../src/serve/api-types.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { openTrace } from "../../src/trace/index.ts";
import { openSse, rawGet } from "./http.ts";
import { analyzeFile, SMALL_MODEL, writeTrace } from "./traces.ts";

let dir: string;
let server: RunningServer;
const get = (p: string) => rawGet(server.port, p);

/** r*(ε) by definition from explicit singular values. */
function rankByDefinition(sigma: number[], eps: number): number {
  const sq = sigma.map((s) => s * s);
  const total = sq.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let head = 0;
  for (let k = 0; k < sq.length; k++) {
    if (total - head <= eps * total) return k;
    head += sq[k];
  }
  return sq.length;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-real-"));
  fs.mkdirSync(path.join(dir, "seed1"));
  fs.mkdirSync(path.join(dir, "seed2"));
  writeTrace(path.join(dir, "seed1", "run.gtrace"), { tensors: SMALL_MODEL, seed: 1 }, 40);
  writeTrace(path.join(dir, "seed2", "run.gtrace"), { tensors: SMALL_MODEL, seed: 2 }, 30);
  server = await startServer({ path: dir, webDir: null, pollMs: 50 });
  await server.store.idle();
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("real traces", () => {
  it("lists both runs with the whole-model numbers of analyze()", async () => {
    const runs = (await get("/api/runs")).json<RunsResponse>().runs;
    expect(runs.map((r) => r.id)).toEqual(["seed1-run-gtrace", "seed2-run-gtrace"]);
    for (const r of runs) {
      const e = await analyzeFile(path.join(dir, r.path));
      expect(r.status).toBe("ready");
      expect(r.steps).toBe(e.trace.steps);
      expect(r.kappa).toEqual(e.total.kappa);
      expect(r.kappaCI).toEqual(e.total.kappaCI);
      expect(r.predictableRank).toEqual(e.total.predictableRank);
      expect(r.effectiveRank).toBe(e.total.effectiveRank);
    }
  });

  it("summary, series and κ heatmap equal a direct analyze() of the trace", async () => {
    const e = await analyzeFile(path.join(dir, "seed1", "run.gtrace"));
    const s = (await get("/api/runs/seed1-run-gtrace/summary")).json<SummaryResponse>();
    expect(s.options).toEqual(e.options);
    expect(s.tensors.map((t) => [t.name, t.kappa, t.predictableRank])).toEqual(
      e.tensors.map((t) => [t.name, t.kappa, t.predictableRank]),
    );
    for (const t of e.tensors) {
      const series = (
        await get(`/api/runs/seed1-run-gtrace/tensors/${encodeURIComponent(t.name)}/series`)
      ).json<SeriesResponse>();
      expect(series.gradNorm).toEqual(t.gradNorm);
      expect(series.stepIndices).toEqual(t.gradNorm.map((_, i) => i));
      expect(series.windows?.kappa).toEqual(t.windows?.kappa);
      expect(series.increments).toEqual(t.increments);
      expect(series.matrix).toEqual(t.matrix ?? null);
    }
    expect(e.tensors[0].matrix?.staleEnergy.energy.length).toBeGreaterThan(0);
    const h = (
      await get("/api/runs/seed1-run-gtrace/heatmap?metric=kappa&predictor=last")
    ).json<HeatmapJson>();
    expect(h.values).toEqual(e.tensors.flatMap((t) => t.windows!.kappa.last));
  });

  it("rank heatmap: r*(ε) of each window's increments, as brute force from the explicit gradients", async () => {
    const file = path.join(dir, "seed1", "run.gtrace");
    const e = await analyzeFile(file);
    const reader = openTrace(file);
    try {
      for (const eps of e.options.eps) {
        const h = (
          await get(`/api/runs/seed1-run-gtrace/heatmap?metric=rank&eps=${eps}`)
        ).json<HeatmapJson>();
        expect(h.starts).toEqual(e.tensors[0].windows!.starts);
        e.tensors.forEach((t, row) => {
          const w = t.windows!;
          w.starts.forEach((s, col) => {
            const size = Math.min(w.size, t.steps - s);
            const cols: number[][] = [];
            for (let i = s + 1; i < s + size; i++) {
              const a = reader.readTensor(i, t.name);
              const b = reader.readTensor(i - 1, t.name);
              cols.push(Array.from(a, (x, k) => x - b[k]));
            }
            const svd = new SingularValueDecomposition(new Matrix(cols).transpose(), { autoTranspose: true });
            expect(h.values[row * h.cols + col], `${t.name} window ${col} ε=${eps}`).toBe(
              rankByDefinition(svd.diagonal, eps),
            );
          });
        });
      }
    } finally {
      reader.close();
    }
  });
});

describe("live mode on a trace being written", () => {
  it("pushes updates while the writer appends, survives a half-written record, and ends equal to analyze()", async () => {
    const file = path.join(dir, "live.gtrace");
    const { writer, grad } = writeTrace(file, { tensors: SMALL_MODEL, seed: 5 }, 12, { keepOpen: true });
    const overview = openSse(server.port, "/api/events");
    await overview.ready;
    await overview.next((ev) => {
      const run = JSON.parse(ev.data).run;
      return run.id === "live-gtrace" && run.status === "ready";
    });
    overview.close();
    const sse = openSse(server.port, "/api/runs/live-gtrace/events");
    await sse.ready;
    const v0 = JSON.parse((await sse.next((ev) => ev.event === "status")).data).run.version as number;
    const t0 = Date.now();
    for (let s = 12; s < 20; s++) writer.append(s, grad(s));
    const upd = await sse.next((ev) => ev.event === "update" && JSON.parse(ev.data).run.steps === 20, 5000);
    expect(Date.now() - t0).toBeLessThan(3000); // loose: the latency is measured by the benchmark
    expect(JSON.parse(upd.data).run.version).toBeGreaterThan(v0);

    // A record caught half-written (a writer killed mid-record): the reader skips it, the server keeps serving.
    writer.close();
    const whole = fs.readFileSync(file);
    const v1 = JSON.parse(upd.data).run.version as number;
    fs.appendFileSync(file, whole.subarray(whole.length - 40));
    const after = await sse.next((ev) => ev.event === "update" && JSON.parse(ev.data).run.version > v1, 5000);
    sse.close();
    const run = JSON.parse(after.data).run;
    expect(run.steps).toBe(20);
    const e = await analyzeFile(file);
    expect(e.trace.problems.length).toBeGreaterThan(0);
    const summary = (await get("/api/runs/live-gtrace/summary")).json<SummaryResponse>();
    // Same problems, with the served directory's absolute path left out.
    const strip = (text: string) => text.split(`${dir}/`).join("");
    expect(summary.trace.problems).toEqual(
      e.trace.problems.map((p) => ({
        ...p,
        message: strip(p.message),
        ...(p.file ? { file: strip(p.file) } : {}),
      })),
    );
    expect(JSON.stringify(summary)).not.toContain(dir);
    const h = (await get("/api/runs/live-gtrace/heatmap?metric=gradNorm")).json<HeatmapJson>();
    expect(h.values).toEqual(e.tensors.flatMap((t) => t.gradNorm));
  });
});
