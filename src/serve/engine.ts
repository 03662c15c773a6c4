/** @file The analysis engine behind the server: opens a trace and runs `analyze()` (whose result carries everything
 * the page shows, the per-window ranks of the rank heatmap included). Behind an interface so tests can inject a
 * deterministic engine, and so the store never knows how traces are read. */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { AnalysisResult } from "../analysis/index.ts";
import { analyze } from "../analysis/index.ts";
import { type ErrorCode, GradtraceError } from "../core/index.ts";
import { openTrace } from "../trace/index.ts";

/** The analysis options the dashboard exposes (`gradtrace serve --predictors … --eps … --window …`). */
export interface ServeAnalyzeOptions {
  readonly predictors?: readonly string[];
  readonly eps?: readonly number[];
  readonly window?: number;
  readonly bootstrap?: boolean;
  readonly sketch?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly seed?: number;
}

export interface EngineOutput {
  readonly result: AnalysisResult;
  /** Step index (as logged) of each step position of the result. */
  readonly stepIndices: number[];
}

export interface AnalysisEngine {
  analyze(absPath: string, options: ServeAnalyzeOptions): Promise<EngineOutput>;
}

export const traceEngine: AnalysisEngine = {
  async analyze(absPath, options) {
    const reader = openTrace(absPath);
    try {
      const result = await analyze(reader, { ...options, matrixGeometry: true });
      const steps = reader.info.steps;
      // analyze() drops steps with NaN/Inf gradients; step numbers are then only known by position.
      const stepIndices =
        result.trace.steps === steps.length ? [...steps] : result.total.gradNorm.map((_, i) => i);
      return { result, stepIndices };
    } finally {
      reader.close();
    }
  },
};

export interface WorkerEngineOptions {
  /** Milliseconds to wait for the worker to start before falling back to analysing in the main thread. */
  readonly startTimeoutMs?: number;
  readonly log?: (message: string) => void;
}

export interface ClosableEngine extends AnalysisEngine {
  /** Where analyses run now: in the worker, or in the main thread after a failed start. */
  mode(): "worker" | "main-thread" | "not-started";
  close(): Promise<void>;
}

/**
 * The trace engine in a worker thread, so the server keeps answering while an analysis runs. The worker is
 * started once and reused (analyses are serialised by the store anyway). TypeScript sources are loaded through
 * tsx's loader, registered inside the worker; if the worker cannot start, or dies, the engine falls back to
 * analysing in the main thread (same results, less responsive) and says so through `log`.
 */
export function workerEngine({
  startTimeoutMs = 20_000,
  log = () => {},
}: WorkerEngineOptions = {}): ClosableEngine {
  let worker: Worker | null = null;
  let ready: Promise<boolean> | null = null;
  let nextId = 1;
  let fallback = false;
  let closed = false;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const start = (): Promise<boolean> => {
    ready ??= new Promise<boolean>((resolve) => {
      let settled = false;
      const settle = (ok: boolean, why?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          fallback = true;
          log(`serve: analysing in the main thread (${why})`);
          void worker?.terminate();
          worker = null;
        }
        resolve(ok);
      };
      const timer = setTimeout(
        () => settle(false, "the analysis worker did not start in time"),
        startTimeoutMs,
      );
      timer.unref();
      try {
        const tsxApi = tsxEsmApiUrl();
        const entry = new URL("./analysisWorker.ts", import.meta.url).href;
        // An eval'd bootstrap registers tsx in the worker itself (hooks are not inherited), then loads the entry.
        const w = new Worker(
          `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
          { eval: true },
        );
        worker = w;
        w.unref();
        w.on("message", (msg: WorkerReply) => {
          if (msg.id === 0) {
            settle(true);
            return;
          }
          const p = pending.get(msg.id);
          if (!p) return;
          pending.delete(msg.id);
          if (msg.ok) p.resolve(msg.value);
          else {
            const code = (msg.code ?? null) as ErrorCode | null;
            const message = msg.message ?? "analysis failed";
            p.reject(code ? new GradtraceError(code, message) : new Error(message));
          }
        });
        w.on("error", (err) => {
          settle(false, `the analysis worker failed: ${err.message}`);
          failAll(err);
        });
        w.on("exit", (code) => {
          if (worker === w) worker = null;
          settle(false, `the analysis worker exited with code ${code}`);
          failAll(new Error(`analysis worker exited with code ${code}`));
          // A later call starts a new worker (e.g. after an out-of-memory exit), unless the engine was closed.
          if (!closed) {
            ready = null;
            fallback = false;
          }
        });
      } catch (err) {
        settle(false, (err as Error).message);
      }
    });
    return ready;
  };

  const call = async <T>(req: WorkerRequestBody, inThread: () => Promise<T>): Promise<T> => {
    if (fallback || !(await start()) || !worker) return inThread();
    const id = nextId++;
    const w = worker;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: (v) => resolve(v as T), reject });
      w.ref(); // keep the process alive while an analysis is in flight
      w.postMessage({ ...req, id });
    }).finally(() => {
      if (pending.size === 0) w.unref();
    });
  };

  return {
    analyze: (absPath, options) =>
      call({ kind: "analyze", absPath, options }, () => traceEngine.analyze(absPath, options)),
    mode: () => (fallback ? "main-thread" : worker ? "worker" : "not-started"),
    async close() {
      const w = worker;
      worker = null;
      closed = true;
      fallback = true;
      failAll(new Error("analysis engine closed"));
      if (w) await w.terminate();
    },
  };
}

/** URL of tsx's ESM register API (`tsx/esm/api`, import condition), resolved from this package's dependencies. */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve("tsx/package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8")) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const rel = pkg.exports["./esm/api"]?.import?.default;
  if (!rel) throw new Error(`${pkgFile}: no "./esm/api" import export`);
  return pathToFileURL(path.join(path.dirname(pkgFile), rel)).href;
}

/** A request to the analysis worker (the `id` is added when sent). */
export type WorkerRequestBody = { kind: "analyze"; absPath: string; options: ServeAnalyzeOptions };

/** The worker's answer to request `id` (id 0: "ready"); errors keep their GradtraceError code. */
export interface WorkerReply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly code?: string | null;
  readonly message?: string;
}
