/** @file The worker thread that runs analyses for the server (see workerEngine in engine.ts): the exact pass is
 * CPU-bound and synchronous, and running it here keeps the server answering requests and streaming events while a
 * big run is being analysed. Messages in: { id, kind: "analyze", absPath, options }; out:
 * { id, ok: true, value } or { id, ok: false, code, message }. */
import { parentPort } from "node:worker_threads";
import { GradtraceError } from "../core/index.ts";
import { traceEngine, type WorkerReply, type WorkerRequestBody } from "./engine.ts";

const port = parentPort;
if (port) {
  port.on("message", async (req: WorkerRequestBody & { id: number }) => {
    try {
      const value = await traceEngine.analyze(req.absPath, req.options);
      port.postMessage({ id: req.id, ok: true, value } satisfies WorkerReply);
    } catch (err) {
      port.postMessage({
        id: req.id,
        ok: false,
        code: err instanceof GradtraceError ? err.code : null,
        message: err instanceof Error ? err.message : String(err),
      } satisfies WorkerReply);
    }
  });
  port.postMessage({ id: 0, ok: true, value: "ready" } satisfies WorkerReply);
}
