/** @file Public API of the spiked two-layer lab (docs/lab-spiked.md): one configuration, sweeps,
 * and the building blocks (data, network, gradient, decomposition, metrics). */
export {
  ACTIVATION_NAMES,
  type Activation,
  type ActivationName,
  gaussianMeanDerivative,
  resolveActivation,
} from "./activations.ts";
export {
  BULK_NORMALISE_NAMES,
  type BulkNormalise,
  generateSpikedData,
  type HeldOut,
  powerLawSpectrum,
  type SpikedData,
  type SpikedDataOptions,
  teacherLink,
} from "./data.ts";
export {
  type Decomposition,
  decomposeGradient,
  decompositionInput,
  denseComponents,
  includeRegulariser,
  type RegularisedComponents,
} from "./decomposition.ts";
export {
  DEFAULT_SPIKED_CONFIG,
  defaultAnalyzeSteps,
  type RunSpikedOptions,
  resolveConfig,
  runSpiked,
  type SpikedConfig,
  type SpikedConfigJson,
  type SpikedResult,
  type StepRecord,
} from "./experiment.ts";
export { createJaxGemm, float64Gemm, type Gemm, type GemmKind } from "./gemm.ts";
export {
  type GradientMetrics,
  gradientMetrics,
  OUTLIER_GAP,
  type OutlierSummary,
  rankTwoSingularValues,
  spectrumOutliers,
} from "./metrics.ts";
export {
  DEPENDENT_READINGS,
  type DependentReading,
  initNetwork,
  type LossGradient,
  lossAndGradient,
  type Network,
  predict,
  type Scaling,
  type WeightInit,
} from "./model.ts";
export { DEFAULT_JOBS, type RunManyOptions, runMany } from "./pool.ts";
export { SPIKED_QUEUE_TASKS } from "./queueTasks.ts";
export {
  DEFAULT_SWEEP_OPTIONS,
  parseSweep,
  runSweep,
  SWEEP_QUANTITIES,
  type SweepOptions,
  type SweepPoint,
  type SweepQuantity,
  type SweepResult,
  type SweepSeries,
  type SweepSpec,
  sweepCsv,
  sweepFigure,
} from "./sweep.ts";
export { spikedTable, sweepTable } from "./tables.ts";
