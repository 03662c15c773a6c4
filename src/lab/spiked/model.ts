/** @file The two-layer network f(x) = γ·aᵀσ(Wx) of the spiked lab and the exact gradient of its regularised squared
 * loss with respect to the first layer W (m×d; the spec writes the d×m transpose — the lab reports the m×d form,
 * rows = hidden units, so right singular vectors live in input space R^d and left ones in R^m).
 *
 * L(W) = (1/n)Σ ½(f(x_i) − y_i)² + λ_wd‖W‖_F² + λ_J (1/n)Σ_i ‖∂f/∂x(x_i)‖².
 * With H = XWᵀ (n×m), D = σ'(H), r = f − y:
 *   ∇_W data  = (γ/n) Mᵀ X,                 M_ij = r_i a_j D_ij
 *   ∇_W wd    = 2λ_wd W
 *   ∂f/∂x(x_i) = γ Wᵀ(a∘D_i) =: γ v_i,  V = (D∘a) W  (n×d)
 *   ∇_W jac   = (2λ_J γ²/n) [ (D∘a)ᵀ V + Kᵀ X ],  K_ij = (V Wᵀ)_ij a_j σ''(H_ij)
 * (the first term differentiates W where it appears explicitly, the second through σ'(w_jᵀx_i)). Input noise is not a
 * term of L: the caller adds fresh noise to X each step and passes the noisy inputs. */
import { createRng, deriveSeed, GradtraceError, type Mat, mat } from "../../core/index.ts";
import type { Activation } from "./activations.ts";
import { randomUnitVector, STREAM } from "./data.ts";
import type { Gemm } from "./gemm.ts";

export type Scaling = "ntk" | "mf";
export type WeightInit = "independent" | "dependent";
/** Readings of the paper's dependent construction W = W_S + n^(−1/4)·1qᵀ (rows of W_S uniform on the unit sphere):
 * "renormalised" (the caption's "W is then normalized": each row rescaled to unit norm), "unnormalised" (the sum as
 * written: rows of norm ≈ √(1 + n^(−1/2))), "scaled" (the shift read for W_S with N(0, 1) entries, i.e. divided by
 * √d when W_S has unit rows: w_j = w_S,j + n^(−1/4) d^(−1/2) q, then renormalised). */
export type DependentReading = "renormalised" | "unnormalised" | "scaled";
export const DEPENDENT_READINGS: readonly DependentReading[] = ["renormalised", "unnormalised", "scaled"];

export interface Network {
  /** First layer, m×d (trained). */
  readonly w: Mat;
  /** Second layer in {±1}^m (fixed). */
  readonly a: Float64Array;
  /** Output scale γ: 1/√m (ntk) or 1/m (mf). */
  readonly gamma: number;
}

export interface InitNetworkOptions {
  m: number;
  d: number;
  scaling?: Scaling;
  /** "independent": rows uniform on the unit sphere; "dependent": W = W_S + n^(−1/4)·1qᵀ read as `dependentReading`. */
  weights?: WeightInit;
  /** Which reading of the dependent construction [renormalised]. */
  dependentReading?: DependentReading;
  /** Spike direction and sample count (needed by "dependent"). */
  q?: Float64Array;
  n?: number;
  seed?: number;
}

export function outputScale(scaling: Scaling, m: number): number {
  if (scaling === "ntk") return 1 / Math.sqrt(m);
  if (scaling === "mf") return 1 / m;
  throw new GradtraceError(
    "E_ARG",
    `outputScale: unknown scaling "${scaling as string}"; expected ntk or mf`,
  );
}

export function initNetwork({
  m,
  d,
  scaling = "ntk",
  weights = "independent",
  dependentReading = "renormalised",
  q,
  n,
  seed = 0,
}: InitNetworkOptions): Network {
  if (!Number.isInteger(m) || m < 1)
    throw new GradtraceError("E_ARG", `initNetwork: m must be ≥ 1, got ${m}`);
  const w = mat(m, d);
  const wRng = createRng(deriveSeed(seed, STREAM.weights));
  for (let j = 0; j < m; j++) w.data.set(randomUnitVector(wRng, d), j * d);
  if (weights === "dependent") {
    if (!q || q.length !== d || !n) {
      throw new GradtraceError(
        "E_ARG",
        `initNetwork: weights "dependent" needs the spike direction q (length ${d}) and n`,
      );
    }
    if (!DEPENDENT_READINGS.includes(dependentReading)) {
      throw new GradtraceError(
        "E_ARG",
        `initNetwork: dependentReading must be one of ${DEPENDENT_READINGS.join(", ")}, got "${dependentReading as string}"`,
      );
    }
    const shift = dependentReading === "scaled" ? n ** -0.25 / Math.sqrt(d) : n ** -0.25;
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const v = w.data[j * d + k] + shift * q[k];
        w.data[j * d + k] = v;
        s += v * v;
      }
      if (dependentReading === "unnormalised") continue;
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < d; k++) w.data[j * d + k] *= inv;
    }
  } else if (weights !== "independent") {
    throw new GradtraceError("E_ARG", `initNetwork: unknown weights "${weights as string}"`);
  }
  const aRng = createRng(deriveSeed(seed, STREAM.secondLayer));
  const a = Float64Array.from({ length: m }, () => (aRng.uniform() < 0.5 ? -1 : 1));
  return { w, a, gamma: outputScale(scaling, m) };
}

export interface LossGradientOptions {
  x: Mat;
  y: Float64Array;
  net: Network;
  activation: Activation;
  gemm: Gemm;
  weightDecay?: number;
  jacobianPenalty?: number;
}

export interface LossGradient {
  /** Total regularised loss. */
  readonly loss: number;
  /** (1/n)Σ ½ r_i². */
  readonly dataLoss: number;
  readonly weightDecayLoss: number;
  readonly jacobianLoss: number;
  /** ∇_W of the total loss, m×d. */
  readonly grad: Mat;
  /** ∇_W of the data term alone, m×d (what S1 + S2 + E decomposes). */
  readonly dataGrad: Mat;
  /** grad − dataGrad (weight decay + Jacobian penalty), or null when both are off. */
  readonly regGrad: Mat | null;
  /** r = f(X) − y. */
  readonly residual: Float64Array;
  /** σ'(XWᵀ), n×m. */
  readonly dsigma: Mat;
}

export function lossAndGradient({
  x,
  y,
  net,
  activation,
  gemm,
  weightDecay = 0,
  jacobianPenalty = 0,
}: LossGradientOptions): LossGradient {
  const { w, a, gamma } = net;
  const n = x.rows;
  const d = x.cols;
  const m = w.rows;
  if (w.cols !== d || y.length !== n || a.length !== m) {
    throw new GradtraceError(
      "E_SHAPE",
      `lossAndGradient: X is ${n}×${d}, W is ${m}×${w.cols}, y has ${y.length}, a has ${a.length}; expected W m×${d}, y ${n}, a m`,
    );
  }
  const h = gemm.mul(x, w, { transB: true });
  const dsig = mat(n, m);
  const residual = new Float64Array(n);
  const { sigma, dsigma } = activation;
  let dataLoss = 0;
  for (let i = 0; i < n; i++) {
    const row = i * m;
    let f = 0;
    for (let j = 0; j < m; j++) {
      const v = h.data[row + j];
      f += a[j] * sigma(v);
      dsig.data[row + j] = dsigma(v);
    }
    const r = gamma * f - y[i];
    if (!Number.isFinite(r)) {
      throw new GradtraceError("E_NUMERIC", `lossAndGradient: residual of sample ${i} is ${r} (diverged?)`);
    }
    residual[i] = r;
    dataLoss += 0.5 * r * r;
  }
  dataLoss /= n;
  // M is stored n×m (like H) and transposed inside the product.
  const mm = mat(n, m);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    const r = residual[i];
    for (let j = 0; j < m; j++) mm.data[row + j] = r * a[j] * dsig.data[row + j];
  }
  const dataGrad = gemm.mul(mm, x, { transA: true });
  const scale = gamma / n;
  for (let t = 0; t < dataGrad.data.length; t++) dataGrad.data[t] *= scale;

  let weightDecayLoss = 0;
  let jacobianLoss = 0;
  let regGrad: Mat | null = null;
  if (weightDecay > 0) {
    regGrad = mat(m, d);
    let s = 0;
    for (let t = 0; t < w.data.length; t++) {
      s += w.data[t] * w.data[t];
      regGrad.data[t] = 2 * weightDecay * w.data[t];
    }
    weightDecayLoss = weightDecay * s;
  }
  if (jacobianPenalty > 0) {
    const jac = jacobianPenaltyGradient(x, h, dsig, net, activation, gemm, jacobianPenalty);
    jacobianLoss = jac.loss;
    if (regGrad === null) regGrad = jac.grad;
    else for (let t = 0; t < regGrad.data.length; t++) regGrad.data[t] += jac.grad.data[t];
  }
  let grad = dataGrad;
  if (regGrad !== null) {
    grad = mat(m, d);
    for (let t = 0; t < grad.data.length; t++) grad.data[t] = dataGrad.data[t] + regGrad.data[t];
  }
  return {
    loss: dataLoss + weightDecayLoss + jacobianLoss,
    dataLoss,
    weightDecayLoss,
    jacobianLoss,
    grad,
    dataGrad,
    regGrad,
    residual,
    dsigma: dsig,
  };
}

/** f(x_i) = γ aᵀσ(W x_i) for every row of x (held-out evaluation). */
export function predict(x: Mat, net: Network, activation: Activation, gemm: Gemm): Float64Array {
  const { w, a, gamma } = net;
  if (x.cols !== w.cols) {
    throw new GradtraceError("E_SHAPE", `predict: X has ${x.cols} columns, W has ${w.cols}`);
  }
  const m = w.rows;
  const h = gemm.mul(x, w, { transB: true });
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let f = 0;
    for (let j = 0; j < m; j++) f += a[j] * activation.sigma(h.data[i * m + j]);
    out[i] = gamma * f;
  }
  return out;
}

/** λ_J (1/n)Σ‖∂f/∂x(x_i)‖² and its gradient (see the file comment for the derivation). */
function jacobianPenaltyGradient(
  x: Mat,
  h: Mat,
  dsig: Mat,
  net: Network,
  activation: Activation,
  gemm: Gemm,
  lambda: number,
): { loss: number; grad: Mat } {
  const { w, a, gamma } = net;
  const n = x.rows;
  const m = w.rows;
  const d2 = activation.d2sigma;
  if (!d2) {
    throw new GradtraceError(
      "E_ARG",
      `lossAndGradient: the Jacobian penalty needs the second derivative d2sigma of activation "${activation.name}"`,
    );
  }
  const da = mat(n, m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) da.data[i * m + j] = a[j] * dsig.data[i * m + j];
  const v = gemm.mul(da, w); // n×d: row i is Wᵀ(a∘D_i)
  let sq = 0;
  for (let t = 0; t < v.data.length; t++) sq += v.data[t] * v.data[t];
  const loss = (lambda * gamma * gamma * sq) / n;
  const grad = gemm.mul(da, v, { transA: true }); // m×d
  // Second term only when σ'' is not identically zero (skips two products for ReLU).
  const k = mat(n, m);
  let anyCurvature = false;
  for (let t = 0; t < h.data.length; t++) {
    const c = d2(h.data[t]);
    k.data[t] = c;
    if (c !== 0) anyCurvature = true;
  }
  if (anyCurvature) {
    const vw = gemm.mul(v, w, { transB: true }); // n×m
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) k.data[i * m + j] *= vw.data[i * m + j] * a[j];
    }
    const second = gemm.mul(k, x, { transA: true });
    for (let t = 0; t < grad.data.length; t++) grad.data[t] += second.data[t];
  }
  const scale = (2 * lambda * gamma * gamma) / n;
  for (let t = 0; t < grad.data.length; t++) grad.data[t] *= scale;
  return { loss, grad };
}
