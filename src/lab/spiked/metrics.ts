/** @file What the lab measures on one gradient G (m×d): its top singular values and vectors (randomized SVD, float64),
 * the number of outliers above the bulk edge, effective/stable rank from the full spectrum, alignment of the singular
 * directions with the theory's directions (bulk data-residue X_Bᵀr, spike q, a∘μ, S2's left factor c), the energy of
 * G inside span{X_Bᵀr, q}, the norms of S1, S2, E (of the data gradient, and of the total gradient with the
 * regulariser's gradient inside) and the singular values that S1 + S2 alone would have.
 *
 * Outliers, not energy: "approximately rank one / two" means one / two singular values separated from the bulk. The
 * bulk is read off the spectrum itself: σ_4..σ_k is the reference bulk (the theory allows at most two outliers, and
 * one more is kept as a candidate), its edge is β = σ_4 and its mean spacing δ = (σ_4 − σ_k)/(k − 4). The number of
 * outliers is the largest i ≤ 3 whose gap to the next value is wide, σ_i − σ_{i+1} > 6δ (0 when none is): the
 * leading i values stand apart from everything below them. Gaps between neighbouring bulk values near a random-matrix
 * edge are a few δ (the largest of the top three gaps of a Gaussian matrix exceeded 6δ in 1 of 300 draws at 100×80,
 * in none of 250 at 150×120 and 250×200), while a spike the theory counts is separated by many. Two outliers of nearly equal size (a small gap
 * σ_1 − σ_2 and a wide σ_2 − σ_3) count as two. */
import {
  clampGramEigenvalues,
  effectiveRank,
  type Mat,
  mat,
  randomizedSvd,
  symmetricEigen,
} from "../../core/index.ts";
import type { Decomposition, RegularisedComponents } from "./decomposition.ts";
import { type Gemm, gemmOperator } from "./gemm.ts";

export interface GradientMetrics {
  /** Top-k singular values of G, descending. */
  singularValues: number[];
  /** Number of leading singular values separated from the bulk (see the file comment); NaN when k < 7. */
  outliers: number;
  /** β = σ_4, the top of the reference bulk σ_4..σ_k. */
  bulkEdge: number;
  /** δ = (σ_4 − σ_k)/(k − 4), the bulk's mean spacing; σ_i starts a gap when σ_i − σ_{i+1} > 6δ. */
  bulkSpacing: number;
  frobeniusNorm: number;
  /** ‖G_data‖_F: the data gradient alone (what S1 + S2 + E decomposes); equals frobeniusNorm without regularisers. */
  dataFrobeniusNorm: number;
  /** Roy–Vetterli effective rank of the full spectrum (null when fullSpectrum is off). */
  effectiveRank: number | null;
  /** ‖G‖_F² / σ₁². */
  stableRank: number;
  /** (σ₁² + σ₂²) / ‖G‖_F². */
  top2Energy: number;
  /** |cos| of the i-th right singular vector with X_Bᵀr. */
  cosResidue: number[];
  /** |cos| of the i-th right singular vector with q. */
  cosSpike: number[];
  /** |cos| of the i-th left singular vector with a∘μ (S1's left direction). */
  cosAMu: number[];
  /** |cos| of the i-th left singular vector with c (S2's left direction). */
  cosS2Left: number[];
  /** ‖G P‖_F² / ‖G‖_F², P the orthogonal projector onto span{X_Bᵀr, q} (input side). */
  energyInSpan: number;
  /** |cos(X_Bᵀr, q)|: how far the two theory directions are from orthogonal. */
  cosResidueSpike: number;
  /** |cos(a∘μ, c)|: the hidden-side factors of S1 and S2. Near 1, S1 + S2 is nearly rank one whatever their sizes
   * (the two terms share a left direction), so a second outlier cannot appear. */
  cosLeftFactors: number;
  /** ‖S1‖, ‖S2‖, ‖E‖ (operator norms; E is the centred bulk fluctuation of the data gradient). */
  s1Norm: number;
  s2Norm: number;
  errNorm: number;
  /** ‖G_reg‖ = ‖G − G_data‖ (operator norm) of the regulariser gradient; 0 without a regulariser. */
  regNorm: number;
  /** ‖G_reg‖_F. */
  regFrobeniusNorm: number;
  /** ‖S1ᴳ‖, ‖S2ᴳ‖, ‖Eᴳ‖: the components of the total gradient G = G_data + G_reg, the regulariser's gradient split
   * along X_Bᵀr, q and the rest (decomposition.ts); equal to s1Norm, s2Norm, errNorm without a regulariser. */
  s1NormTotal: number;
  s2NormTotal: number;
  errNormTotal: number;
  /** The two singular values of S1 + S2 alone (theory's prediction of σ₁, σ₂ when E is negligible). */
  predictedSingularValues: [number, number];
  /** ‖G_data − (S1 + S2 + E)‖_F / ‖G_data‖_F: rounding only (float32 products give ~1e-7). */
  identityResidual: number;
  /** Mean and standard deviation of μ_j over hidden units. */
  muMean: number;
  muSd: number;
}

export interface MetricsOptions {
  grad: Mat;
  dataGrad: Mat;
  regGrad: Mat | null;
  dec: Decomposition;
  /** The components of the total gradient (includeRegulariser); absent = no regulariser. */
  total?: RegularisedComponents;
  gemm: Gemm;
  topK?: number;
  /** Compute all singular values (Gram of the smaller side + symmetric eigenvalues) for the effective rank. */
  fullSpectrum?: boolean;
  powerIters?: number;
  seed?: number;
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function absCos(x: Float64Array, y: Float64Array): number {
  const nx = Math.sqrt(dot(x, x));
  const ny = Math.sqrt(dot(y, y));
  return nx > 0 && ny > 0 ? Math.abs(dot(x, y)) / (nx * ny) : 0;
}

function column(a: Mat, j: number): Float64Array {
  return Float64Array.from({ length: a.rows }, (_, i) => a.data[i * a.cols + j]);
}

/** G·v for a vector v (length cols). */
function apply(g: Mat, v: Float64Array): Float64Array {
  const out = new Float64Array(g.rows);
  for (let i = 0; i < g.rows; i++) {
    let s = 0;
    const row = i * g.cols;
    for (let k = 0; k < g.cols; k++) s += g.data[row + k] * v[k];
    out[i] = s;
  }
  return out;
}

/** ‖x‖²‖y‖² − (x·y)² by Lagrange's identity Σ_{i<j}(x_i y_j − x_j y_i)²: exact and ≥ 0 where the direct formula
 * cancels catastrophically for nearly parallel vectors. O(len²), fine for len ≤ a few thousand. */
function gramDeterminant(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = y[i];
    for (let j = i + 1; j < x.length; j++) {
      const t = xi * y[j] - x[j] * yi;
      s += t * t;
    }
  }
  return s;
}

/** Singular values of u1v1ᵀ + u2v2ᵀ (factors not necessarily orthogonal): with A = [u1, u2], B = [v1, v2], σ1² + σ2²
 * = tr(AᵀA·BᵀB) and σ1·σ2 = √(det AᵀA · det BᵀB) (the Gram determinants computed without cancellation), so the
 * small σ2 of a nearly rank-one sum keeps its relative accuracy. */
export function rankTwoSingularValues(
  u1: Float64Array,
  v1: Float64Array,
  u2: Float64Array,
  v2: Float64Array,
): [number, number] {
  const p11 = dot(u1, u1);
  const p12 = dot(u1, u2);
  const p22 = dot(u2, u2);
  const q11 = dot(v1, v1);
  const q12 = dot(v1, v2);
  const q22 = dot(v2, v2);
  const tr = p11 * q11 + 2 * p12 * q12 + p22 * q22;
  const prod = Math.sqrt(gramDeterminant(u1, u2) * gramDeterminant(v1, v2));
  // σ1² is the larger root of λ² − tr·λ + prod² = 0; σ2 = prod/σ1 avoids subtracting nearly equal numbers.
  const disc = Math.sqrt(Math.max(0, tr * tr - 4 * prod * prod));
  const s1 = Math.sqrt((tr + disc) / 2);
  return [s1, s1 > 0 ? prod / s1 : 0];
}

export interface OutlierSummary {
  outliers: number;
  bulkEdge: number;
  bulkSpacing: number;
}

/** A gap wider than this many mean bulk spacings separates outliers from the bulk. */
export const OUTLIER_GAP = 6;

/** Outliers above the bulk edge from the top singular values (descending): see the file comment. Needs k ≥ 7 values
 * (σ_4..σ_7 at least as the reference bulk); NaN fields otherwise. */
export function spectrumOutliers(singularValues: readonly number[]): OutlierSummary {
  const k = singularValues.length;
  if (k < 7) return { outliers: Number.NaN, bulkEdge: Number.NaN, bulkSpacing: Number.NaN };
  const edge = singularValues[3];
  const spacing = (edge - singularValues[k - 1]) / (k - 4);
  let outliers = 0;
  for (let i = 0; i < 3; i++) {
    if (singularValues[i] - singularValues[i + 1] > OUTLIER_GAP * spacing) outliers = i + 1;
  }
  return { outliers, bulkEdge: edge, bulkSpacing: spacing };
}

function frobenius(a: Mat): number {
  let s = 0;
  for (let t = 0; t < a.data.length; t++) s += a.data[t] * a.data[t];
  return Math.sqrt(s);
}

export function gradientMetrics({
  grad,
  dataGrad,
  regGrad,
  dec,
  total,
  gemm,
  topK = 10,
  fullSpectrum = true,
  powerIters = 3,
  seed = 0,
}: MetricsOptions): GradientMetrics {
  const svd = randomizedSvd(gemmOperator(grad, gemm), topK, { oversample: 10, powerIters, seed });
  const k = svd.s.length;
  const fro = frobenius(grad);
  const froSq = fro * fro;
  const cosResidue: number[] = [];
  const cosSpike: number[] = [];
  const cosAMu: number[] = [];
  const cosS2Left: number[] = [];
  for (let i = 0; i < k; i++) {
    const v = column(svd.v, i);
    const u = column(svd.u, i);
    cosResidue.push(absCos(v, dec.residue));
    cosSpike.push(absCos(v, dec.q));
    cosAMu.push(absCos(u, dec.s1Left));
    cosS2Left.push(absCos(u, dec.s2Left));
  }
  // Orthonormal basis of span{X_Bᵀr, q} by Gram–Schmidt (q is a unit vector).
  const e1 = Float64Array.from(dec.q);
  const e2 = Float64Array.from(dec.residue);
  const proj = dot(e2, e1);
  for (let t = 0; t < e2.length; t++) e2[t] -= proj * e1[t];
  const n2 = Math.sqrt(dot(e2, e2));
  let spanEnergy = dot(apply(grad, e1), apply(grad, e1));
  if (n2 > 1e-12 * Math.sqrt(dot(dec.residue, dec.residue))) {
    for (let t = 0; t < e2.length; t++) e2[t] /= n2;
    const g2 = apply(grad, e2);
    spanEnergy += dot(g2, g2);
  }
  let effRank: number | null = null;
  // Stable rank from the float64 Frobenius norm and σ₁ (more accurate than a float32 Gram's eigenvalues).
  const stab = froSq > 0 && svd.s[0] > 0 ? froSq / (svd.s[0] * svd.s[0]) : 0;
  if (fullSpectrum) {
    const gram =
      grad.rows >= grad.cols
        ? gemm.mul(grad, grad, { transA: true })
        : gemm.mul(grad, grad, { transB: true });
    const p = gram.rows;
    const sym = mat(p, p);
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) sym.data[i * p + j] = 0.5 * (gram.data[i * p + j] + gram.data[j * p + i]);
    }
    const sigmaSq = clampGramEigenvalues(symmetricEigen(sym, { vectors: false }).values);
    effRank = effectiveRank(sigmaSq);
  }
  let identitySq = 0;
  let dataSq = 0;
  const m = dec.s1Left.length;
  const d = dec.residue.length;
  for (let j = 0; j < m; j++) {
    const l1 = dec.s1Scale * dec.s1Left[j];
    const l2 = dec.s2Left[j];
    for (let t = 0; t < d; t++) {
      const g = dataGrad.data[j * d + t];
      const diff = g - l1 * dec.residue[t] - l2 * dec.q[t] - dec.e.data[j * d + t];
      identitySq += diff * diff;
      dataSq += g * g;
    }
  }
  let muMean = 0;
  for (const v of dec.mu) muMean += v;
  muMean /= m;
  let muVar = 0;
  for (const v of dec.mu) muVar += (v - muMean) ** 2;
  const s1Scaled = Float64Array.from(dec.s1Left, (v) => v * dec.s1Scale);
  return {
    singularValues: Array.from(svd.s),
    ...spectrumOutliers(Array.from(svd.s)),
    frobeniusNorm: fro,
    dataFrobeniusNorm: Math.sqrt(dataSq),
    effectiveRank: effRank,
    stableRank: stab,
    top2Energy: froSq > 0 ? ((svd.s[0] ?? 0) ** 2 + (svd.s[1] ?? 0) ** 2) / froSq : 0,
    cosResidue,
    cosSpike,
    cosAMu,
    cosS2Left,
    energyInSpan: froSq > 0 ? spanEnergy / froSq : 0,
    cosResidueSpike: absCos(dec.residue, dec.q),
    cosLeftFactors: absCos(dec.s1Left, dec.s2Left),
    s1Norm: dec.s1Norm,
    s2Norm: dec.s2Norm,
    errNorm: dec.errNorm,
    regNorm: regGrad
      ? (randomizedSvd(gemmOperator(regGrad, gemm), 1, { oversample: 5, powerIters: 4, seed }).s[0] ?? 0)
      : 0,
    regFrobeniusNorm: regGrad ? frobenius(regGrad) : 0,
    s1NormTotal: total?.s1Norm ?? dec.s1Norm,
    s2NormTotal: total?.s2Norm ?? dec.s2Norm,
    errNormTotal: total?.errNorm ?? dec.errNorm,
    predictedSingularValues: rankTwoSingularValues(s1Scaled, dec.residue, dec.s2Left, dec.q),
    identityResidual: dataSq > 0 ? Math.sqrt(identitySq / dataSq) : 0,
    muMean,
    muSd: Math.sqrt(muVar / m),
  };
}
