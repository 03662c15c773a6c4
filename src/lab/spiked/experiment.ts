/** @file One configuration of the spiked lab, end to end: data, network, optional gradient-descent training, and the
 * gradient analysis at initialisation and at chosen steps. `runSpiked` is what the CLI, the sweeps and the
 * reproduction call; its result is the JSON documented in docs/lab-spiked.md. */
import { createRng, deriveSeed, GradtraceError, type Mat, mat } from "../../core/index.ts";
import { type Activation, type ActivationName, resolveActivation } from "./activations.ts";
import { type BulkNormalise, generateSpikedData, type SpikedData, STREAM } from "./data.ts";
import { decomposeGradient, decompositionInput, includeRegulariser } from "./decomposition.ts";
import { type Gemm, type GemmKind, resolveGemm } from "./gemm.ts";
import { type GradientMetrics, gradientMetrics } from "./metrics.ts";
import {
  type DependentReading,
  initNetwork,
  type LossGradient,
  lossAndGradient,
  type Network,
  predict,
  type Scaling,
  type WeightInit,
} from "./model.ts";

export interface SpikedConfig {
  /** Samples [750]. */
  n: number;
  /** Input dimension [1000] (784 for MNIST, whatever is asked). */
  d: number;
  /** Hidden width [1250]. */
  m: number;
  /** Spike strength exponent, ζ = n^ν [0.125]. */
  nu: number;
  /** Bulk covariance decay λ_k ∝ k^(−α) [0]. */
  alpha: number;
  /** [mean1] λ_k = k^(−α) rescaled to mean 1, or none (as written). */
  bulkNormalise: BulkNormalise;
  /** [relu] or a custom { name, sigma, dsigma, d2sigma? } (library API only). */
  activation: ActivationName | Activation;
  /** [ntk] γ = 1/√m, or mf γ = 1/m. */
  scaling: Scaling;
  /** [independent] or dependent W = W_S + n^(−1/4)·1qᵀ (read as `dependentReading`). */
  weights: WeightInit;
  /** [renormalised] rows rescaled to unit norm, unnormalised, or scaled (the shift divided by √d, then renormalised). */
  dependentReading: DependentReading;
  seed: number;
  /** [synthetic] Gaussian bulk, or MNIST digits (parity ±1 targets). */
  data: "synthetic" | "mnist";
  /** Covariance eigenbasis [random] (see SpikedDataOptions.basis). */
  basis: "random" | "aligned";
  teacherIncludesSpike: boolean;
  labelNoise: number;
  /** Held-out samples from the same distribution; their loss is recorded at every analyzed step [0 = none]. */
  testSamples: number;
  /** Gradient-descent steps [0 = analyze the initialisation only]. */
  steps: number;
  /** Learning rate, or "auto" [default]: 1/λ̂ with λ̂ = γ²m·mean(σ'²)·λ_max(XXᵀ)/n, the Gauss–Newton curvature
   * estimate of the loss at initialisation (a fixed lr that is stable at ν = 0 diverges at ν = 0.35, where the
   * spike adds ζ² = n^{2ν} to λ_max(XXᵀ)/n). */
  lr: number | "auto";
  /** Mini-batch size for the updates [0 = full batch]; the analysis always uses the full batch. */
  batchSize: number;
  /** λ of λ‖W‖_F² [0]. */
  weightDecay: number;
  /** Standard deviation of fresh Gaussian noise added to X at every step [0]. */
  inputNoise: number;
  /** Noise draws averaged when the analysis estimates input noise's effective regulariser gradient
   * E_N[∇L_data(X + N)] − ∇L_data(X) [4]. */
  noiseDraws: number;
  /** λ_J of λ_J (1/n)Σ‖∂f/∂x‖² [0]. */
  jacobianPenalty: number;
  /** On divergence (loss above 10⁴× the initial one): false [default] throws E_NUMERIC; true stops training there
   * and returns what was analyzed so far with `divergedAt` set (sweeps that must not lose a whole grid). */
  stopOnDivergence: boolean;
  /** Steps at which G is analyzed; [] = automatic (0, and ~8 log-spaced steps up to `steps`). */
  analyzeSteps: number[];
  /** Singular values/vectors reported [10]. */
  topK: number;
  /** Effective rank needs the whole spectrum (a Gram eigendecomposition of the smaller side, ~1 s at d = 1000). */
  fullSpectrum: boolean;
  /** Products: float64 (exact), jax (float32 WASM), auto [by size]. */
  gemm: GemmKind;
}

export const DEFAULT_SPIKED_CONFIG: Readonly<SpikedConfig> = Object.freeze({
  n: 750,
  d: 1000,
  m: 1250,
  nu: 0.125,
  alpha: 0,
  bulkNormalise: "mean1",
  activation: "relu",
  scaling: "ntk",
  weights: "independent",
  dependentReading: "renormalised",
  seed: 0,
  data: "synthetic",
  basis: "random",
  teacherIncludesSpike: false,
  labelNoise: 0,
  testSamples: 0,
  steps: 0,
  lr: "auto",
  batchSize: 0,
  weightDecay: 0,
  inputNoise: 0,
  noiseDraws: 4,
  jacobianPenalty: 0,
  stopOnDivergence: false,
  analyzeSteps: [],
  topK: 10,
  fullSpectrum: true,
  gemm: "auto",
});

/** Configuration as JSON (a custom activation is echoed by name). */
export type SpikedConfigJson = Omit<SpikedConfig, "activation"> & { activation: string };

export interface StepRecord extends GradientMetrics {
  step: number;
  /** Total and data loss at this step (full batch, clean inputs). */
  loss: number;
  dataLoss: number;
  /** (1/n_test)Σ ½(f(x) − y)² on the held-out set; null without one. */
  testLoss: number | null;
}

export interface SpikedResult extends GradientMetrics {
  config: SpikedConfigJson;
  /** ζ = n^ν actually used, and the effective input dimension (784 for MNIST). */
  zeta: number;
  d: number;
  /** "float32 (jax wasm)" or "float64 (js)": precision of the large products. */
  gemm: string;
  /** One record per analyzed step (the top-level metrics repeat the first, the initialisation). */
  records: StepRecord[];
  /** The learning rate used (resolved when config.lr is "auto"). */
  lr: number;
  /** Full-batch loss before every update (length `steps` + 1; shorter when training diverged). */
  lossCurve: number[];
  /** Held-out loss of the zero predictor, (1/n_t)Σ½y² (what a held-out loss is compared with); null without one. */
  testBaseline: number | null;
  /** The step at which training diverged (only with stopOnDivergence); null otherwise. */
  divergedAt: number | null;
  seconds: number;
}

export interface RunSpikedOptions {
  /** Called with the gradient used for each update (for --trace). */
  onUpdate?: (step: number, grad: Mat, loss: number, lr: number) => void;
  /** Progress lines (stderr in the CLI). */
  onProgress?: (message: string) => void;
}

export function resolveConfig(partial: Partial<SpikedConfig> = {}): SpikedConfig {
  const cfg: SpikedConfig = { ...DEFAULT_SPIKED_CONFIG, ...partial };
  for (const key of ["n", "d", "m", "topK"] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) {
      throw new GradtraceError(
        "E_ARG",
        `runSpiked: config.${key} must be a positive integer, got ${cfg[key]}`,
      );
    }
  }
  for (const key of ["steps", "batchSize", "seed", "testSamples"] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 0) {
      throw new GradtraceError(
        "E_ARG",
        `runSpiked: config.${key} must be a non-negative integer, got ${cfg[key]}`,
      );
    }
  }
  if (cfg.lr !== "auto" && !(typeof cfg.lr === "number" && cfg.lr >= 0 && Number.isFinite(cfg.lr))) {
    throw new GradtraceError(
      "E_ARG",
      `runSpiked: config.lr must be "auto" or a finite number ≥ 0, got ${cfg.lr}`,
    );
  }
  for (const key of ["alpha", "labelNoise", "weightDecay", "inputNoise", "jacobianPenalty"] as const) {
    if (!(cfg[key] >= 0) || !Number.isFinite(cfg[key])) {
      throw new GradtraceError(
        "E_ARG",
        `runSpiked: config.${key} must be a finite number ≥ 0, got ${cfg[key]}`,
      );
    }
  }
  if (!Number.isFinite(cfg.nu))
    throw new GradtraceError("E_ARG", `runSpiked: config.nu must be finite, got ${cfg.nu}`);
  if (!Number.isInteger(cfg.noiseDraws) || cfg.noiseDraws < 1) {
    throw new GradtraceError(
      "E_ARG",
      `runSpiked: config.noiseDraws must be a positive integer, got ${cfg.noiseDraws}`,
    );
  }
  for (const s of cfg.analyzeSteps) {
    if (!Number.isInteger(s) || s < 0 || s > cfg.steps) {
      throw new GradtraceError(
        "E_ARG",
        `runSpiked: analyzeSteps entry ${s} is not a step in 0..${cfg.steps}`,
      );
    }
  }
  resolveActivation(cfg.activation);
  return cfg;
}

/** 0 and up to 8 roughly log-spaced steps ending at `steps`. */
export function defaultAnalyzeSteps(steps: number): number[] {
  const out = new Set<number>([0]);
  if (steps > 0) {
    for (let i = 0; i <= 8; i++) out.add(Math.round(steps ** (i / 8)));
    out.add(steps);
  }
  return [...out].filter((s) => s <= steps).sort((x, y) => x - y);
}

export function configToJson(cfg: SpikedConfig): SpikedConfigJson {
  const activation = typeof cfg.activation === "string" ? cfg.activation : cfg.activation.name;
  return { ...cfg, activation };
}

export async function runSpiked(
  partial: Partial<SpikedConfig> = {},
  { onUpdate, onProgress }: RunSpikedOptions = {},
): Promise<SpikedResult> {
  const started = performance.now();
  const cfg = resolveConfig(partial);
  const activation = resolveActivation(cfg.activation);
  const data = generateSpikedData({
    n: cfg.n,
    d: cfg.d,
    nu: cfg.nu,
    alpha: cfg.alpha,
    seed: cfg.seed,
    basis: cfg.basis,
    bulkNormalise: cfg.bulkNormalise,
    testSamples: cfg.testSamples,
    teacherIncludesSpike: cfg.teacherIncludesSpike,
    labelNoise: cfg.labelNoise,
    source: cfg.data,
  });
  const { n, d } = data;
  const gemm = await resolveGemm(cfg.gemm, n * d * cfg.m);
  const net = initNetwork({
    m: cfg.m,
    d,
    scaling: cfg.scaling,
    weights: cfg.weights,
    dependentReading: cfg.dependentReading,
    q: data.q,
    n,
    seed: cfg.seed,
  });
  const analyzeAt = new Set(cfg.analyzeSteps.length > 0 ? cfg.analyzeSteps : defaultAnalyzeSteps(cfg.steps));
  const noiseRng = createRng(deriveSeed(cfg.seed, STREAM.inputNoise));
  const analysisNoiseRng = createRng(deriveSeed(cfg.seed, STREAM.regNoise));
  const batchRng = createRng(deriveSeed(cfg.seed, STREAM.batches));
  const records: StepRecord[] = [];
  const lossCurve: number[] = [];
  let divergedAt: number | null = null;
  let lr = typeof cfg.lr === "number" ? cfg.lr : Number.NaN;
  const lossInputs = (x: Mat) => ({
    x,
    y: data.y,
    net,
    activation,
    gemm,
    weightDecay: cfg.weightDecay,
    jacobianPenalty: cfg.jacobianPenalty,
  });

  for (let step = 0; step <= cfg.steps; step++) {
    // Fresh input noise for each update (the regulariser in its training form).
    const x = cfg.inputNoise > 0 ? noisyInputs(data.x, cfg.inputNoise, noiseRng) : data.x;
    let full: LossGradient;
    try {
      full = lossAndGradient(lossInputs(x));
    } catch (err) {
      // A non-finite residual is divergence too.
      if (!(cfg.stopOnDivergence && records.length > 0 && err instanceof GradtraceError)) throw err;
      divergedAt = step;
      break;
    }
    lossCurve.push(full.loss);
    if (!(full.loss <= DIVERGENCE_FACTOR * lossCurve[0])) {
      if (cfg.stopOnDivergence && records.length > 0) {
        divergedAt = step;
        break;
      }
      throw new GradtraceError(
        "E_NUMERIC",
        `runSpiked: training diverged at step ${step} (loss ${full.loss} from ${lossCurve[0]} at step 0, lr ${lr}); lower the learning rate`,
      );
    }
    // The curvature is estimated on the inputs of the first update (noisy ones with input noise, whose variance adds
    // to λ_max) and includes the explicit regularisers.
    if (Number.isNaN(lr)) {
      lr = autoLearningRate(x, full.dsigma, net.gamma, {
        weightDecay: cfg.weightDecay,
        jacobianPenalty: cfg.jacobianPenalty,
        a: net.a,
      });
    }
    if (analyzeAt.has(step)) {
      const clean = cfg.inputNoise > 0 ? lossAndGradient(lossInputs(data.x)) : full;
      const regGrad =
        cfg.inputNoise > 0 ? addNoiseEffect(clean, data, cfg, lossInputs, analysisNoiseRng) : full.regGrad;
      const grad = regGrad === clean.regGrad ? clean.grad : sum(clean.dataGrad, regGrad);
      const dec = decomposeGradient({
        ...decompositionInput(data, clean, net, gemm),
        seed: deriveSeed(cfg.seed, STREAM.svd, step, 1),
      });
      const metrics = gradientMetrics({
        grad,
        dataGrad: clean.dataGrad,
        regGrad,
        dec,
        total: includeRegulariser(dec, regGrad, gemm, deriveSeed(cfg.seed, STREAM.svd, step, 2)),
        gemm,
        topK: cfg.topK,
        fullSpectrum: cfg.fullSpectrum,
        seed: deriveSeed(cfg.seed, STREAM.svd, step),
      });
      records.push({
        step,
        loss: clean.loss,
        dataLoss: clean.dataLoss,
        testLoss: data.test ? heldOutLoss(data, net, activation, gemm) : null,
        ...metrics,
      });
      onProgress?.(
        `step ${step}: loss ${full.loss.toPrecision(4)}, σ1 ${metrics.singularValues[0].toPrecision(4)}, stable rank ${metrics.stableRank.toPrecision(4)}`,
      );
    }
    if (step === cfg.steps) break;
    let update = full.grad;
    if (cfg.batchSize > 0 && cfg.batchSize < n) {
      const rows = sampleRows(batchRng, n, cfg.batchSize);
      const pick = (src: Mat): Mat => {
        const out = mat(rows.length, d);
        rows.forEach((r, i) => {
          out.data.set(src.data.subarray(r * d, (r + 1) * d), i * d);
        });
        return out;
      };
      update = lossAndGradient({
        ...lossInputs(pick(x)),
        y: Float64Array.from(rows, (r) => data.y[r]),
      }).grad;
    }
    onUpdate?.(step, update, full.loss, lr);
    const w = net.w.data;
    for (let t = 0; t < w.length; t++) w[t] -= lr * update.data[t];
  }
  const first = records[0];
  return {
    ...first,
    config: configToJson(cfg),
    zeta: data.zeta,
    d,
    gemm: gemm.kind === "jax" ? "float32 (jax wasm)" : "float64 (js)",
    records,
    lr,
    lossCurve,
    testBaseline: data.test ? data.test.y.reduce((s, v) => s + 0.5 * v * v, 0) / data.test.y.length : null,
    divergedAt,
    seconds: (performance.now() - started) / 1000,
  };
}

/** X + s·N(0, 1) entrywise. */
function noisyInputs(x: Mat, s: number, rng: ReturnType<typeof createRng>): Mat {
  const out = mat(x.rows, x.cols);
  for (let t = 0; t < x.data.length; t++) out.data[t] = x.data[t] + s * rng.normal();
  return out;
}

function sum(a: Mat, b: Mat | null): Mat {
  if (b === null) return a;
  const out = mat(a.rows, a.cols);
  for (let t = 0; t < a.data.length; t++) out.data[t] = a.data[t] + b.data[t];
  return out;
}

/** Input noise is not a term of L, but training on X + N minimises E_N L(X + N) = L(X) + (an implicit regulariser);
 * the gradient of that regulariser is E_N[∇L_data(X + N)] − ∇L_data(X), estimated here from `noiseDraws` draws of a
 * stream of its own (so analyzing never changes the training trajectory) and added to the explicit regularisers'
 * gradient: the analysis decomposes the clean data gradient plus this G_reg. */
function addNoiseEffect(
  clean: LossGradient,
  data: SpikedData,
  cfg: SpikedConfig,
  lossInputs: (x: Mat) => Parameters<typeof lossAndGradient>[0],
  rng: ReturnType<typeof createRng>,
): Mat {
  const out = mat(clean.dataGrad.rows, clean.dataGrad.cols);
  for (let k = 0; k < cfg.noiseDraws; k++) {
    const noisy = lossAndGradient(lossInputs(noisyInputs(data.x, cfg.inputNoise, rng)));
    for (let t = 0; t < out.data.length; t++) out.data[t] += noisy.dataGrad.data[t];
  }
  for (let t = 0; t < out.data.length; t++) {
    out.data[t] = out.data[t] / cfg.noiseDraws - clean.dataGrad.data[t] + (clean.regGrad?.data[t] ?? 0);
  }
  return out;
}

function heldOutLoss(data: SpikedData, net: Network, activation: Activation, gemm: Gemm): number {
  const test = data.test;
  if (!test) return Number.NaN;
  const f = predict(test.x, net, activation, gemm);
  let s = 0;
  for (let i = 0; i < f.length; i++) s += 0.5 * (f[i] - test.y[i]) ** 2;
  return s / f.length;
}

/** A loss this many times the initial one means gradient descent has diverged. */
const DIVERGENCE_FACTOR = 1e4;

/** λ_max(AᵀA) by power iteration (40 steps from a fixed start are plenty: only the scale matters). */
function topGramEigenvalue(a: Mat): number {
  const { rows: n, cols: d } = a;
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 40; it++) {
    const av = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a.data[i * d + k] * v[k];
      av[i] = s;
    }
    const w = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const c = av[i];
      for (let k = 0; k < d; k++) w[k] += c * a.data[i * d + k];
    }
    let norm = 0;
    for (let k = 0; k < d; k++) norm += w[k] * w[k];
    norm = Math.sqrt(norm);
    lambda = norm;
    if (norm === 0) break;
    for (let k = 0; k < d; k++) w[k] /= norm;
    v = w;
  }
  return lambda;
}

export interface CurvatureTerms {
  weightDecay?: number;
  jacobianPenalty?: number;
  /** Second layer (needed for the Jacobian penalty's term). */
  a?: Float64Array;
}

/** 1/λ̂ with λ̂ the top curvature of the loss at initialisation, half the classical 2/λ stability limit:
 * - data: γ²·m·mean(σ'(H)²)·λ_max(XXᵀ)/n, the top eigenvalue of the Gauss–Newton matrix of the squared loss when
 *   σ'(w_jᵀx) is replaced by its RMS (the NTK Gram ≈ γ²·Σ_j σ'σ'·xᵀx');
 * - weight decay λ‖W‖_F²: 2λ;
 * - Jacobian penalty λ_J γ² tr(Wᵀ C W), C = (1/n)(D∘a)ᵀ(D∘a) with σ' held fixed: 2λ_J γ² λ_max(C). */
export function autoLearningRate(
  x: Mat,
  dsigma: Mat,
  gamma: number,
  { weightDecay = 0, jacobianPenalty = 0, a }: CurvatureTerms = {},
): number {
  const n = x.rows;
  const m = dsigma.cols;
  let meanSq = 0;
  for (let t = 0; t < dsigma.data.length; t++) meanSq += dsigma.data[t] * dsigma.data[t];
  meanSq /= dsigma.data.length;
  let curvature = gamma * gamma * m * meanSq * (topGramEigenvalue(x) / n) + 2 * weightDecay;
  if (jacobianPenalty > 0 && a) {
    const da = mat(n, m);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) da.data[i * m + j] = a[j] * dsigma.data[i * m + j];
    curvature += 2 * jacobianPenalty * gamma * gamma * (topGramEigenvalue(da) / n);
  }
  return curvature > 0 ? 1 / curvature : 1;
}

/** `size` distinct row indices (partial Fisher–Yates). */
export function sampleRows(rng: ReturnType<typeof createRng>, n: number, size: number): number[] {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return Array.from(idx.subarray(0, size));
}
