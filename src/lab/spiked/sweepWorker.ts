/** @file Task module of the sweep pool (pool.ts), run in the project's worker threads (src/parallel). */
import { runSpiked, type SpikedConfig, type SpikedResult } from "./experiment.ts";

/** One configuration, exactly as `runSpiked` runs it in the caller's thread. */
export function runConfig(config: Partial<SpikedConfig>): Promise<SpikedResult> {
  return runSpiked(config);
}
