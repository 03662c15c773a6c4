/** @file Starting and stopping the dashboard server: binds (loopback and a free port by default), refuses a
 * non-loopback bind without a token, and hands back the URL to open. */
import * as fs from "node:fs";
import type { AddressInfo } from "node:net";
import * as nodePath from "node:path";
import { serve } from "@hono/node-server";
import { GradtraceError } from "../core/index.ts";
import { openQueueMonitor } from "../parallel/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { createApp } from "./app.ts";
import { isLoopbackHost } from "./auth.ts";
import { type AnalysisEngine, type ServeAnalyzeOptions, workerEngine } from "./engine.ts";
import { defaultWebDir, staticFiles } from "./static.ts";
import { RunStore } from "./store.ts";

export interface ServeOptions {
  /** A trace, or a directory of runs (traces at any depth, spiked-lab JSON files). */
  readonly path: string;
  /** Interface to bind; anything but loopback requires `token`. */
  readonly host?: string;
  /** 0 = a free port chosen by the system. */
  readonly port?: number;
  /** Required on every /api request when set (`?token=` or `Authorization: Bearer`); at least 16 characters. */
  readonly token?: string;
  readonly analyzeOptions?: ServeAnalyzeOptions;
  /** Default `<dir>/.gradtrace-cache`. */
  readonly cacheDir?: string;
  /** Built page directory (default: this package's dist/web). Must hold index.html; `null` serves the API only. */
  readonly webDir?: string | null;
  /** Default: the trace engine in a worker thread (falls back to the main thread if no worker can start). */
  readonly engine?: AnalysisEngine;
  /** Live-mode poll period for watched runs, in ms. */
  readonly pollMs?: number;
  /** Opens a trace for live mode's incremental path (tests wrap the reader to count what is read). */
  readonly openLiveReader?: (absPath: string) => TraceReader;
  /** Show this Redis queue's runs, jobs and workers (`/api/queue`, the page's queue view); `staleMs`: a running
   * run not updated for this long shows as stale (default 30 s). */
  readonly queue?: { readonly url: string; readonly staleMs?: number };
  readonly log?: (message: string) => void;
}

export interface RunningServer {
  /** Page URL (with `?token=` when a token is set). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly store: RunStore;
  close(): Promise<void>;
}

export const MIN_TOKEN_LENGTH = 16;

/** What `host` and `port` of `ServeOptions` mean when left out: loopback, a free port. */
export const DEFAULT_SERVE_OPTIONS = Object.freeze({
  host: "127.0.0.1",
  port: 0,
} as const satisfies Partial<ServeOptions>);

export async function startServer({
  path,
  host = DEFAULT_SERVE_OPTIONS.host,
  port = DEFAULT_SERVE_OPTIONS.port,
  token,
  analyzeOptions = {},
  cacheDir,
  webDir: givenWebDir,
  engine: givenEngine,
  pollMs = 200,
  openLiveReader,
  queue,
  log = () => {},
}: ServeOptions): Promise<RunningServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GradtraceError("E_ARG", `serve --port ${port}: expected an integer in 0..65535`);
  }
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new GradtraceError("E_ARG", `serve --token: expected at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const loopback = isLoopbackHost(host);
  if (!loopback && token === undefined) {
    throw new GradtraceError(
      "E_ARG",
      `serve --host ${host}: not a loopback address; refusing to expose traces without --token`,
    );
  }
  const webDir = pageDirectory(givenWebDir);
  // Connects on the first /api/queue request and reconnects by itself: Redis being down never stops the server.
  const monitor = queue
    ? openQueueMonitor(queue.url, queue.staleMs === undefined ? {} : { staleMs: queue.staleMs })
    : null;
  if (monitor) log(`serve: the queue view shows ${monitor.target.display}`);
  const ownEngine = givenEngine ? null : workerEngine({ log });
  const engine = givenEngine ?? ownEngine!;
  const store = new RunStore({ root: path, engine, analyzeOptions, cacheDir, pollMs, openLiveReader, log });
  const app = createApp({
    store,
    files: webDir === null ? new Map() : staticFiles(webDir),
    token,
    checkHost: loopback && token === undefined,
    queue: monitor,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once("error", (err: NodeJS.ErrnoException) => {
      store.close();
      void ownEngine?.close();
      void monitor?.close();
      reject(
        new GradtraceError("E_ARG", `serve: cannot listen on ${host}:${port}: ${err.code ?? err.message}`),
      );
    });
  });
  // Keep idle keep-alive connections longer than clients do (Node's default 5 s races with a client reusing a socket
  // just as the server closes it: the client sees ECONNRESET; measured by bench/serve-load under 200 clients).
  if ("keepAliveTimeout" in server) {
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}/${token ? `?token=${encodeURIComponent(token)}` : ""}`;
  return {
    url,
    host: address.address,
    port: address.port,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        store.close();
        void monitor?.close();
        server.close(() => {
          if (ownEngine)
            ownEngine.close().then(
              () => resolve(),
              () => resolve(),
            );
          else resolve();
        });
        // Open SSE streams would otherwise hold close() forever.
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

/** The page directory to serve (null: API only). The page ships built (`npm run build` runs through `prepare` on
 * `npm ci` and `npm pack`), so a missing one is refused at start rather than discovered as a blank browser tab. */
function pageDirectory(given: string | null | undefined): string | null {
  if (given === null) return null;
  const dir = given ?? defaultWebDir();
  if (dir === null) {
    throw new GradtraceError(
      "E_NOT_FOUND",
      "serve: the dashboard page is not built (no dist/web/index.html beside the server); in a gradtrace checkout run `npm run build`",
    );
  }
  if (!fs.existsSync(nodePath.join(dir, "index.html"))) {
    throw new GradtraceError("E_NOT_FOUND", `serve: ${dir} holds no index.html (not a built dashboard page)`);
  }
  return dir;
}
