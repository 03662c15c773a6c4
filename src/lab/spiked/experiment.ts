/** @file One configuration of the spiked lab, end to end: data, network, optional gradient-descent training, and the
 * gradient analysis at initialisation and at chosen steps. `runSpiked` is what the CLI, the sweeps and the
 * reproduction call; its result is the JSON documented in docs/lab-spiked.md. */
import { createRng, deriveSeed, GradtraceError, type Mat, mat } from "../../core/index.ts";
import { type Activation, type ActivationName, resolveActivation } from "./activations.ts";
import { generateSpikedData, STREAM } from "./data.ts";
import { decomposeGradient } from "./decomposition.ts";
import { type GemmKind, resolveGemm } from "./gemm.ts";
import { type GradientMetrics, gradientMetrics } from "./metrics.ts";
import { initNetwork, lossAndGradient, type Scaling, type WeightInit } from "./model.ts";

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
  /** [relu] or a custom { name, sigma, dsigma, d2sigma? } (library API only). */
  activation: ActivationName | Activation;
  /** [ntk] γ = 1/√m, or mf γ = 1/m. */
  scaling: Scaling;
  /** [independent] or dependent W = W_S + n^(−1/4)·1qᵀ (rows renormalised). */
  weights: WeightInit;
  seed: number;
  /** [synthetic] Gaussian bulk, or MNIST digits (parity ±1 targets). */
  data: "synthetic" | "mnist";
  /** Covariance eigenbasis [random] (see SpikedDataOptions.basis). */
  basis: "random" | "aligned";
  teacherIncludesSpike: boolean;
  labelNoise: number;
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
  /** λ_J of λ_J (1/n)Σ‖∂f/∂x‖² [0]. */
  jacobianPenalty: number;
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
  activation: "relu",
  scaling: "ntk",
  weights: "independent",
  seed: 0,
  data: "synthetic",
  basis: "random",
  teacherIncludesSpike: false,
  labelNoise: 0,
  steps: 0,
  lr: "auto",
  batchSize: 0,
  weightDecay: 0,
  inputNoise: 0,
  jacobianPenalty: 0,
  analyzeSteps: [],
  topK: 10,
  fullSpectrum: true,
  gemm: "auto",
});

/** Configuration as JSON (a custom activation is echoed by name). */
export type SpikedConfigJson = Omit<SpikedConfig, "activation"> & { activation: string };

export interface StepRecord extends GradientMetrics {
  step: number;
  /** Total and data loss at this step (full batch). */
  loss: number;
  dataLoss: number;
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
  /** Full-batch loss before every update (length `steps` + 1). */
  lossCurve: number[];
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
  for (const key of ["steps", "batchSize", "seed"] as const) {
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
    q: data.q,
    n,
    seed: cfg.seed,
  });
  const analyzeAt = new Set(cfg.analyzeSteps.length > 0 ? cfg.analyzeSteps : defaultAnalyzeSteps(cfg.steps));
  const noiseRng = createRng(deriveSeed(cfg.seed, STREAM.inputNoise));
  const batchRng = createRng(deriveSeed(cfg.seed, STREAM.batches));
  const records: StepRecord[] = [];
  const lossCurve: number[] = [];
  let lr = typeof cfg.lr === "number" ? cfg.lr : Number.NaN;

  for (let step = 0; step <= cfg.steps; step++) {
    // Fresh input noise each step: it belongs to the bulk of this step's inputs.
    let x = data.x;
    let xBulk = data.xBulk;
    if (cfg.inputNoise > 0) {
      x = mat(n, d);
      xBulk = mat(n, d);
      for (let t = 0; t < n * d; t++) {
        const eps = cfg.inputNoise * noiseRng.normal();
        x.data[t] = data.x.data[t] + eps;
        xBulk.data[t] = data.xBulk.data[t] + eps;
      }
    }
    const full = lossAndGradient({
      x,
      y: data.y,
      net,
      activation,
      gemm,
      weightDecay: cfg.weightDecay,
      jacobianPenalty: cfg.jacobianPenalty,
    });
    lossCurve.push(full.loss);
    if (!(full.loss <= DIVERGENCE_FACTOR * lossCurve[0])) {
      throw new GradtraceError(
        "E_NUMERIC",
        `runSpiked: training diverged at step ${step} (loss ${full.loss} from ${lossCurve[0]} at step 0, lr ${lr}); lower the learning rate`,
      );
    }
    if (Number.isNaN(lr)) lr = autoLearningRate(data.x, full.dsigma, net.gamma);
    if (analyzeAt.has(step)) {
      const dec = decomposeGradient({
        xBulk,
        q: data.q,
        z: data.z,
        zeta: data.zeta,
        residual: full.residual,
        dsigma: full.dsigma,
        a: net.a,
        gamma: net.gamma,
        gemm,
        seed: deriveSeed(cfg.seed, STREAM.svd, step, 1),
      });
      const metrics = gradientMetrics({
        grad: full.grad,
        dataGrad: full.dataGrad,
        regGrad: full.regGrad,
        dec,
        gemm,
        topK: cfg.topK,
        fullSpectrum: cfg.fullSpectrum,
        seed: deriveSeed(cfg.seed, STREAM.svd, step),
      });
      records.push({ step, loss: full.loss, dataLoss: full.dataLoss, ...metrics });
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
        x: pick(x),
        y: Float64Array.from(rows, (r) => data.y[r]),
        net,
        activation,
        gemm,
        weightDecay: cfg.weightDecay,
        jacobianPenalty: cfg.jacobianPenalty,
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
    seconds: (performance.now() - started) / 1000,
  };
}

/** A loss this many times the initial one means gradient descent has diverged. */
const DIVERGENCE_FACTOR = 1e4;

/** 1/λ̂, λ̂ = γ²·m·mean(σ'(H)²)·λ_max(XXᵀ)/n: the top eigenvalue of the Gauss–Newton matrix of the squared loss when
 * σ'(w_jᵀx) is replaced by its RMS (the NTK Gram ≈ γ²·Σ_j σ'σ'·xᵀx'). Half the classical 2/λ stability limit. */
export function autoLearningRate(x: Mat, dsigma: Mat, gamma: number): number {
  const n = x.rows;
  const d = x.cols;
  const m = dsigma.cols;
  let meanSq = 0;
  for (let t = 0; t < dsigma.data.length; t++) meanSq += dsigma.data[t] * dsigma.data[t];
  meanSq /= dsigma.data.length;
  // λ_max(XᵀX) by power iteration (40 steps from a fixed start are plenty: only the scale matters).
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lambda = 0;
  for (let it = 0; it < 40; it++) {
    const xv = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x.data[i * d + k] * v[k];
      xv[i] = s;
    }
    const w = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const c = xv[i];
      for (let k = 0; k < d; k++) w[k] += c * x.data[i * d + k];
    }
    let norm = 0;
    for (let k = 0; k < d; k++) norm += w[k] * w[k];
    norm = Math.sqrt(norm);
    lambda = norm;
    if (norm === 0) break;
    for (let k = 0; k < d; k++) w[k] /= norm;
    v = w;
  }
  const curvature = gamma * gamma * m * meanSq * (lambda / n);
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
