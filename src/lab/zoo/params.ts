/** @file Model parameters as a named pytree: an ordered list of `ParamSpec`s (names like "conv1.weight", shapes in
 * PyTorch orientation) and host-side Float32Array values initialised from a seeded rng. The host copy is the source
 * of truth; each step it is uploaded to jax-js, and gradients come back as Float32Arrays by name. */
import { DType, numpy as np } from "@jax-js/jax";
import { createRng, deriveSeed, GradtraceError } from "../../core/index.ts";

export type ParamInit =
  /** N(0, 2 / fanIn): ReLU layers. */
  | { readonly kind: "he" }
  /** N(0, 1 / fanIn): linear / attention layers. */
  | { readonly kind: "lecun" }
  | { readonly kind: "normal"; readonly std: number }
  | { readonly kind: "constant"; readonly value: number };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
}

/** Name → values, in spec order. */
export type HostParams = Record<string, Float32Array>;
/** Name → jax-js array: what a model's loss function receives. */
export type DeviceParams = Record<string, np.Array>;

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fan-in of a PyTorch-layout weight: everything but the leading (output) axis. */
function fanIn(shape: readonly number[]): number {
  return shape.length <= 1 ? Math.max(1, shape[0] ?? 1) : numelOf(shape.slice(1));
}

/** Values for every spec; tensor i draws from its own stream deriveSeed(seed, i), so adding a parameter at the end
 * does not change the others. */
export function initParams(specs: readonly ParamSpec[], seed: number): HostParams {
  const out: HostParams = {};
  specs.forEach((spec, index) => {
    if (out[spec.name] !== undefined) {
      throw new GradtraceError("E_ARG", `initParams: duplicate parameter name "${spec.name}"`);
    }
    const values = new Float32Array(numelOf(spec.shape));
    const { init } = spec;
    if (init.kind === "constant") {
      values.fill(init.value);
    } else {
      const std =
        init.kind === "normal" ? init.std : Math.sqrt((init.kind === "he" ? 2 : 1) / fanIn(spec.shape));
      const rng = createRng(deriveSeed(seed, index));
      for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
    }
    out[spec.name] = values;
  });
  return out;
}

/** Uploads host values as jax-js arrays of the given dtype (float64 is used by the finite-difference tests). */
export function toDevice(
  specs: readonly ParamSpec[],
  values: HostParams,
  dtype: DType = DType.Float32,
): DeviceParams {
  const out: DeviceParams = {};
  for (const spec of specs) {
    const v = values[spec.name];
    if (v === undefined || v.length !== numelOf(spec.shape)) {
      throw new GradtraceError(
        "E_SHAPE",
        `toDevice: parameter "${spec.name}" has ${v?.length ?? 0} values, expected ${numelOf(spec.shape)} for shape [${spec.shape}]`,
      );
    }
    out[spec.name] = uploadFloat32(v, spec.shape, dtype);
  }
  return out;
}

export function cloneParams(values: HostParams): HostParams {
  const out: HostParams = {};
  for (const [name, v] of Object.entries(values)) out[name] = v.slice();
  return out;
}

/** A float32 host array as a jax-js array of `dtype`. Float64 goes through a float32 upload and an exact widening
 * cast: jax-js 0.1.25's `np.array(Float64Array)` reaches a `Float16Array` check that throws a ReferenceError on
 * Node 20 (no Float16Array global). */
export function uploadFloat32(
  data: Float32Array,
  shape: readonly number[],
  dtype: DType = DType.Float32,
): np.Array {
  const arr = np.array(data).reshape([...shape]);
  return dtype === DType.Float32 ? arr : arr.astype(dtype);
}
