/** @file Runs a fuzz campaign: cases [0, cases) of one seed split over worker processes, each started under a data
 * segment limit (`ulimit -d`: an allocation beyond it fails instead of succeeding) and watched by a per-case deadline
 * (a case without an outcome in time is a hang: the worker is killed and a new one continues after that case). A
 * worker that dies mid-case, or whose peak RSS passes the cap, marks that case too. Returns every outcome count
 * and every failure with the case number and the mutations that produced it, so it can be replayed. */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scratchDir } from "../scratch.ts";
import type { WorkerMessage, WorkerTask } from "./worker.ts";

export interface FuzzOptions {
  readonly seed: number;
  readonly cases: number;
  readonly workers?: number;
  /** Per-case deadline (ms) before the case counts as a hang. */
  readonly deadlineMs?: number;
  /** Data segment limit of each worker (MiB): allocations beyond it fail. */
  readonly memoryLimitMb?: number;
  /** Peak RSS (MiB) above which a case counts as using too much memory. */
  readonly rssCapMb?: number;
  /** Every how many cases to also analyze and convert. */
  readonly analyzeEvery?: number;
}

export interface FuzzFailure {
  readonly i: number;
  readonly kind: "crash" | "silent" | "hang" | "memory" | "died";
  readonly seed: string;
  readonly detail: string;
  readonly steps?: string[];
}

export interface FuzzReport {
  readonly cases: number;
  /** Outcome counts: ok, error:<code>, crash, silent, hang, memory, died. */
  readonly outcomes: Record<string, number>;
  /** Per seed layout: cases, and how many ended ok / with a coded error. */
  readonly bySeed: Record<string, { cases: number; ok: number; error: number }>;
  /** Cases where a checksummed input was read with a corrupt (step, tensor) refused. */
  readonly corruptionCaught: number;
  readonly failures: FuzzFailure[];
  readonly seconds: number;
}

const WORKER = path.resolve(import.meta.dirname, "worker.ts");

export function runFuzz({
  seed,
  cases,
  workers = Math.max(1, Math.min(2, os.availableParallelism())),
  deadlineMs = 20_000,
  memoryLimitMb = 2048,
  rssCapMb = 768,
  analyzeEvery = 25,
}: FuzzOptions): Promise<FuzzReport> {
  // Case files live in memory when a tmpfs has room: the writers fsync, and disks are slow.
  const root = scratchDir("gradtrace-fuzz-", 256 * 2 ** 20);
  const started = Date.now();
  const outcomes: Record<string, number> = {};
  const bySeed: Record<string, { cases: number; ok: number; error: number }> = {};
  const failures: FuzzFailure[] = [];
  let corruptionCaught = 0;
  let seen = 0;
  const count = (key: string) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };

  return new Promise<FuzzReport>((resolve, reject) => {
    let running = 0;
    const finish = () => {
      clearInterval(watch);
      fs.rmSync(root, { recursive: true, force: true });
      resolve({
        cases: seen,
        outcomes,
        bySeed,
        corruptionCaught,
        failures,
        seconds: (Date.now() - started) / 1000,
      });
    };
    const live = new Map<
      ChildProcess,
      { current: number | null; since: number; to: number; killedFor: number | null }
    >();

    const startWorker = (k: number, from: number, to: number) => {
      if (from >= to) return;
      running++;
      const dir = path.join(root, `w${k}-${from}`);
      const child = spawn(
        "bash",
        [
          "-c",
          `ulimit -d ${memoryLimitMb * 1024} 2>/dev/null; exec "$0" "$@"`,
          process.execPath,
          "--import",
          "tsx",
          WORKER,
        ],
        { stdio: ["ignore", "inherit", "inherit", "ipc"] },
      );
      const state = {
        current: null as number | null,
        since: Date.now(),
        to,
        killedFor: null as number | null,
      };
      live.set(child, state);
      let ended = false;
      let resumeAt: number | null = null;
      child.on("message", (m: WorkerMessage) => {
        if (m.t === "start") {
          state.current = m.i;
          state.since = Date.now();
        } else if (m.t === "done") {
          state.current = null;
          seen++;
          const o = m.outcome;
          bySeed[m.seed] ??= { cases: 0, ok: 0, error: 0 };
          const s = bySeed[m.seed];
          s.cases++;
          if (o.kind === "ok") {
            s.ok++;
            count("ok");
            if (o.corrupt > 0) corruptionCaught++;
          } else if (o.kind === "error") {
            s.error++;
            count(`error:${o.code}`);
          } else {
            count(o.kind);
            failures.push({ i: m.i, kind: o.kind, seed: m.seed, detail: o.message, steps: m.steps });
          }
        } else if (m.t === "memory") {
          count("memory");
          failures.push({
            i: m.i,
            kind: "memory",
            seed: m.seed,
            detail: `peak RSS ${(m.rss / 2 ** 20).toFixed(0)} MiB`,
          });
          resumeAt = m.i + 1;
        } else if (m.t === "end") {
          ended = true;
        }
      });
      child.on("exit", (code, signal) => {
        live.delete(child);
        running--;
        if (state.killedFor !== null) {
          startWorker(k, state.killedFor + 1, to);
        } else if (resumeAt !== null) {
          startWorker(k, resumeAt, to);
        } else if (!ended) {
          if (state.current === null) {
            clearInterval(watch);
            reject(new Error(`fuzz worker exited (${signal ?? code}) outside any case`));
            return;
          }
          seen++;
          count("died");
          failures.push({
            i: state.current,
            kind: "died",
            seed: "?",
            detail: `worker exited (${signal ?? code})`,
          });
          startWorker(k, state.current + 1, to);
        }
        if (running === 0) finish();
      });
      const task: WorkerTask = { seed, from, to, dir, analyzeEvery, rssCap: rssCapMb * 2 ** 20 };
      child.send(task);
    };

    const watch = setInterval(() => {
      const now = Date.now();
      for (const [child, s] of live) {
        if (s.current !== null && s.killedFor === null && now - s.since > deadlineMs) {
          s.killedFor = s.current;
          seen++;
          count("hang");
          failures.push({
            i: s.current,
            kind: "hang",
            seed: "?",
            detail: `no outcome after ${deadlineMs} ms`,
          });
          child.kill("SIGKILL");
        }
      }
    }, 250);

    const per = Math.ceil(cases / workers);
    for (let k = 0; k < workers; k++) startWorker(k, k * per, Math.min(cases, (k + 1) * per));
    if (running === 0) finish();
  });
}
