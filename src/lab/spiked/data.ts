/** @file Training data of the spiked lab: X = X_B + ζ z qᵀ (n×d) with a Gaussian bulk of power-law covariance (or
 * standardised MNIST digits) plus a rank-one spike of strength ζ = n^ν, and targets from a fixed triple-index teacher
 * (or the digits' parity). Every random stream is derived from the one seed, so a configuration is reproducible and
 * sweeps over ν with the same seed share the bulk, the spike direction and the weights (common random numbers). */
import { createRng, deriveSeed, GradtraceError, type Mat, mat, type Rng } from "../../core/index.ts";
import { loadMnist, MNIST_PIXELS } from "../zoo/data/mnist.ts";

export interface SpikedDataOptions {
  n: number;
  d: number;
  /** Spike strength exponent: ζ = n^ν. */
  nu: number;
  /** Bulk covariance eigenvalues ∝ k^(−α) (normalised as `bulkNormalise` says). */
  alpha?: number;
  /** "mean1" (default): λ_k = k^(−α) rescaled to mean 1, so the input scale does not drift with α; "none": λ_k =
   * k^(−α) as written (λ_1 = 1; the mean is ≈ 0.05 at α 5/9, d 1000, so inputs are much smaller). */
  bulkNormalise?: BulkNormalise;
  /** Held-out samples drawn from the same distribution (same covariance, q, teacher; fresh bulk rows, z and label
   * noise) [0]. */
  testSamples?: number;
  seed?: number;
  /** "random": the covariance eigenbasis is a Haar-random orthogonal matrix; "aligned": the standard basis. Every
   * other random direction (q, W, teacher) is rotation-invariant, so both give the same distribution of every
   * reported statistic; "aligned" skips the 2·n·d² flops of the rotation. With α = 0 the bulk is isotropic and the
   * rotation is skipped in either case (it would not change the distribution). */
  basis?: "random" | "aligned";
  /** Make the teacher's first direction the spike direction q (so the labels depend on the spike). */
  teacherIncludesSpike?: boolean;
  /** Standard deviation of Gaussian noise added to the targets. */
  labelNoise?: number;
  /** "synthetic" Gaussian bulk, or the first n MNIST training digits (standardised; d is then 784). */
  source?: "synthetic" | "mnist";
}

export type BulkNormalise = "mean1" | "none";
export const BULK_NORMALISE_NAMES: readonly BulkNormalise[] = ["mean1", "none"];

/** Held-out inputs and targets. */
export interface HeldOut {
  readonly x: Mat;
  readonly y: Float64Array;
}

export interface SpikedData {
  /** Full inputs X = X_B + ζ z qᵀ, n×d. */
  readonly x: Mat;
  /** Bulk part X_B, n×d. */
  readonly xBulk: Mat;
  /** Spike direction q (unit, length d). */
  readonly q: Float64Array;
  /** Latent spike coordinates z (length n, i.i.d. N(0, 1)). */
  readonly z: Float64Array;
  /** ζ = n^ν. */
  readonly zeta: number;
  readonly y: Float64Array;
  /** Teacher directions u1, u2, u3 (synthetic data only; empty for MNIST). */
  readonly teacherDirections: readonly Float64Array[];
  /** Held-out set (`testSamples` rows), or null. */
  readonly test: HeldOut | null;
  readonly n: number;
  readonly d: number;
}

/** Seed streams: one per random object, so changing e.g. ν or the label noise never reshuffles the bulk. */
export const STREAM = {
  bulk: 1,
  basis: 2,
  spikeDirection: 3,
  spikeLatent: 4,
  teacher: 5,
  labelNoise: 6,
  weights: 7,
  secondLayer: 8,
  inputNoise: 9,
  batches: 10,
  svd: 11,
  mnistOrder: 12,
  testBulk: 13,
  testSpikeLatent: 14,
  testLabelNoise: 15,
  regNoise: 16,
} as const;

export function randomUnitVector(rng: Rng, d: number): Float64Array {
  const v = new Float64Array(d);
  let s = 0;
  for (let i = 0; i < d; i++) {
    v[i] = rng.normal();
    s += v[i] * v[i];
  }
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < d; i++) v[i] *= inv;
  return v;
}

/** Power-law covariance spectrum λ_k = k^(−α), k = 1..d, scaled to mean 1 ("mean1") or as written ("none"). */
export function powerLawSpectrum(d: number, alpha: number, normalise: BulkNormalise = "mean1"): Float64Array {
  const lam = Float64Array.from({ length: d }, (_, k) => (k + 1) ** -alpha);
  if (normalise === "none") return lam;
  if (normalise !== "mean1") {
    throw new GradtraceError(
      "E_ARG",
      `powerLawSpectrum: bulkNormalise must be mean1 or none, got "${normalise as string}"`,
    );
  }
  const mean = lam.reduce((s, v) => s + v, 0) / d;
  for (let k = 0; k < d; k++) lam[k] /= mean;
  return lam;
}

/** Rotates every row r of `rows` in place to (O r) with O Haar-distributed: O = H_0 H_1 ⋯ H_{d−1} D, the Householder
 * QR factor of a Gaussian matrix with the sign correction D = diag(sign R_kk) (Stewart 1980; Mezzadri 2007), applied
 * reflection by reflection so O is never formed. */
export function applyHaarRotation(rows: Mat, rng: Rng): void {
  const { rows: n, cols: d } = rows;
  const a = rows.data;
  const reflectors: Float64Array[] = [];
  const signs = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    const len = d - k;
    const u = new Float64Array(len);
    let s = 0;
    for (let i = 0; i < len; i++) {
      u[i] = rng.normal();
      s += u[i] * u[i];
    }
    const norm = Math.sqrt(s);
    const alphaK = u[0] >= 0 ? -norm : norm; // R_kk
    u[0] -= alphaK;
    let un = 0;
    for (let i = 0; i < len; i++) un += u[i] * u[i];
    const inv = un > 0 ? 1 / Math.sqrt(un) : 0;
    for (let i = 0; i < len; i++) u[i] *= inv;
    reflectors.push(u);
    signs[k] = alphaK >= 0 ? 1 : -1;
  }
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) a[i * d + k] *= signs[k];
  // x ← H_k x for k = d−1 down to 0; H_k = I − 2uuᵀ on coordinates k..d−1.
  for (let k = d - 1; k >= 0; k--) {
    const u = reflectors[k];
    const len = d - k;
    for (let i = 0; i < n; i++) {
      const base = i * d + k;
      let dot = 0;
      for (let t = 0; t < len; t++) dot += u[t] * a[base + t];
      const f = 2 * dot;
      for (let t = 0; t < len; t++) a[base + t] -= f * u[t];
    }
  }
}

/** The teacher nonlinearity φ(s1, s2, s3) = tanh(s1) + s2·s3 (a saturating single-index part plus a pairwise
 * interaction, so no linear model fits it exactly). */
export function teacherLink(s1: number, s2: number, s3: number): number {
  return Math.tanh(s1) + s2 * s3;
}

/** n Gaussian rows of covariance O diag(λ) Oᵀ. The rows come from `stream` (training or held-out) while the rotation
 * O always comes from STREAM.basis, so the held-out rows share the training rows' covariance. */
function syntheticBulk(
  n: number,
  d: number,
  alpha: number,
  seed: number,
  basis: "random" | "aligned",
  normalise: BulkNormalise,
  stream: number = STREAM.bulk,
): Mat {
  const xb = mat(n, d);
  const rng = createRng(deriveSeed(seed, stream));
  const sd = powerLawSpectrum(d, alpha, normalise).map(Math.sqrt);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) xb.data[i * d + k] = sd[k] * rng.normal();
  if (basis === "random" && alpha !== 0) applyHaarRotation(xb, createRng(deriveSeed(seed, STREAM.basis)));
  return xb;
}

/** n MNIST training digits (a seeded random subset), each pixel standardised to mean 0 and variance 1 over the
 * subset (constant pixels become 0), and labels. */
function mnistBulk(
  n: number,
  seed: number,
  testSamples: number,
): { xb: Mat; labels: Uint8Array; test: { xb: Mat; labels: Uint8Array } | null } {
  const data = loadMnist();
  const total = data.trainLabels.length;
  if (n + testSamples > total) {
    throw new GradtraceError(
      "E_ARG",
      `generateSpikedData: n = ${n} plus ${testSamples} held-out samples exceeds the ${total} MNIST training digits`,
    );
  }
  const rng = createRng(deriveSeed(seed, STREAM.mnistOrder));
  const order = Int32Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const d = MNIST_PIXELS;
  const pick = (from: number, count: number) => {
    const xb = mat(count, d);
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const src = order[from + i];
      labels[i] = data.trainLabels[src];
      for (let k = 0; k < d; k++) xb.data[i * d + k] = data.trainImages[src * d + k];
    }
    return { xb, labels };
  };
  const train = pick(0, n);
  const test = testSamples > 0 ? pick(n, testSamples) : null;
  const xb = train.xb;
  // Held-out digits are standardised with the training subset's pixel means and sds (what a model would see).
  for (let k = 0; k < d; k++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += xb.data[i * d + k];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (xb.data[i * d + k] - mean) ** 2;
    const sd = Math.sqrt(v / n);
    const standardise = (a: Mat) => {
      for (let i = 0; i < a.rows; i++) a.data[i * d + k] = sd > 1e-12 ? (a.data[i * d + k] - mean) / sd : 0;
    };
    standardise(xb);
    if (test) standardise(test.xb);
  }
  return { xb, labels: train.labels, test };
}

/** X = X_B + ζ z qᵀ row by row. */
function addSpike(xBulk: Mat, z: Float64Array, zeta: number, q: Float64Array): Mat {
  const { rows: n, cols: d } = xBulk;
  const x = mat(n, d);
  for (let i = 0; i < n; i++) {
    const c = zeta * z[i];
    for (let k = 0; k < d; k++) x.data[i * d + k] = xBulk.data[i * d + k] + c * q[k];
  }
  return x;
}

/** y_i = φ(⟨u1,x_i⟩, ⟨u2,x_i⟩, ⟨u3,x_i⟩). */
function teacherTargets(x: Mat, directions: readonly Float64Array[]): Float64Array {
  const { rows: n, cols: d } = x;
  const [u1, u2, u3] = directions;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const row = i * d;
    for (let k = 0; k < d; k++) {
      const v = x.data[row + k];
      s1 += u1[k] * v;
      s2 += u2[k] * v;
      s3 += u3[k] * v;
    }
    y[i] = teacherLink(s1, s2, s3);
  }
  return y;
}

function addLabelNoise(y: Float64Array, sd: number, rng: Rng): void {
  if (sd > 0) for (let i = 0; i < y.length; i++) y[i] += sd * rng.normal();
}

const parityTargets = (labels: Uint8Array) => Float64Array.from(labels, (l) => (l % 2 === 0 ? 1 : -1));

const bulkCache = new Map<string, Mat>();

export function generateSpikedData({
  n,
  d,
  nu,
  alpha = 0,
  seed = 0,
  basis = "random",
  bulkNormalise = "mean1",
  testSamples = 0,
  teacherIncludesSpike = false,
  labelNoise = 0,
  source = "synthetic",
}: SpikedDataOptions): SpikedData {
  for (const [name, v] of [
    ["n", n],
    ["d", d],
  ] as const) {
    if (!Number.isInteger(v) || v < 2) {
      throw new GradtraceError("E_ARG", `generateSpikedData: ${name} must be an integer ≥ 2, got ${v}`);
    }
  }
  if (!Number.isFinite(nu))
    throw new GradtraceError("E_ARG", `generateSpikedData: nu must be finite, got ${nu}`);
  if (!(alpha >= 0)) throw new GradtraceError("E_ARG", `generateSpikedData: alpha must be ≥ 0, got ${alpha}`);
  if (!(labelNoise >= 0)) {
    throw new GradtraceError("E_ARG", `generateSpikedData: labelNoise must be ≥ 0, got ${labelNoise}`);
  }
  if (!Number.isInteger(testSamples) || testSamples < 0) {
    throw new GradtraceError(
      "E_ARG",
      `generateSpikedData: testSamples must be a non-negative integer, got ${testSamples}`,
    );
  }
  let xBulk: Mat;
  let labels: Uint8Array | null = null;
  let testBulk: Mat | null = null;
  let testLabels: Uint8Array | null = null;
  if (source === "mnist") {
    const got = mnistBulk(n, seed, testSamples);
    xBulk = got.xb;
    labels = got.labels;
    testBulk = got.test?.xb ?? null;
    testLabels = got.test?.labels ?? null;
    d = xBulk.cols;
  } else if (source === "synthetic") {
    // The bulk is the expensive part (and the rotation very much so); sweeps over ν reuse it. Small cache.
    const key = `${n},${d},${alpha},${seed},${basis},${bulkNormalise}`;
    let cached = bulkCache.get(key);
    if (!cached) {
      cached = syntheticBulk(n, d, alpha, seed, basis, bulkNormalise);
      if (bulkCache.size >= 4) bulkCache.delete(bulkCache.keys().next().value as string);
      bulkCache.set(key, cached);
    }
    xBulk = cached;
    if (testSamples > 0) {
      testBulk = syntheticBulk(testSamples, d, alpha, seed, basis, bulkNormalise, STREAM.testBulk);
    }
  } else {
    throw new GradtraceError("E_ARG", `generateSpikedData: unknown source "${source as string}"`);
  }
  const q = randomUnitVector(createRng(deriveSeed(seed, STREAM.spikeDirection)), d);
  const zRng = createRng(deriveSeed(seed, STREAM.spikeLatent));
  const z = Float64Array.from({ length: n }, () => zRng.normal());
  const zeta = n ** nu;
  const x = addSpike(xBulk, z, zeta, q);
  const teacherDirections: Float64Array[] = [];
  let y: Float64Array;
  if (labels) {
    // MNIST: parity of the digit as a ±1 target (+1 even, −1 odd).
    y = parityTargets(labels);
  } else {
    const tRng = createRng(deriveSeed(seed, STREAM.teacher));
    for (let t = 0; t < 3; t++) teacherDirections.push(randomUnitVector(tRng, d));
    if (teacherIncludesSpike) teacherDirections[0] = q;
    y = teacherTargets(x, teacherDirections);
  }
  addLabelNoise(y, labelNoise, createRng(deriveSeed(seed, STREAM.labelNoise)));
  let test: HeldOut | null = null;
  if (testBulk) {
    const ztRng = createRng(deriveSeed(seed, STREAM.testSpikeLatent));
    const zt = Float64Array.from({ length: testBulk.rows }, () => ztRng.normal());
    const xt = addSpike(testBulk, zt, zeta, q);
    const yt = testLabels ? parityTargets(testLabels) : teacherTargets(xt, teacherDirections);
    addLabelNoise(yt, labelNoise, createRng(deriveSeed(seed, STREAM.testLabelNoise)));
    test = { x: xt, y: yt };
  }
  return { x, xBulk, q, z, zeta, y, teacherDirections, test, n, d };
}
