/** @file The zoo's training loop: a jit-compiled value-and-gradient step on jax-js, host-side optimizer and
 * learning-rate schedule, seeded data, and a per-step callback that receives every parameter's gradient (and the
 * optimizer's momentum buffer) by name — the hook the trace writer, the live accumulator and the sketches attach
 * to. Non-finite loss or gradients stop the run with E_NUMERIC (a gradient trace with NaNs is useless for the
 * analysis, and silently skipping steps would break the step ↔ gradient correspondence). */
import { DType, jit, type numpy as np, valueAndGrad } from "@jax-js/jax";
import { createRng, deriveSeed, GradtraceError } from "../../core/index.ts";
import { ensureJax } from "./jaxRuntime.ts";
import type { HostBatch, ZooModel } from "./model.ts";
import { createOptimizer, type Optimizer, type OptimizerName } from "./optimizers.ts";
import { type HostParams, initParams, numelOf, toDevice, uploadFloat32 } from "./params.ts";
import { createSchedule, type ScheduleKind } from "./schedule.ts";

export interface StepInfo {
  /** 0-based optimizer step; the gradients were taken at the parameters before this step's update. */
  readonly step: number;
  readonly loss: number;
  /** The model's auxiliary metric on this batch (see ZooModel.metricName). */
  readonly metric: number;
  readonly lr: number;
  /** ∇loss by parameter name, float32, owned by the callback (fresh arrays every step). */
  readonly grads: Readonly<Record<string, Float32Array>>;
  /** Optimizer momentum buffer after this step's update (SGD+momentum buf, Adam first moment); copies. */
  readonly momentum?: Readonly<Record<string, Float32Array>>;
}

export interface TrainOptions {
  readonly model: ZooModel;
  readonly optimizer?: OptimizerName;
  readonly lr?: number;
  readonly steps?: number;
  readonly batch?: number;
  readonly seed?: number;
  readonly schedule?: ScheduleKind;
  readonly warmupSteps?: number;
  readonly weightDecay?: number;
  /** SGD+momentum coefficient. */
  readonly momentum?: number;
  /** An optimizer object to use instead of the one `optimizer` names (e.g. the GaLore-style projected Adam of
   * galoreAdam.ts); `optimizer` still picks the default learning rate and is what the config records. */
  readonly optimizerImpl?: Optimizer;
  /** Start from these values instead of the seeded initialisation (copied, not modified). */
  readonly initialParams?: HostParams;
  /** Called after every step, awaited before the next (so a slow writer applies back-pressure). */
  readonly onStep?: (info: StepInfo) => void | Promise<void>;
  /** Evaluate the metric on the model's held-out batch every this many steps and at the end (0 = only at end). */
  readonly evalEvery?: number;
  /** Size of the held-out batch. */
  readonly evalSize?: number;
}

export interface TrainConfig {
  readonly model: string;
  readonly optimizer: OptimizerName;
  readonly lr: number;
  readonly steps: number;
  readonly batch: number;
  readonly seed: number;
  readonly schedule: ScheduleKind;
  readonly warmupSteps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly parameterCount: number;
}

export interface TrainResult {
  readonly config: TrainConfig;
  readonly params: HostParams;
  readonly loss: number[];
  readonly metric: number[];
  readonly lr: number[];
  /** Held-out metric: [step, value] pairs (empty when the model has no held-out batch). */
  readonly evalMetric: [number, number][];
  readonly seconds: number;
  readonly stepsPerSecond: number;
}

type StepFn = (
  params: Record<string, np.Array>,
  ...batch: np.Array[]
) => [[np.Array, np.Array], Record<string, np.Array>];

const compiled = new WeakMap<ZooModel, StepFn>();

/** The jit-compiled value-and-gradient function of a model's loss (cached per model object; jax-js recompiles per
 * input shape/dtype on its own). */
export function stepFunction(model: ZooModel): StepFn {
  let fn = compiled.get(model);
  if (fn === undefined) {
    const lossOf = (params: Record<string, np.Array>, ...batch: np.Array[]) => model.loss(params, batch);
    fn = jit(valueAndGrad(lossOf, { hasAux: true })) as unknown as StepFn;
    compiled.set(model, fn);
  }
  return fn;
}

/** Eager (non-jit) value and gradient: slow, but the reference the jit step is tested against. */
export function eagerStepFunction(model: ZooModel): StepFn {
  const lossOf = (params: Record<string, np.Array>, ...batch: np.Array[]) => model.loss(params, batch);
  return valueAndGrad(lossOf, { hasAux: true }) as unknown as StepFn;
}

export function batchToDevice(batch: HostBatch, dtype: DType = DType.Float32): np.Array[] {
  return batch.arrays.map(({ data, shape }) => uploadFloat32(data, shape, dtype));
}

export interface GradientEvaluation {
  readonly loss: number;
  readonly metric: number;
  /** Float32Array for float32 runs, Float64Array for float64. */
  readonly grads: Record<string, Float32Array | Float64Array>;
}

export interface EvaluateOptions {
  /** Default float32. Use float64 only with `jit: false`: jax-js 0.1.25's jit returns wrong float64 gradients. */
  readonly dtype?: DType;
  /** Through the trainer's jit step (default) or eager autodiff (the reference the tests compare the jit with). */
  readonly jit?: boolean;
}

/** One value-and-gradient evaluation, by default through the same jit step the trainer uses. */
export async function evaluateGradients(
  model: ZooModel,
  params: HostParams,
  batch: HostBatch,
  { dtype = DType.Float32, jit: useJit = true }: EvaluateOptions = {},
): Promise<GradientEvaluation> {
  await ensureJax();
  const fn = useJit ? stepFunction(model) : eagerStepFunction(model);
  const [[lossArr, metricArr], gradArrs] = fn(
    toDevice(model.params, params, dtype),
    ...batchToDevice(batch, dtype),
  );
  const grads: Record<string, Float32Array | Float64Array> = {};
  for (const spec of model.params) {
    grads[spec.name] = (await gradArrs[spec.name].data()) as Float32Array | Float64Array;
  }
  const loss = (await lossArr.data())[0];
  const metric = (await metricArr.data())[0];
  return { loss, metric, grads };
}

/** Loss and metric only (eager forward pass, no gradient). */
export async function evaluateLoss(
  model: ZooModel,
  params: HostParams,
  batch: HostBatch,
  { dtype = DType.Float32 }: { dtype?: DType } = {},
): Promise<{ loss: number; metric: number }> {
  await ensureJax();
  const [lossArr, metricArr] = model.loss(toDevice(model.params, params, dtype), batchToDevice(batch, dtype));
  return { loss: (await lossArr.data())[0], metric: (await metricArr.data())[0] };
}

function assertFinite(values: Float32Array, what: string, step: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new GradtraceError(
        "E_NUMERIC",
        `train: ${what} is not finite at step ${step} (element ${i} = ${values[i]})`,
      );
    }
  }
}

/** Defaults of `TrainOptions` that do not depend on the model (the others are the model's `defaults`). */
export const DEFAULT_TRAIN_OPTIONS = Object.freeze({
  seed: 0,
  momentum: 0.9,
} as const satisfies Partial<TrainOptions>);

export async function train({
  model,
  optimizer = model.defaults.optimizer,
  lr,
  steps = model.defaults.steps,
  batch = model.defaults.batch,
  seed = DEFAULT_TRAIN_OPTIONS.seed,
  schedule = model.defaults.schedule,
  warmupSteps = model.defaults.warmupSteps,
  weightDecay = model.defaults.weightDecay,
  momentum = DEFAULT_TRAIN_OPTIONS.momentum,
  optimizerImpl,
  initialParams,
  onStep,
  evalEvery = 0,
  evalSize = 500,
}: TrainOptions): Promise<TrainResult> {
  if (!Number.isInteger(steps) || steps < 1)
    throw new GradtraceError("E_ARG", `train: steps must be an integer ≥ 1, got ${steps}`);
  if (!Number.isInteger(batch) || batch < 1)
    throw new GradtraceError("E_ARG", `train: batch must be an integer ≥ 1, got ${batch}`);
  const peakLr = lr ?? model.defaults.lr[optimizer];
  await ensureJax();
  const params: HostParams = initialParams
    ? Object.fromEntries(Object.entries(initialParams).map(([k, v]) => [k, v.slice()]))
    : initParams(model.params, deriveSeed(seed, 1));
  const dataRng = createRng(deriveSeed(seed, 2));
  const opt = optimizerImpl ?? createOptimizer({ name: optimizer, weightDecay, momentum });
  const lrAt = createSchedule({ kind: schedule, lr: peakLr, totalSteps: steps, warmupSteps });
  const step = stepFunction(model);
  const heldOut = model.evalBatch?.(evalSize);
  const losses: number[] = [];
  const metrics: number[] = [];
  const lrs: number[] = [];
  const evalMetric: [number, number][] = [];
  const evaluate = async (at: number) => {
    if (heldOut === undefined) return;
    const [[lossArr, metricArr], gradArrs] = step(toDevice(model.params, params), ...batchToDevice(heldOut));
    lossArr.dispose();
    for (const g of Object.values(gradArrs)) g.dispose();
    const metric = (await metricArr.data())[0];
    evalMetric.push([at, metric]);
  };
  const start = performance.now();
  for (let t = 0; t < steps; t++) {
    const hostBatch = model.sampleBatch(dataRng, batch);
    const [[lossArr, metricArr], gradArrs] = step(
      toDevice(model.params, params),
      ...batchToDevice(hostBatch),
    );
    const grads: Record<string, Float32Array> = {};
    for (const spec of model.params) {
      const g = (await gradArrs[spec.name].data()) as Float32Array;
      assertFinite(g, `gradient of "${spec.name}"`, t);
      grads[spec.name] = g;
    }
    const loss = (await lossArr.data())[0];
    const metric = (await metricArr.data())[0];
    const stepLr = lrAt(t);
    if (!Number.isFinite(loss)) {
      throw new GradtraceError(
        "E_NUMERIC",
        `train: loss is ${loss} at step ${t} (model ${model.name}, lr ${stepLr})`,
      );
    }
    opt.update(params, grads, stepLr);
    losses.push(loss);
    metrics.push(metric);
    lrs.push(stepLr);
    if (onStep !== undefined) {
      const buf = opt.momentumBuffer();
      const momentumCopy =
        buf === undefined
          ? undefined
          : Object.fromEntries(Object.entries(buf).map(([k, v]) => [k, v.slice()]));
      await onStep({ step: t, loss, metric, lr: stepLr, grads, momentum: momentumCopy });
    }
    if (evalEvery > 0 && (t + 1) % evalEvery === 0 && t + 1 < steps) await evaluate(t + 1);
  }
  const seconds = (performance.now() - start) / 1000;
  await evaluate(steps);
  const parameterCount = model.params.reduce((s, p) => s + numelOf(p.shape), 0);
  return {
    config: {
      model: model.name,
      optimizer,
      lr: peakLr,
      steps,
      batch,
      seed,
      schedule,
      warmupSteps,
      weightDecay,
      momentum,
      parameterCount,
    },
    params,
    loss: losses,
    metric: metrics,
    lr: lrs,
    evalMetric,
    seconds,
    stepsPerSecond: steps / seconds,
  };
}
