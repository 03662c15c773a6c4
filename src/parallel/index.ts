/** @file Public API of the parallel layer: the one worker-pool mechanism (worker threads on tinypool) that runs a
 * task module's exported functions off the main thread. */
export {
  createPool,
  type PoolOptions,
  type RunOptions,
  siblingModule,
  type TaskName,
  type TaskResult,
  type WorkerPool,
} from "./pool.ts";
export { type Transferred, transferResult } from "./transfer.ts";
