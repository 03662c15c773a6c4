/** @file `gradtrace worker --redis redis://HOST:PORT`: a worker process for the Redis job queue (docs/distributed.md).
 * It runs the tasks of the fixed list below — nothing else, whatever a job asks — each on this machine's worker
 * threads, until interrupted (Ctrl-C / SIGTERM: finish the running jobs, then exit; a second signal stops at once,
 * and the queue gives the interrupted jobs to another worker). */
import type { Command } from "commander";
import { BLOCK_QUEUE_TASKS } from "../../analysis/index.ts";
import { GradtraceError } from "../../core/index.ts";
import { SPIKED_QUEUE_TASKS } from "../../lab/index.ts";
import { PREDICTABLE_MANIFOLDS_QUEUE_TASKS } from "../../reproduce/index.ts";
import {
  isLoopback,
  parseRedisUrl,
  QUEUE_DEFAULTS,
  type QueueTask,
  startQueueWorker,
} from "../../parallel/index.ts";
import { parseInteger } from "../parse.ts";

/** Every task a queue worker runs. */
export const WORKER_TASKS: readonly QueueTask[] = [
  ...SPIKED_QUEUE_TASKS,
  ...BLOCK_QUEUE_TASKS,
  ...PREDICTABLE_MANIFOLDS_QUEUE_TASKS,
];

interface WorkerFlags {
  redis: string;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  quiet: boolean;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "Serve the Redis job queue that `--queue` submits to (reproduce, lab spiked --sweep, analyze): run its jobs on " +
        "this machine until interrupted. Start one per machine; every machine must see the inputs and outputs at the " +
        "same paths (shared storage). See docs/distributed.md.",
    )
    .requiredOption(
      "--redis <url>",
      "the queue: redis://[:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS; the password may come from GRADTRACE_REDIS_PASSWORD instead, which keeps it out of `ps`)",
    )
    .option(
      "--concurrency <n>",
      "jobs run at once, each on its own thread (up to the machine's cores)",
      parseInteger("--concurrency", { min: 1 }),
      1,
    )
    .option(
      "--lock-duration <ms>",
      `how long a job stays locked to a worker that stops renewing it (died, frozen) before it goes back to the queue`,
      parseInteger("--lock-duration", { min: 100 }),
      QUEUE_DEFAULTS.lockDurationMs,
    )
    .option(
      "--stalled-interval <ms>",
      "how often this worker looks for such stalled jobs",
      parseInteger("--stalled-interval", { min: 100 }),
      QUEUE_DEFAULTS.stalledIntervalMs,
    )
    .option("-q, --quiet", "print only errors", false)
    .action(async (flags: WorkerFlags) => {
      const redis = parseRedisUrl(flags.redis, { flag: "--redis" });
      const log = flags.quiet
        ? () => {}
        : (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
      if (!redis.password && !isLoopback(redis.host)) {
        process.stderr.write(
          `warning: ${redis.display} is not a loopback address and no password is set: anyone who reaches it can queue jobs (docs/distributed.md, "Security")\n`,
        );
      }
      const worker = startQueueWorker({
        redis,
        tasks: WORKER_TASKS,
        concurrency: flags.concurrency,
        lockDurationMs: flags.lockDuration,
        stalledIntervalMs: flags.stalledInterval,
        log,
      });
      let failStart: (e: unknown) => void = () => {};
      const stopped = new Promise<void>((resolve, reject) => {
        failStart = reject;
        let signals = 0;
        const stop = () => {
          signals++;
          if (signals === 1)
            log(`worker ${worker.id}: finishing the running jobs (interrupt again to stop now)`);
          void worker.close(signals > 1).then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await Promise.race([
        worker.ready.catch((err: Error) => {
          failStart(new GradtraceError("E_QUEUE", `worker: cannot serve ${redis.display}: ${err.message}`));
        }),
        stopped,
      ]);
      await stopped;
    });
}
