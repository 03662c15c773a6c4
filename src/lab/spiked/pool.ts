/** @file Runs many spiked-lab configurations on the project's worker pool (src/parallel; default 2 threads: this
 * machine's cores), or as jobs on a Redis queue served by `gradtrace worker` processes (`queue`). jobs = 1 (or a
 * custom activation, whose functions cannot be sent to another thread) runs everything in this thread. Results are
 * identical either way: each configuration is seeded on its own. */
import { GradtraceError } from "../../core/index.ts";
import {
  createPool,
  createQueuePool,
  labelledQueue,
  type QueueOptions,
  siblingModule,
} from "../../parallel/index.ts";
import { runSpiked, type SpikedConfig, type SpikedResult } from "./experiment.ts";

export interface RunManyOptions {
  /** Worker threads [2]; 1 runs in this thread. */
  jobs?: number;
  /** Run the configurations as jobs on this queue instead of local threads (`jobs` is then unused). */
  queue?: QueueOptions;
  /** Called after each finished configuration with (done, total, config). */
  onDone?: (done: number, total: number, config: Partial<SpikedConfig>) => void;
}

export const DEFAULT_JOBS = 2;

export async function runMany(
  configs: readonly Partial<SpikedConfig>[],
  { jobs = DEFAULT_JOBS, queue, onDone }: RunManyOptions = {},
): Promise<SpikedResult[]> {
  const custom = configs.some((c) => c.activation !== undefined && typeof c.activation !== "string");
  if (custom && queue)
    throw new GradtraceError(
      "E_ARG",
      "a custom activation (functions) cannot be sent to queue workers: use a named one",
    );
  const threads = custom ? 1 : Math.max(1, Math.min(jobs, configs.length));
  let done = 0;
  const finished = (config: Partial<SpikedConfig>) => {
    // Not inside onDone?.(…): an absent callback would skip evaluating its arguments.
    done++;
    onDone?.(done, configs.length, config);
  };
  if (threads === 1 && !queue) {
    const results: SpikedResult[] = [];
    for (const config of configs) {
      results.push(await runSpiked(config));
      finished(config);
    }
    return results;
  }
  const module = siblingModule(import.meta.url, "sweepWorker");
  const pool = queue
    ? createQueuePool<typeof import("./sweepWorker.ts")>({
        module,
        queue: labelledQueue(queue, `spiked lab: ${configs.length} configurations`),
      })
    : createPool<typeof import("./sweepWorker.ts")>({ module, threads });
  try {
    return await Promise.all(
      configs.map(async (config) => {
        const result = await pool.run("runConfig", [config]);
        finished(config);
        return result;
      }),
    );
  } finally {
    // On a failure, the queued configurations are dropped and the running ones stopped.
    pool.cancelPending();
    await pool.close();
  }
}
