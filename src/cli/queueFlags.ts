/** @file The `--queue` flag of the commands that can run their independent jobs on a Redis queue (`lab spiked
 * --sweep`, `reproduce`, `analyze`), and the progress it shows: a bar on a terminal (done /
 * total, running and queued jobs), and the queue's notices (reconnections, jobs added again) on stderr. */
import type { QueueOptions, QueueStatus } from "../parallel/index.ts";
import { parseRedisUrl, queueStatusText } from "../parallel/index.ts";
import { progressBar } from "./progress.ts";

export const QUEUE_FLAG_HELP =
  "run the independent jobs on the Redis queue at redis://[:PASSWORD@]HOST:PORT served by `gradtrace worker` " +
  "processes (password also from GRADTRACE_REDIS_PASSWORD); inputs and outputs must be on storage every worker " +
  "sees at the same path (docs/distributed.md)";

/** The flag's parser: refuses a malformed URL while the flags are parsed. */
export function queueUrl(value: string): string {
  parseRedisUrl(value);
  return value;
}

export interface QueueFlagOptions {
  readonly quiet?: boolean;
  /** What the run is, for the dashboard's queue view (`gradtrace serve --queue`): the command and its main
   * arguments (`lab spiked --sweep nu=0:0.1:0.4`, `analyze /shared/run/trace.gtrace`). */
  readonly runLabel?: string;
}

/** Queue options for the `--queue` URL that print the queue's notices on stderr (unless quiet) and hand the job
 * counts to `onStatus`. */
export function queueRunOptions(
  url: string,
  label: string,
  { quiet = false, onStatus, runLabel }: QueueFlagOptions & { onStatus?: (s: QueueStatus) => void } = {},
): QueueOptions {
  const target = parseRedisUrl(url);
  if (!quiet) process.stderr.write(`${label}: jobs go to the queue at ${target.display}\n`);
  return {
    url,
    ...(runLabel ? { label: runLabel } : {}),
    ...(onStatus ? { onStatus } : {}),
    log: (m) => {
      if (!quiet) process.stderr.write(`${m}\n`);
    },
  };
}

/** Queue options for the `--queue` URL with a progress bar of jobs labelled `label` (stopped by `stop`). */
export function queueOptions(
  url: string,
  label: string,
  { quiet = false, runLabel }: QueueFlagOptions = {},
): { queue: QueueOptions; stop: () => void } {
  const bar = progressBar(label, { enabled: !quiet && process.stderr.isTTY === true });
  const queue = queueRunOptions(url, label, {
    quiet,
    ...(runLabel ? { runLabel } : {}),
    onStatus: (s) => bar.update(s.done, s.total, { queue: queueStatusText(s) }),
  });
  return { queue, stop: () => bar.stop() };
}
