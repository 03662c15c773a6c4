/** @file Gradients of every zoo model, in two links: (1) eager float64 autodiff against central finite
 * differences of the float64 loss along a random direction in every tensor; (2) the trainer's jit-compiled float32
 * step against that eager float64 gradient on every coordinate. (jax-js 0.1.25's jit is not trusted on its own:
 * it returns wrong gradients for float64 inputs and for slices with constant cotangents — test (2) catches both.) */
import { DType } from "@jax-js/jax";
import { describe, expect, test } from "vitest";
import { createRng } from "../../src/core/rng.ts";
import type { ZooModel } from "../../src/lab/zoo/model.ts";
import { createLqrModel } from "../../src/lab/zoo/models/lqr.ts";
import { type HostParams, initParams } from "../../src/lab/zoo/params.ts";
import { createZooModel, ZOO_MODEL_NAMES } from "../../src/lab/zoo/registry.ts";
import { evaluateGradients, evaluateLoss } from "../../src/lab/zoo/trainer.ts";

/** Seeded initial values plus small noise, so zero-initialised tensors (biases, the LQR gain, the regression
 * weight) are not at special points. */
function perturbedParams(model: ZooModel, seed: number): HostParams {
  const params = initParams(model.params, seed);
  const rng = createRng(seed + 1);
  for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) v[i] += 0.05 * rng.normal();
  return params;
}

/** jax-js's float64 mode still rounds some scalar constants to float32, so the "float64" loss carries an absolute
 * noise floor of ~1e-7 (measured); differences below it cannot test anything. */
const LOSS_NOISE = 3e-7;

describe.each(ZOO_MODEL_NAMES)("%s gradients", (name) => {
  test("eager float64 autodiff = finite differences; jit float32 step = eager float64", async () => {
    // A 15-step LQR rollout instead of 60: the same code path, 4× less eager autodiff work.
    const model = name === "lqr" ? createLqrModel({ horizon: 15 }) : createZooModel(name);
    const rng = createRng(11);
    const params = perturbedParams(model, 5);
    const batch = model.sampleBatch(rng, name === "lowrank" ? 16 : 2);
    const reference = await evaluateGradients(model, params, batch, { dtype: DType.Float64, jit: false });
    // Per tensor: central difference of the loss along a random direction v of that tensor versus ⟨∇L, Δ⟩ —
    // a directional derivative sums every coordinate's gradient, so it is far above the loss's rounding noise.
    // At most 8 tensors, spread over the network (first and last included), to bound the eager float64 work; the
    // jit comparison below covers every coordinate of every tensor.
    const stride = Math.max(1, Math.ceil((model.params.length - 1) / 7));
    const checked = model.params.filter((_, i) => i % stride === 0 || i === model.params.length - 1);
    for (const spec of checked) {
      const g = reference.grads[spec.name];
      expect(g).toBeInstanceOf(Float64Array);
      const values = params[spec.name];
      const original = values.slice();
      const scale =
        3e-3 * Math.max(1e-3, Math.sqrt(original.reduce((s, x) => s + x * x, 0) / original.length));
      const up = new Float32Array(values.length);
      const down = new Float32Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = rng.normal();
        up[i] = original[i] + scale * v;
        down[i] = original[i] - scale * v;
      }
      params[spec.name] = up;
      const lossUp = (await evaluateLoss(model, params, batch, { dtype: DType.Float64 })).loss;
      params[spec.name] = down;
      const lossDown = (await evaluateLoss(model, params, batch, { dtype: DType.Float64 })).loss;
      params[spec.name] = original;
      // Host values are float32: use the realised perturbation up − down, not 2·scale·v.
      let predicted = 0;
      let magnitude = 0;
      for (let i = 0; i < g.length; i++) {
        predicted += g[i] * (up[i] - down[i]);
        magnitude += Math.abs(g[i] * (up[i] - down[i]));
      }
      const measured = lossUp - lossDown;
      expect(
        Math.abs(measured - predicted),
        `${spec.name}: loss change ${measured} vs gradient prediction ${predicted}`,
      ).toBeLessThanOrEqual(1e-2 * magnitude + LOSS_NOISE);
    }
    const jitted = await evaluateGradients(model, params, batch);
    expect(Math.abs(jitted.loss - reference.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(reference.loss)));
    for (const spec of model.params) {
      const a = reference.grads[spec.name];
      const b = jitted.grads[spec.name];
      expect(b).toBeInstanceOf(Float32Array);
      let maxAbs = 0;
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(a[i]));
        maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      }
      // float32 rounding through a few layers: ~1e-6 of the tensor's scale; 1e-4 leaves margin and still catches
      // any wrong term (the known jit bugs give errors of 10% to 100%).
      expect(maxDiff, `${spec.name}: jit float32 vs eager float64`).toBeLessThanOrEqual(1e-4 * maxAbs + 1e-7);
    }
  });
});
