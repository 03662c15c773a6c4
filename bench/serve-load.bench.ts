/** @file The dashboard under load (issue 15), on loopback: `gradtrace serve` (the real CLI, its own process, so its
 * RSS is its own) serving a directory with a gtrace trace that grows by one step every 250 ms, while 200 API
 * clients request /api/runs, the summary, a series and both heatmap encodings in closed loops (0–100 ms think time),
 * and 50 SSE subscribers (half on the run's stream with live events, half on the overview stream) stay connected.
 * Duration: GRADTRACE_LOAD_SECONDS (default 300; GRADTRACE_BENCH_QUICK=1: 30). Reported: requests and errors (any
 * status but 200, any refused connection or dropped stream), p50 / p99 latency — with the p99 of the same requests
 * from one client on the idle server, measured first in the same run, as the reference — SSE events received, and
 * the server's RSS sampled every second: at the end of warm-up (the first fifth), at the end, and the least-squares
 * slope after warm-up (flat = no leak while the trace keeps growing). To tell a leak from the growing run's own state,
 * GRADTRACE_LOAD_GROW_MS sets the trace's growth interval (default 250; 0 = a trace that does not grow) and
 * GRADTRACE_LOAD_CLIENTS the number of API clients (default 200; 0 = the growing trace and the SSE subscribers
 * only). */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { createGtraceWriter } from "../src/trace/index.ts";
import { makeGradients, SMALL_MODEL } from "../test/serve/traces.ts";
import type { BenchRow } from "./types.ts";

const BIN = path.resolve(import.meta.dirname, "../bin/gradtrace.js");
const CLIENTS = Number(process.env.GRADTRACE_LOAD_CLIENTS ?? 200);
const GROW_MS = Number(process.env.GRADTRACE_LOAD_GROW_MS ?? 250);
const SUBSCRIBERS = 50;
const RUN = "run-gtrace";
const ROUTES = [
  "/api/runs",
  `/api/runs/${RUN}/summary`,
  `/api/runs/${RUN}/tensors/@total/series`,
  `/api/runs/${RUN}/heatmap?metric=kappa`,
  `/api/runs/${RUN}/heatmap?metric=gradNorm&format=f32`,
];

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

interface Answer {
  readonly status: number;
  readonly ms: number;
  /** Start of the body of a failed request (or the connection error), for the report. */
  readonly why?: string;
}

function get(agent: http.Agent, port: number, route: string): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: route, agent }, (res) => {
      let head = "";
      res.setEncoding("latin1");
      res.on("data", (c: string) => {
        if (res.statusCode !== 200 && head.length < 300) head += c;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          ms: performance.now() - t0,
          ...(res.statusCode !== 200 ? { why: `${route} ${res.statusCode}: ${head.slice(0, 200)}` } : {}),
        }),
      );
      res.on("error", (e) =>
        resolve({ status: -1, ms: performance.now() - t0, why: `${route}: ${e.message}` }),
      );
    });
    req.on("error", (e) =>
      resolve({ status: -1, ms: performance.now() - t0, why: `${route}: ${e.message}` }),
    );
  });
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

function slopePerMinute(samples: { t: number; rss: number }[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mr = samples.reduce((s, x) => s + x.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const { t, rss } of samples) {
    num += (t - mt) * (rss - mr);
    den += (t - mt) ** 2;
  }
  return den > 0 ? (num / den) * 60_000 : 0;
}

async function startServe(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [BIN, "serve", dir, "-q"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`gradtrace serve exited (${code}): ${out}`)));
  });
  return { child, port };
}

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const seconds = Number(process.env.GRADTRACE_LOAD_SECONDS ?? (quick ? 30 : 300));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-load-"));
  const file = path.join(dir, "run.gtrace");
  const spec = { tensors: SMALL_MODEL, seed: 3 };
  const grad = makeGradients(spec);
  const writer = createGtraceWriter(file, { tensors: spec.tensors, fsync: "none" });
  let step = 0;
  for (; step < 40; step++) writer.append(step, grad(step), { loss: 1 / (1 + step) });
  const { child, port } = await startServe(dir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 10 });
  try {
    // Wait for the first analysis, then the idle reference: the same routes from one client, one at a time.
    for (let i = 0; i < 600; i++) {
      if ((await get(agent, port, `/api/runs/${RUN}/summary`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const idle: number[] = [];
    for (let i = 0; i < 200; i++) idle.push((await get(agent, port, ROUTES[i % ROUTES.length])).ms);

    const started = Date.now();
    const deadline = started + seconds * 1000;
    const latencies: number[] = [];
    const byRoute = new Map<string, number[]>(ROUTES.map((r) => [r, []]));
    let errors = 0;
    const whys: string[] = [];
    let sseEvents = 0;
    let sseErrors = 0;
    const rss: { t: number; rss: number }[] = [];
    const grow = setInterval(() => {
      if (GROW_MS === 0) return;
      writer.append(step, grad(step), { loss: 1 / (1 + step) });
      step++;
    }, GROW_MS || 1000);
    const sample = setInterval(() => rss.push({ t: Date.now() - started, rss: rssOf(child.pid!) }), 1000);

    const streams: http.ClientRequest[] = [];
    for (let k = 0; k < SUBSCRIBERS; k++) {
      const route = k % 2 === 0 ? `/api/runs/${RUN}/events` : "/api/events";
      const req = http.get({ host: "127.0.0.1", port, path: route, agent: false }, (res) => {
        if (res.statusCode !== 200) sseErrors++;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          sseEvents += chunk.split("\nevent: ").length - 1 + (chunk.startsWith("event: ") ? 1 : 0);
        });
        res.on("end", () => {
          if (Date.now() < deadline) sseErrors++;
        });
      });
      req.on("error", () => {
        if (Date.now() < deadline) sseErrors++;
      });
      streams.push(req);
    }
    const client = async (k: number) => {
      let i = k;
      while (Date.now() < deadline) {
        const route = ROUTES[i++ % ROUTES.length];
        const r = await get(agent, port, route);
        if (r.status === 200) {
          latencies.push(r.ms);
          byRoute.get(route)!.push(r.ms);
        } else {
          errors++;
          if (whys.length < 3 && r.why) whys.push(r.why);
        }
        await new Promise((res) => setTimeout(res, Math.random() * 100));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
    // With no API clients the run lasts its time all the same (the growing trace and the subscribers).
    while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    clearInterval(grow);
    clearInterval(sample);
    for (const s of streams) s.destroy();

    const warm = rss.filter((s) => s.t <= seconds * 200);
    const after = rss.filter((s) => s.t > seconds * 200);
    const mib = (b: number) => b / 2 ** 20;
    const warmRss = warm.at(-1)?.rss ?? Number.NaN;
    const endRss = rss.at(-1)?.rss ?? Number.NaN;
    const p99 = quantile(latencies, 0.99);
    const idleP99 = quantile(idle, 0.99);
    const latencyRows: BenchRow[] =
      latencies.length === 0
        ? []
        : [
            {
              name: `API p99 latency, ${CLIENTS} clients + ${SUBSCRIBERS} SSE subscribers, trace growing (${seconds} s)`,
              value: p99,
              unit: "ms",
              ratio: p99 / idleP99,
              reference: `p99 of one client on the idle server (${idleP99.toFixed(1)} ms)`,
              note: `p50 ${quantile(latencies, 0.5).toFixed(1)} ms; ${latencies.length} requests (${(latencies.length / seconds).toFixed(0)}/s); trace grew to ${step} steps; p99 by route: ${[
                ...byRoute,
              ]
                .map(
                  ([r, xs]) => `${r.replace(`/api/runs/${RUN}`, "…")} ${quantile(xs, 0.99)?.toFixed(0)} ms`,
                )
                .join(", ")}`,
            },
          ];
    return [
      ...latencyRows,
      {
        name: "errors (API non-200 or refused, SSE dropped)",
        value: errors + sseErrors,
        unit: "errors",
        target: "0",
        note: `API ${errors}, SSE ${sseErrors}; SSE events received ${sseEvents}${whys.length > 0 ? `; first: ${whys.join(" | ")}` : ""}`,
      },
      {
        name: "server RSS at the end vs after warm-up (first fifth)",
        value: mib(endRss),
        unit: "MiB",
        ratio: endRss / warmRss,
        reference: `RSS after warm-up (${mib(warmRss).toFixed(0)} MiB)`,
        target: "≈ 1 (flat)",
        note: `max after warm-up ${mib(Math.max(...after.map((s) => s.rss))).toFixed(0)} MiB; slope after warm-up ${mib(slopePerMinute(after)).toFixed(2)} MiB/min; trace ${step} steps at the end`,
      },
    ];
  } finally {
    agent.destroy();
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
