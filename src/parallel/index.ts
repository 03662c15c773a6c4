/** @file Public API of the parallel layer: the one worker-pool mechanism (worker threads on tinypool) that runs a
 * task module's exported functions off the main thread, and the same interface over a Redis job queue (BullMQ) for
 * several machines (`createQueuePool`, `gradtrace worker`; docs/distributed.md), and its monitor (`readQueueOverview`, the
 * dashboard's queue view). */
export {
  createPool,
  createTaskPool,
  type PoolOptions,
  type RunOptions,
  siblingModule,
  type TaskName,
  type TaskPool,
  type TaskResult,
  type WorkerPool,
} from "./pool.ts";
export { assertJson } from "./queue/codec.ts";
export { isLoopback, parseRedisUrl, REDIS_PASSWORD_ENV, type RedisTarget } from "./queue/connection.ts";
export { QUEUE_DEFAULTS } from "./queue/names.ts";
export {
  MAX_RUNS_SHOWN,
  openQueueMonitor,
  type QueueJobCounts,
  type QueueMonitor,
  type QueueMonitorOptions,
  type QueueOverview,
  type QueueWorkerInfo,
  readQueueOverview,
} from "./queue/monitor.ts";
export { createQueuePool, type QueuePoolOptions } from "./queue/queuePool.ts";
export { type QueueWorkerOptions, type RunningQueueWorker, startQueueWorker } from "./queue/queueWorker.ts";
export {
  finalState,
  parseRunRecord,
  type QueueRunRecord,
  type QueueRunState,
  type QueueRunView,
  queueStatusText,
  runRecordFields,
  viewRun,
} from "./queue/runRecord.ts";
export { expectArgs, plainObject, type QueueTask, queueTask, queueTaskName } from "./queue/registry.ts";
export {
  labelledQueue,
  openQueueRun,
  type QueueOptions,
  type QueueRun,
  type QueueStatus,
} from "./queue/submit.ts";
export { type Transferred, transferResult } from "./transfer.ts";
