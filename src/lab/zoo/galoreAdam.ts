/** @file GaLore-style projected Adam (Zhao et al., ICML 2024, Algorithm 2), host-side like the zoo's other
 * optimizers: for each matrix-shaped parameter with a setting (r, Δ), every Δ steps the projector P becomes the top-r
 * singular subspace of the current gradient on its shorter side; the gradient is projected (R = PᵀG, or G·P for a
 * tall matrix), Adam's two moments live in that r × long space, and the normalised step is projected back and
 * scaled by `scale`. Other parameters (vectors, tensors without a setting, or r ≥ the shorter side, where projecting
 * saves nothing) take the plain Adam update of optimizers.ts, bit for bit.
 *
 * As in GaLore's reference code the moments are kept across a refresh although the basis changed (the paper's
 * choice, so the cost of a refresh is one SVD). Singular vectors get a fixed sign (largest entry positive), so a
 * refresh that finds the same subspace does not flip the moments' signs, and results do not depend on which SVD
 * routine chose the signs. */
import { GradtraceError, type Mat, mat, topLeftSubspace, transpose } from "../../core/index.ts";
import { createOptimizer, type Optimizer } from "./optimizers.ts";
import type { HostParams, ParamSpec } from "./params.ts";

export interface ProjectedSetting {
  /** GaLore's rank r. */
  readonly rank: number;
  /** GaLore's update_proj_gap Δ: steps between projector refreshes. */
  readonly interval: number;
}

export interface GaloreAdamOptions {
  /** The model's parameters (their shapes say which side is shorter). */
  readonly params: readonly ParamSpec[];
  /** Per parameter name; parameters without one take plain Adam. */
  readonly settings: Readonly<Record<string, ProjectedSetting>>;
  /** GaLore's α multiplying the projected-back step (default 1: the step has Adam's per-coordinate size). */
  readonly scale?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay λ (p ← p − lr·λ·p), as the other optimizers. */
  readonly weightDecay?: number;
  /** Seed of the randomized SVD used for shorter sides above 256. */
  readonly seed?: number;
}

interface Projected {
  readonly rows: number;
  readonly cols: number;
  /** Shorter × longer orientation: the gradient is transposed first when rows > cols. */
  readonly flip: boolean;
  readonly short: number;
  readonly long: number;
  readonly rank: number;
  readonly interval: number;
  /** short × rank, orthonormal columns. */
  projector: Mat;
  /** rank × long moments. */
  readonly m: Float64Array;
  readonly v: Float64Array;
}

/** Fixes each column's sign so its entry of largest magnitude is positive. */
export function canonicalSigns(basis: Mat): Mat {
  const out = mat(basis.rows, basis.cols, basis.data.slice());
  for (let j = 0; j < basis.cols; j++) {
    let best = 0;
    for (let i = 1; i < basis.rows; i++)
      if (Math.abs(out.data[i * basis.cols + j]) > Math.abs(out.data[best * basis.cols + j])) best = i;
    if (out.data[best * basis.cols + j] < 0)
      for (let i = 0; i < basis.rows; i++) out.data[i * basis.cols + j] *= -1;
  }
  return out;
}

/** Optimizer-state numbers of projected Adam for one parameter: the same count advise() reports. */
export function galoreStateSize(shape: readonly number[], setting: ProjectedSetting | undefined): number {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (setting === undefined || shape.length < 2) return 2 * numel;
  const rows = shape[0];
  const cols = numel / rows;
  const short = Math.min(rows, cols);
  const long = Math.max(rows, cols);
  const projected = setting.rank * (2 * long + short);
  return setting.rank < short && projected < 2 * numel ? projected : 2 * numel;
}

export function createGaloreAdam({
  params,
  settings,
  scale = 1,
  beta1 = 0.9,
  beta2 = 0.999,
  eps = 1e-8,
  weightDecay = 0,
  seed = 0,
}: GaloreAdamOptions): Optimizer {
  const projected = new Map<string, Projected>();
  for (const [name, s] of Object.entries(settings)) {
    const spec = params.find((p) => p.name === name);
    if (spec === undefined)
      throw new GradtraceError("E_ARG", `createGaloreAdam: setting for unknown parameter "${name}"`);
    if (!Number.isInteger(s.rank) || s.rank < 1 || !Number.isInteger(s.interval) || s.interval < 1) {
      throw new GradtraceError(
        "E_ARG",
        `createGaloreAdam: "${name}" needs a positive integer rank and interval, got rank ${s.rank}, interval ${s.interval}`,
      );
    }
    if (spec.shape.length < 2) continue;
    const numel = spec.shape.reduce((a, b) => a * b, 1);
    const rows = spec.shape[0];
    const cols = numel / rows;
    const short = Math.min(rows, cols);
    const long = Math.max(rows, cols);
    if (galoreStateSize(spec.shape, s) === 2 * numel) continue;
    projected.set(name, {
      rows,
      cols,
      flip: rows > cols,
      short,
      long,
      rank: s.rank,
      interval: s.interval,
      projector: mat(short, 0),
      m: new Float64Array(s.rank * long),
      v: new Float64Array(s.rank * long),
    });
  }
  // Everything not projected goes through the zoo's own Adam (same arithmetic, same state, bit for bit).
  const plain = createOptimizer({ name: "adam", beta1, beta2, eps, weightDecay });
  let t = 0;

  const oriented = (st: Projected, g: Float32Array): Mat => {
    const m = mat(st.rows, st.cols, Float64Array.from(g));
    return st.flip ? transpose(m) : m;
  };

  const projectedUpdate = (st: Projected, p: Float32Array, g: Float32Array, lr: number) => {
    const grad = oriented(st, g);
    if ((t - 1) % st.interval === 0)
      st.projector = canonicalSigns(topLeftSubspace(grad, st.rank, { seed: seed + t }));
    const { short, long, rank, projector: P } = st;
    const bc1 = 1 - beta1 ** t;
    const bc2 = 1 - beta2 ** t;
    // R = Pᵀ·G (rank × long), moments on R, N = m̂ / (√v̂ + ε), step = P·N (short × long).
    const n = new Float64Array(rank * long);
    for (let k = 0; k < rank; k++) {
      for (let j = 0; j < long; j++) {
        let r = 0;
        for (let i = 0; i < short; i++) r += P.data[i * rank + k] * grad.data[i * long + j];
        const idx = k * long + j;
        const mi = beta1 * st.m[idx] + (1 - beta1) * r;
        const vi = beta2 * st.v[idx] + (1 - beta2) * r * r;
        st.m[idx] = mi;
        st.v[idx] = vi;
        n[idx] = mi / bc1 / (Math.sqrt(vi / bc2) + eps);
      }
    }
    const decay = 1 - lr * weightDecay;
    for (let i = 0; i < short; i++) {
      for (let j = 0; j < long; j++) {
        let s = 0;
        for (let k = 0; k < rank; k++) s += P.data[i * rank + k] * n[k * long + j];
        // Back to the parameter's own layout: (i, j) of the oriented matrix is (j, i) of a tall parameter.
        const at = st.flip ? j * st.cols + i : i * st.cols + j;
        p[at] = p[at] * decay - lr * scale * s;
      }
    }
  };

  return {
    name: "adam",
    update(values: HostParams, grads, lr) {
      t += 1;
      const rest: HostParams = {};
      for (const [key, p] of Object.entries(values)) {
        const g = grads[key];
        const st = projected.get(key);
        if (st === undefined) {
          rest[key] = p;
          continue;
        }
        if (g === undefined || g.length !== p.length) {
          throw new GradtraceError(
            "E_SHAPE",
            `optimizer galore-adam: gradient for "${key}" has ${g?.length ?? 0} values, parameter has ${p.length}`,
          );
        }
        projectedUpdate(st, p, g, lr);
      }
      plain.update(rest, grads, lr);
    },
    momentumBuffer() {
      // Projected parameters' first moments, carried back to parameter space (P·m), beside plain Adam's.
      const out: Record<string, Float32Array> = { ...plain.momentumBuffer() };
      for (const [name, st] of projected) {
        const buf = new Float32Array(st.rows * st.cols);
        if (st.projector.cols === st.rank) {
          for (let i = 0; i < st.short; i++) {
            for (let j = 0; j < st.long; j++) {
              let s = 0;
              for (let k = 0; k < st.rank; k++)
                s += st.projector.data[i * st.rank + k] * st.m[k * st.long + j];
              buf[st.flip ? j * st.cols + i : i * st.cols + j] = s;
            }
          }
        }
        out[name] = buf;
      }
      return out;
    },
  };
}
