/** @file The HTTP application (hono): security middleware, the JSON API of docs/dashboard.md, the SSE streams of
 * live mode, and the built page. Everything is GET; every name a request carries is validated and then looked up
 * in the store's maps, never used as a path. */
import * as fs from "node:fs";
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { DEFAULT_ADVISE_OPTIONS } from "../analysis/index.ts";
import { GradtraceError } from "../core/index.ts";
import type { QueueMonitor } from "../parallel/index.ts";
import type {
  AdviseResponse,
  ApiError,
  HeatmapJson,
  HeatmapMetric,
  LabResponse,
  QueueResponse,
  RunsResponse,
  ServerInfo,
} from "./api-types.ts";
import { hostAllowed, requestToken, tokenMatches } from "./auth.ts";
import type { StaticFile } from "./static.ts";
import type { RunStore } from "./store.ts";
import {
  oneOf,
  optionalFraction,
  optionalInteger,
  stepRange,
  validateId,
  validateTensorName,
} from "./validate.ts";
import {
  encodeHeatmapBinary,
  heatmapView,
  MAX_HEATMAP_COLS,
  MAX_SERIES_POINTS,
  seriesView,
  summaryView,
} from "./views.ts";

export interface AppOptions {
  readonly store: RunStore;
  /** URL path → built file (see static.ts). */
  readonly files: ReadonlyMap<string, StaticFile>;
  /** When set, every /api request must carry it. */
  readonly token?: string;
  /** Refuse Host headers that are not loopback names (DNS rebinding); on for loopback binds without a token. */
  readonly checkHost?: boolean;
  /** SSE keep-alive comment period. */
  readonly pingMs?: number;
  /** The Redis queue `/api/queue` shows (serve --queue); none: `/api/queue` answers 404. */
  readonly queue?: QueueMonitor | null;
}

const STATUS_FOR: Record<string, 400 | 404 | 422 | 500 | 503> = {
  E_ARG: 400,
  E_NOT_FOUND: 404,
  E_FORMAT: 422,
  E_TRUNCATED: 422,
  E_CHECKSUM: 422,
  E_SHAPE: 422,
  E_NUMERIC: 422,
  E_UNSUPPORTED: 422,
  // The queue's Redis is down or refuses the password: the rest of the server is fine.
  E_QUEUE: 503,
};

const METRICS: readonly HeatmapMetric[] = ["kappa", "rank", "gradNorm"];

function errorBody(code: string, message: string): ApiError {
  return { error: { code, message } };
}

export function createApp({
  store,
  files,
  token,
  checkHost = false,
  pingMs = 15_000,
  queue = null,
}: AppOptions): Hono {
  const app = new Hono();
  const binaryCache = new LruCache<Uint8Array>(8);

  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    // The token may be in the page URL: never send it on in a Referer.
    c.header("Referrer-Policy", "no-referrer");
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    if (c.req.path.startsWith("/api/")) c.header("Cache-Control", "no-store");
  });

  app.use("*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      return c.json(errorBody("E_ARG", `${c.req.method}: only GET and HEAD are served`), 405, {
        Allow: "GET, HEAD",
      });
    }
    if (checkHost && !hostAllowed(c.req.header("host"))) {
      return c.json(
        errorBody("E_ARG", "Host header: expected a loopback name (127.0.0.1, localhost, [::1])"),
        403,
      );
    }
    await next();
  });

  app.use("/api/*", async (c, next) => {
    if (
      token !== undefined &&
      !tokenMatches(token, requestToken(c.req.header("authorization"), c.req.query("token")))
    ) {
      return c.json(
        errorBody("E_ARG", "token: missing or wrong (pass ?token= or Authorization: Bearer)"),
        401,
        {
          "WWW-Authenticate": "Bearer",
        },
      );
    }
    await next();
  });

  const runId = (c: Context): string => {
    const id = validateId(c.req.param("id") ?? "");
    if (!store.has(id)) throw new GradtraceError("E_NOT_FOUND", `run ${JSON.stringify(id)}: no such run`);
    return id;
  };

  app.get("/api/runs", (c) => {
    store.rediscover();
    return c.json<RunsResponse>({ runs: store.list(), labs: store.labList() });
  });

  app.get("/api/runs/:id/summary", async (c) => {
    const id = runId(c);
    const { cached } = await store.result(id);
    return c.json(summaryView(cached, store.entry(id)));
  });

  app.get("/api/runs/:id/tensors/:name/series", async (c) => {
    const id = runId(c);
    const name = validateTensorName(c.req.param("name") ?? "");
    const range = stepRange(c.req.query("from"), c.req.query("to"));
    const points = optionalInteger(c.req.query("points"), "points", { min: 16, max: MAX_SERIES_POINTS });
    const { cached, version } = await store.result(id);
    return c.json(seriesView(cached, id, version, name, { ...range, ...(points ? { points } : {}) }));
  });

  app.get("/api/runs/:id/heatmap", async (c) => {
    const id = runId(c);
    const metric = oneOf(c.req.query("metric"), METRICS, "metric", "kappa");
    const format = oneOf(c.req.query("format"), ["json", "f32"] as const, "format", "json");
    const range = stepRange(c.req.query("from"), c.req.query("to"));
    const cols = optionalInteger(c.req.query("cols"), "cols", { min: 1, max: MAX_HEATMAP_COLS });
    const { cached, version } = await store.result(id);
    const options = cached.result.options;
    let predictor: string | undefined;
    let eps: number | undefined;
    if (metric === "kappa") {
      predictor = oneOf(
        c.req.query("predictor"),
        options.predictors,
        "predictor",
        defaultPredictor(options.predictors),
      );
    } else if (metric === "rank") {
      const epsText = c.req.query("eps");
      const allowed = options.eps.map(String);
      eps = Number(oneOf(epsText, allowed, "eps", allowed[0]));
    }
    if (format === "f32") {
      // Encoded heatmaps are kept per result version: re-opening a big run does not rebuild 8 MB each time.
      const key = `${id}|${cached.fingerprint}|${version}|${metric}|${predictor ?? ""}|${eps ?? ""}|${range.from ?? ""}|${range.to ?? ""}|${cols ?? ""}`;
      let bytes = binaryCache.get(key);
      if (!bytes) {
        bytes = encodeHeatmapBinary(
          heatmapView(cached, id, version, { metric, predictor, eps, ...range, cols }),
        );
        binaryCache.set(key, bytes);
      }
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": "application/octet-stream" });
    }
    const matrix = heatmapView(cached, id, version, { metric, predictor, eps, ...range, cols });
    const values = Array.from(matrix.values, (v) => (Number.isFinite(v) ? v : null));
    return c.json<HeatmapJson>({ ...matrix.header, values });
  });

  const sse = (c: Context, run: string | null) =>
    streamSSE(c, async (stream) => {
      let finish: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const send = (event: string, entry: ReturnType<RunStore["entry"]>) =>
        stream.writeSSE({ event, data: JSON.stringify({ run: entry }), id: `${entry.id}:${entry.version}` });
      await stream.write("retry: 1000\n\n");
      for (const entry of run === null ? store.list() : [store.entry(run)]) await send("status", entry);
      const unsubscribe = store.subscribe(
        run,
        (entry) => {
          send("update", entry).catch(() => finish());
        },
        (live) => {
          stream.writeSSE({ event: "live", data: JSON.stringify(live) }).catch(() => finish());
        },
      );
      const ping = setInterval(() => {
        stream.write(": ping\n\n").catch(() => finish());
      }, pingMs);
      stream.onAbort(() => finish());
      await done;
      clearInterval(ping);
      unsubscribe();
    });

  app.get("/api/runs/:id/advise", async (c) => {
    const id = runId(c);
    const target = optionalFraction(c.req.query("target"), "target", DEFAULT_ADVISE_OPTIONS.target);
    return c.json<AdviseResponse>(await store.adviseRun(id, target));
  });

  app.get("/api/runs/:id/events", (c) => sse(c, runId(c)));
  app.get("/api/events", (c) => sse(c, null));

  app.get("/api/labs/:id", (c) => {
    const id = validateId(c.req.param("id") ?? "", "lab id");
    const lab = store.lab(id);
    return c.json<LabResponse>(lab);
  });

  app.get("/api/server", (c) => c.json<ServerInfo>({ queue: queue ? queue.target.display : null }));

  app.get("/api/queue", async (c) => {
    if (!queue) {
      throw new GradtraceError(
        "E_NOT_FOUND",
        "/api/queue: this server shows no queue (start it with gradtrace serve … --queue redis://HOST:PORT)",
      );
    }
    return c.json<QueueResponse>(await queue.overview());
  });

  app.all("/api/*", (c) => c.json(errorBody("E_NOT_FOUND", `${c.req.path}: no such endpoint`), 404));

  app.get("*", (c) => {
    const file = files.get(c.req.path);
    if (!file) return c.text("not found", 404);
    const body = fs.readFileSync(file.absPath);
    // Hashed asset names never change content; the HTML must be re-fetched to pick up a new build.
    const cache = c.req.path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
    return c.body(body, 200, { "Content-Type": file.contentType, "Cache-Control": cache });
  });

  app.onError((err, c) => {
    if (err instanceof GradtraceError) {
      return c.json(errorBody(err.code, err.message), STATUS_FOR[err.code] ?? 500);
    }
    return c.json(errorBody("E_INTERNAL", err instanceof Error ? err.message : String(err)), 500);
  });

  return app;
}

/** ema0.9 when analyzed (the dashboard's reference predictor), else the first non-trivial one. */
export function defaultPredictor(predictors: readonly string[]): string {
  if (predictors.includes("ema0.9")) return "ema0.9";
  return predictors.find((p) => p !== "zero") ?? predictors[0] ?? "zero";
}

/** A tiny least-recently-used map (insertion order of a Map is the recency order). */
class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
}
