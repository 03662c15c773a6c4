/** @file Public API of the lab layer: the only module other layers import. */
export {
  ACTIVATION_NAMES,
  type ActivationName,
  DEFAULT_JOBS,
  DEFAULT_SPIKED_CONFIG,
  DEFAULT_SWEEP_OPTIONS,
  BULK_NORMALISE_NAMES,
  type BulkNormalise,
  DEPENDENT_READINGS,
  type DependentReading,
  OUTLIER_GAP,
  parseSweep,
  resolveConfig,
  runMany,
  runSpiked,
  runSweep,
  type SpikedConfig,
  type SpikedConfigJson,
  type SpikedResult,
  type StepRecord,
  type SweepOptions,
  type SweepPoint,
  type SweepQuantity,
  type SweepResult,
  type SweepSeries,
  type SweepSpec,
  SPIKED_QUEUE_TASKS,
  spikedTable,
  sweepTable,
} from "./spiked/index.ts";
export { markdownTable, sweepRows } from "./spiked/tables.ts";
export {
  createGaloreAdam,
  type GaloreAdamOptions,
  galoreStateSize,
  type ProjectedSetting,
} from "./zoo/galoreAdam.ts";
export { OPTIMIZER_NAMES, type Optimizer, type OptimizerName } from "./zoo/optimizers.ts";
export {
  createZooModel,
  isFullBatch,
  parameterCount,
  ZOO_MODEL_NAMES,
  type ZooModelName,
} from "./zoo/registry.ts";
export { runZooTraining, type ZooRunOptions, type ZooRunSummary } from "./zoo/run.ts";
export type { ScheduleKind } from "./zoo/schedule.ts";
export { createTraceLogger, TRACE_FILE } from "./zoo/traceLogger.ts";
export { DEFAULT_TRAIN_OPTIONS, train } from "./zoo/trainer.ts";
