/** @file A progress bar on stderr for long work: only when stderr is a terminal (never in pipes or CI logs), with
 * throughput and ETA. */
import cliProgress from "cli-progress";

export interface ProgressBar {
  update(done: number, total: number, fields?: Record<string, string>): void;
  stop(): void;
}

const NOOP: ProgressBar = { update() {}, stop() {} };

export function progressBar(label: string, { enabled = process.stderr.isTTY === true } = {}): ProgressBar {
  if (!enabled) return NOOP;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {info} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, fields = {}) {
      if (!started) {
        bar.start(total, 0, { info: "" });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { info: Object.values(fields).join(" | ") });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
