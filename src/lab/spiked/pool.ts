/** @file Runs many spiked-lab configurations on a small pool of child processes (default 2: this machine's cores),
 * each a fresh Node with the tsx loader running sweepWorker.ts. Child processes rather than worker_threads because
 * the TypeScript loader that the CLI registers in-process is not inherited by worker threads, while `--import` of
 * tsx's loader is honoured by a forked process. jobs = 1 (or a custom activation, whose functions cannot be sent to
 * another process) runs everything in this process. */
import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ErrorCode, GradtraceError } from "../../core/index.ts";
import { runSpiked, type SpikedConfig, type SpikedResult } from "./experiment.ts";

export interface PoolRequest {
  id: number;
  config: Partial<SpikedConfig>;
}
export type PoolReply =
  | { id: number; result: SpikedResult }
  | { id: number; error: { code: ErrorCode | null; message: string } };

export interface RunManyOptions {
  jobs?: number;
  /** Called after each finished configuration with (done, total, config). */
  onDone?: (done: number, total: number, config: Partial<SpikedConfig>) => void;
}

export async function runMany(
  configs: readonly Partial<SpikedConfig>[],
  { jobs = 2, onDone }: RunManyOptions = {},
): Promise<SpikedResult[]> {
  const custom = configs.some((c) => c.activation !== undefined && typeof c.activation !== "string");
  const workers = custom ? 1 : Math.max(1, Math.min(jobs, configs.length));
  const results: SpikedResult[] = new Array(configs.length);
  let done = 0;
  if (workers === 1) {
    for (let i = 0; i < configs.length; i++) {
      results[i] = await runSpiked(configs[i]);
      done++;
      onDone?.(done, configs.length, configs[i]);
    }
    return results;
  }
  const require = createRequire(import.meta.url);
  const loader = pathToFileURL(require.resolve("tsx")).href;
  const script = fileURLToPath(new URL("./sweepWorker.ts", import.meta.url));
  let next = 0;
  const children: ChildProcess[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const feed = (child: ChildProcess) => {
        if (failed) return;
        if (next >= configs.length) {
          child.disconnect();
          return;
        }
        const id = next++;
        child.send({ id, config: configs[id] } satisfies PoolRequest);
      };
      for (let w = 0; w < workers; w++) {
        const child = fork(script, [], {
          execArgv: ["--import", loader],
          stdio: ["ignore", "ignore", "inherit", "ipc"],
        });
        children.push(child);
        child.on("message", (msg: PoolReply) => {
          if ("error" in msg) {
            failed = true;
            reject(new GradtraceError(msg.error.code ?? "E_NUMERIC", msg.error.message));
            return;
          }
          results[msg.id] = msg.result;
          // Not inside onDone?.(…): an absent callback would skip evaluating its arguments.
          done++;
          onDone?.(done, configs.length, configs[msg.id]);
          if (done === configs.length) resolve();
          else feed(child);
        });
        child.on("exit", (code) => {
          if (code !== 0 && done < configs.length && !failed) {
            failed = true;
            reject(new GradtraceError("E_NUMERIC", `runMany: a sweep worker exited with code ${code}`));
          }
        });
        feed(child);
      }
    });
  } finally {
    for (const c of children) if (c.connected) c.disconnect();
    for (const c of children) if (c.exitCode === null) c.kill();
  }
  return results;
}
