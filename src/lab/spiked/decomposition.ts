/** @file The decomposition G_data = S1 + S2 + E of the first-layer data gradient, from the definitions.
 *
 * With X = X_B + ζ z qᵀ, D = σ'(XWᵀ) (n×m), μ_j = (1/n)Σ_i D_ij (the empirical mean over the data of σ'(w_jᵀx)),
 * G_data = (γ/n) Σ_i r_i (a∘D_i) x_iᵀ splits exactly into
 *   S1 = (γ/n) (a∘μ)(X_Bᵀr)ᵀ                          rank one: left a∘μ, right the bulk data-residue X_Bᵀr
 *   S2 = c qᵀ,  c_j = (γζ/n) a_j Σ_i r_i z_i D_ij       rank one: the whole spike part ζ z qᵀ (σ' kept exact)
 *   E  = (γ/n) Σ_i r_i (a∘(D_i − μ)) x_{B,i}ᵀ          the centred bulk fluctuation
 * so S1 + S2 + E = G_data holds identically (up to rounding).
 *
 * The paper's G includes the regulariser's gradient λ∇R (G = G_data + G_reg). `includeRegulariser` puts G_reg into
 * the same three terms by splitting it along the two theory directions of input space: with r̂ = X_Bᵀr/‖X_Bᵀr‖ and
 * B = [r̂, q], the oblique projection G_reg B(BᵀB)⁻¹Bᵀ = u1 r̂ᵀ + u2 qᵀ joins S1 (right factor r̂) and S2 (right factor
 * q), the rest joins E:
 *   S1ᴳ = S1 + u1 r̂ᵀ,  S2ᴳ = S2 + u2 qᵀ,  Eᴳ = E + G_reg − u1 r̂ᵀ − u2 qᵀ,  S1ᴳ + S2ᴳ + Eᴳ = G.
 * Each term keeps its rank and its right direction, so "the regulariser modulates S1 / S2" is measurable as the change
 * of ‖S1ᴳ‖ / ‖S2ᴳ‖. */
import { GradtraceError, type Mat, mat, randomizedSvd } from "../../core/index.ts";
import type { SpikedData } from "./data.ts";
import { type Gemm, gemmOperator } from "./gemm.ts";
import type { LossGradient, Network } from "./model.ts";

export interface DecompositionInput {
  xBulk: Mat;
  q: Float64Array;
  z: Float64Array;
  zeta: number;
  residual: Float64Array;
  /** σ'(XWᵀ), n×m. */
  dsigma: Mat;
  a: Float64Array;
  gamma: number;
  gemm: Gemm;
  /** Seed of the randomized power iteration for ‖E‖. */
  seed?: number;
}

export interface Decomposition {
  /** μ_j, length m. */
  readonly mu: Float64Array;
  /** a∘μ (S1's left factor). */
  readonly s1Left: Float64Array;
  /** X_Bᵀr (S1's right factor, the bulk data-residue). */
  readonly residue: Float64Array;
  /** S1 = s1Scale · s1Left · residueᵀ with s1Scale = γ/n. */
  readonly s1Scale: number;
  /** c (S2's left factor); S2 = c qᵀ. */
  readonly s2Left: Float64Array;
  readonly q: Float64Array;
  /** E, m×d. */
  readonly e: Mat;
  /** Operator norms (S1 and S2 are rank one: the product of their factors' norms). */
  readonly s1Norm: number;
  readonly s2Norm: number;
  readonly errNorm: number;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The decomposition's input from its three sources: the spiked data (X_B, q, z, ζ), the loss gradient (r, σ') and
 * the network (a, γ). */
export function decompositionInput(
  data: Pick<SpikedData, "xBulk" | "q" | "z" | "zeta">,
  grad: Pick<LossGradient, "residual" | "dsigma">,
  net: Pick<Network, "a" | "gamma">,
  gemm: Gemm,
): DecompositionInput {
  return {
    xBulk: data.xBulk,
    q: data.q,
    z: data.z,
    zeta: data.zeta,
    residual: grad.residual,
    dsigma: grad.dsigma,
    a: net.a,
    gamma: net.gamma,
    gemm,
  };
}

export function decomposeGradient({
  xBulk,
  q,
  z,
  zeta,
  residual,
  dsigma,
  a,
  gamma,
  gemm,
  seed = 0,
}: DecompositionInput): Decomposition {
  const n = xBulk.rows;
  const d = xBulk.cols;
  const m = a.length;
  if (dsigma.rows !== n || dsigma.cols !== m || residual.length !== n || z.length !== n || q.length !== d) {
    throw new GradtraceError(
      "E_SHAPE",
      `decomposeGradient: X_B ${n}×${d}, σ' ${dsigma.rows}×${dsigma.cols}, r ${residual.length}, z ${z.length}, q ${q.length}, a ${m}`,
    );
  }
  const D = dsigma.data;
  const mu = new Float64Array(m);
  const c = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    const rz = residual[i] * z[i];
    for (let j = 0; j < m; j++) {
      mu[j] += D[row + j];
      c[j] += rz * D[row + j];
    }
  }
  const s1Left = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    mu[j] /= n;
    s1Left[j] = a[j] * mu[j];
    c[j] *= (gamma * zeta * a[j]) / n;
  }
  const residue = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = residual[i];
    const row = i * d;
    for (let k = 0; k < d; k++) residue[k] += r * xBulk.data[row + k];
  }
  const centred = mat(n, m);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    const r = residual[i];
    for (let j = 0; j < m; j++) centred.data[row + j] = r * a[j] * (D[row + j] - mu[j]);
  }
  const e = gemm.mul(centred, xBulk, { transA: true });
  const s1Scale = gamma / n;
  for (let t = 0; t < e.data.length; t++) e.data[t] *= s1Scale;
  const errNorm = randomizedSvd(gemmOperator(e, gemm), 1, { oversample: 5, powerIters: 4, seed }).s[0] ?? 0;
  return {
    mu,
    s1Left,
    residue,
    s1Scale,
    s2Left: c,
    q,
    e,
    s1Norm: s1Scale * norm(s1Left) * norm(residue),
    s2Norm: norm(c) * norm(q),
    errNorm,
  };
}

/** S1 and S2 as dense m×d matrices (tests and small diagnostics; the lab itself never forms them). */
export function denseComponents(dec: Decomposition): { s1: Mat; s2: Mat } {
  const m = dec.s1Left.length;
  const d = dec.residue.length;
  const s1 = mat(m, d);
  const s2 = mat(m, d);
  for (let j = 0; j < m; j++) {
    const l1 = dec.s1Scale * dec.s1Left[j];
    const l2 = dec.s2Left[j];
    for (let k = 0; k < d; k++) {
      s1.data[j * d + k] = l1 * dec.residue[k];
      s2.data[j * d + k] = l2 * dec.q[k];
    }
  }
  return { s1, s2 };
}

export interface RegularisedComponents {
  /** S1ᴳ = s1Left · r̂ᵀ with r̂ the unit bulk data-residue direction. */
  readonly s1Left: Float64Array;
  readonly residueUnit: Float64Array;
  /** S2ᴳ = s2Left · qᵀ. */
  readonly s2Left: Float64Array;
  /** Eᴳ = E + (the part of G_reg outside span{r̂, q}), m×d. */
  readonly e: Mat;
  readonly s1Norm: number;
  readonly s2Norm: number;
  readonly errNorm: number;
}

/** The decomposition of the total gradient G = G_data + G_reg (see the file comment). Without a regulariser the
 * components are S1, S2, E themselves. */
export function includeRegulariser(
  dec: Decomposition,
  regGrad: Mat | null,
  gemm: Gemm,
  seed = 0,
): RegularisedComponents {
  const m = dec.s1Left.length;
  const d = dec.residue.length;
  const resNorm = norm(dec.residue);
  const residueUnit = Float64Array.from(dec.residue, (v) => (resNorm > 0 ? v / resNorm : 0));
  const s1Left = Float64Array.from(dec.s1Left, (v) => v * dec.s1Scale * resNorm);
  const s2Left = Float64Array.from(dec.s2Left);
  if (regGrad === null) {
    return {
      s1Left,
      residueUnit,
      s2Left,
      e: dec.e,
      s1Norm: dec.s1Norm,
      s2Norm: dec.s2Norm,
      errNorm: dec.errNorm,
    };
  }
  if (regGrad.rows !== m || regGrad.cols !== d) {
    throw new GradtraceError(
      "E_SHAPE",
      `includeRegulariser: G_reg is ${regGrad.rows}×${regGrad.cols}, expected ${m}×${d}`,
    );
  }
  const { q } = dec;
  let c = 0;
  for (let k = 0; k < d; k++) c += residueUnit[k] * q[k];
  const g1 = new Float64Array(m);
  const g2 = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let a1 = 0;
    let a2 = 0;
    const row = j * d;
    for (let k = 0; k < d; k++) {
      a1 += regGrad.data[row + k] * residueUnit[k];
      a2 += regGrad.data[row + k] * q[k];
    }
    g1[j] = a1;
    g2[j] = a2;
  }
  // [u1 u2] = [G_reg r̂, G_reg q] (BᵀB)⁻¹ with BᵀB = [[1, c], [c, 1]]; a vanishing residue leaves only q.
  const det = 1 - c * c;
  const u1 = new Float64Array(m);
  const u2 = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    if (resNorm > 0 && det > 1e-12) {
      u1[j] = (g1[j] - c * g2[j]) / det;
      u2[j] = (g2[j] - c * g1[j]) / det;
    } else u2[j] = g2[j];
  }
  const e = mat(m, d);
  for (let j = 0; j < m; j++) {
    s1Left[j] += u1[j];
    s2Left[j] += u2[j];
    const row = j * d;
    for (let k = 0; k < d; k++) {
      e.data[row + k] = dec.e.data[row + k] + regGrad.data[row + k] - u1[j] * residueUnit[k] - u2[j] * q[k];
    }
  }
  const errNorm = randomizedSvd(gemmOperator(e, gemm), 1, { oversample: 5, powerIters: 4, seed }).s[0] ?? 0;
  return { s1Left, residueUnit, s2Left, e, s1Norm: norm(s1Left), s2Norm: norm(s2Left) * norm(q), errNorm };
}
