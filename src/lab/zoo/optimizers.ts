/** @file SGD, SGD with momentum and Adam, each with decoupled weight decay (Loshchilov & Hutter), updating host-side
 * Float32Array parameters in place. They run on the host rather than in jax-js because every step's gradients and
 * momentum buffer must reach the host anyway (trace writer, live accumulator), and because host code is easy to
 * check against hand-computed updates. Arithmetic is float64 per element, stored back as float32. */
import { GradtraceError } from "../../core/index.ts";
import type { HostParams } from "./params.ts";

export type OptimizerName = "sgd" | "momentum" | "adam";

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ["sgd", "momentum", "adam"];

export interface OptimizerOptions {
  readonly name: OptimizerName;
  /** Decoupled weight decay λ: p ← p − lr·λ·p in addition to the gradient step (0 = off). */
  readonly weightDecay?: number;
  /** Momentum coefficient μ for "momentum" (PyTorch convention: buf ← μ·buf + g, p ← p − lr·buf). */
  readonly momentum?: number;
  /** Adam β1, β2, ε. */
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /** Applies one update with gradients `grads` (by parameter name) at learning rate `lr`. */
  update(params: HostParams, grads: Readonly<Record<string, Float32Array>>, lr: number): void;
  /**
   * The optimizer's momentum buffer after the last update, by parameter name: SGD+momentum's buf, Adam's first
   * moment m (without bias correction). Undefined for plain SGD. Live views: copy before keeping.
   */
  momentumBuffer(): Readonly<Record<string, Float32Array>> | undefined;
}

export function createOptimizer({
  name,
  weightDecay = 0,
  momentum = 0.9,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
}: OptimizerOptions): Optimizer {
  if (!OPTIMIZER_NAMES.includes(name)) {
    throw new GradtraceError(
      "E_ARG",
      `createOptimizer: unknown optimizer "${name}" (expected ${OPTIMIZER_NAMES.join(", ")})`,
    );
  }
  const first: Record<string, Float32Array> = {};
  const second: Record<string, Float32Array> = {};
  let t = 0;
  const bufferFor = (store: Record<string, Float32Array>, key: string, length: number): Float32Array => {
    let buf = store[key];
    if (buf === undefined) {
      buf = new Float32Array(length);
      store[key] = buf;
    }
    return buf;
  };
  return {
    name,
    update(params, grads, lr) {
      t += 1;
      const bc1 = 1 - beta1 ** t;
      const bc2 = 1 - beta2 ** t;
      for (const [key, p] of Object.entries(params)) {
        const g = grads[key];
        if (g === undefined || g.length !== p.length) {
          throw new GradtraceError(
            "E_SHAPE",
            `optimizer ${name}: gradient for "${key}" has ${g?.length ?? 0} values, parameter has ${p.length}`,
          );
        }
        const decay = 1 - lr * weightDecay;
        if (name === "sgd") {
          for (let i = 0; i < p.length; i++) p[i] = p[i] * decay - lr * g[i];
        } else if (name === "momentum") {
          const buf = bufferFor(first, key, p.length);
          for (let i = 0; i < p.length; i++) {
            const b = momentum * buf[i] + g[i];
            buf[i] = b;
            p[i] = p[i] * decay - lr * b;
          }
        } else {
          const m = bufferFor(first, key, p.length);
          const v = bufferFor(second, key, p.length);
          for (let i = 0; i < p.length; i++) {
            const gi = g[i];
            const mi = beta1 * m[i] + (1 - beta1) * gi;
            const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
          }
        }
      }
    },
    momentumBuffer() {
      return name === "sgd" ? undefined : first;
    },
  };
}
