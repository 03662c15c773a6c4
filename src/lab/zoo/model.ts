/** @file The contract every zoo model implements: parameter specs, a pure loss function of (params, batch) that
 * jax-js can jit and differentiate, a seeded host-side batch sampler, default training settings, and a FLOP count
 * of its GEMMs (for the benchmark's GFLOP/s). */
import type { DType, numpy as np } from "@jax-js/jax";
import type { Rng } from "../../core/index.ts";
import type { OptimizerName } from "./optimizers.ts";
import type { ParamSpec } from "./params.ts";
import type { ScheduleKind } from "./schedule.ts";

/** One batch on the host: arrays in the order the loss function takes them. */
export interface HostBatch {
  readonly arrays: readonly { readonly data: Float32Array; readonly shape: readonly number[] }[];
}

export interface TrainDefaults {
  readonly optimizer: OptimizerName;
  /** Peak learning rate per optimizer (tuned so each trains stably on this model). */
  readonly lr: Readonly<Record<OptimizerName, number>>;
  readonly batch: number;
  readonly steps: number;
  readonly schedule: ScheduleKind;
  readonly warmupSteps: number;
  readonly weightDecay: number;
}

export interface ZooModel {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  readonly defaults: TrainDefaults;
  /** What the auxiliary output of `loss` is: classification accuracy, or e.g. the relative excess control cost. */
  readonly metricName: string;
  /**
   * Scalar training loss and the auxiliary metric for one batch. Pure (jit-traceable), consumes its arguments;
   * must work for float32 and float64 inputs alike (the finite-difference tests run it in float64).
   */
  loss(params: Record<string, np.Array>, batch: np.Array[]): [np.Array, np.Array];
  /** A batch of `size` examples; all randomness from `rng`. Shapes must not depend on the step (jit caches). */
  sampleBatch(rng: Rng, size: number): HostBatch;
  /** A fixed held-out batch for evaluation, when the model has one. */
  evalBatch?(size: number): HostBatch;
  /** Size of the fixed training set when `sampleBatch(rng, size ≥ fullBatchSize)` returns all of it, so that the
   * gradient is the exact gradient ∇f(x_t) of the training loss (what the nonconvex bound needs). Absent when every
   * batch is a random sample (MNIST minibatches, fresh Gaussian inputs, sampled initial states): then no logged
   * gradient is the exact gradient of the objective. */
  readonly fullBatchSize?: number;
  /** FLOPs of the matrix products in one training step (forward + backward ≈ 3 × forward). */
  gemmFlopsPerStep(batch: number): number;
}

export type { DType };
