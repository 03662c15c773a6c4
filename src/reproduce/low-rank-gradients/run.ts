/** @file Run phase of the low-rank-gradients reproduction: turns the plan into spiked-lab configurations, calibrates
 * the regulariser strengths, runs everything on the worker pool and returns the records (records.ts). No verdicts
 * and no files here.
 *
 * Experiments (groups):
 * - fig1: ν sweep at α 0, NTK, ReLU, for independent W and the three readings of dependent W (Figure 1).
 * - nScaling: ‖E‖/‖S1‖ against n at fixed aspect ratio (E should fall behind S1 in the proportional limit).
 * - fig2: the five activations at ν 1/8 for each α and bulk normalisation (Figure 2).
 * - scaling: mean-field against NTK across ν (balance of S1 and S2).
 * - regularisers: weight decay, input noise and the Jacobian penalty at three strengths (‖λ∇R‖_F below, near and
 *   above ‖G_data‖_F at initialisation, calibrated on seed 0), plus λ = 0, for independent and dependent W, analyzed
 *   at initialisation and along gradient descent.
 * - generalisation: teacher task with held-out data; one-factor sweeps of ν, activation, weight decay and scaling
 *   around a shared base (ReLU, ν 1/8, NTK); alignment during training and held-out loss after it.
 * - training: rank over training (ReLU, NTK, α 0).
 * - mnist: MNIST digits with an added spike. */
import type { SpikedConfig, SpikedResult } from "../../lab/index.ts";
import { runMany } from "../../lab/index.ts";
import { labelledQueue, type QueueOptions } from "../../parallel/index.ts";
import type { ReproduceProgress } from "../types.ts";
import {
  type LowRankPlan,
  quarterSteps,
  REG_LEVELS,
  REGULARISERS,
  type RegulariserKey,
  scaledSize,
  WEIGHTS_SERIES,
} from "./plan.ts";
import {
  type Calibration,
  type GroupName,
  type LowRankRecords,
  type RunGroup,
  round6,
  summariseRun,
} from "./records.ts";

export const EXPERIMENT = "low-rank-gradients";

interface Job {
  group: GroupName;
  key: Record<string, string | number>;
  config: Partial<SpikedConfig>;
}

export interface RunOptions {
  jobs?: number;
  /** Run the configurations as jobs on this Redis queue (`gradtrace worker` processes) instead of local threads;
   * the records are the same (each configuration is seeded on its own). */
  queue?: QueueOptions;
  onProgress?: (event: ReproduceProgress) => void;
}

/** ‖G_reg‖_F/‖G_data‖_F of a run's first analyzed step. */
function ratioAtInit(r: SpikedResult): number {
  return r.records[0].regFrobeniusNorm / r.records[0].dataFrobeniusNorm;
}

/** The strength s with ratio(s) = target, by piecewise-linear interpolation of log ratio against log s between probe
 * points (extrapolated with the end segments' slopes). */
export function interpolateStrength(
  probes: readonly number[],
  ratios: readonly number[],
  target: number,
): number {
  const pts = probes
    .map((s, i) => [Math.log(s), Math.log(ratios[i])] as const)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    .sort((a, b) => a[1] - b[1]);
  if (pts.length === 0) return Number.NaN;
  if (pts.length === 1) return Math.exp(pts[0][0] + (Math.log(target) - pts[0][1]));
  const y = Math.log(target);
  let i = 0;
  while (i < pts.length - 2 && y > pts[i + 1][1]) i++;
  const [x0, y0] = pts[i];
  const [x1, y1] = pts[i + 1];
  const slope = y1 !== y0 ? (x1 - x0) / (y1 - y0) : 0;
  return Math.exp(x0 + slope * (y - y0));
}

export async function runLowRankGradients(
  plan: LowRankPlan,
  { jobs = 2, queue, onProgress }: RunOptions = {},
): Promise<LowRankRecords> {
  const started = performance.now();
  const emit = (phase: string, done: number, total: number, message: string) =>
    onProgress?.({ experiment: EXPERIMENT, phase, done, total, message });
  const size = plan.size;
  const common: Partial<SpikedConfig> = { ...size, topK: plan.topK, fullSpectrum: false, gemm: "auto" };
  const trainCommon: Partial<SpikedConfig> = { ...common, ...plan.trainingSize };
  const regBase: Partial<SpikedConfig> = {
    ...trainCommon,
    nu: plan.regularisers.nu,
    alpha: 0,
    activation: plan.regularisers.activation,
    scaling: "ntk",
    noiseDraws: plan.regularisers.noiseDraws,
    stopOnDivergence: true,
  };
  const genBase: Partial<SpikedConfig> = {
    ...trainCommon,
    nu: 0.125,
    alpha: 0,
    activation: "relu",
    scaling: "ntk",
    weights: "independent",
    steps: plan.generalisation.steps,
    testSamples: plan.generalisation.testSamples,
    analyzeSteps: quarterSteps(plan.generalisation.steps),
    stopOnDivergence: true,
  };

  // Calibration (seed 0, initialisation): ‖λ∇R‖_F/‖G_data‖_F is linear in λ for weight decay and the Jacobian
  // penalty (one probe at λ = 1 suffices) and not for input noise (probes interpolated on a log–log scale).
  const probeJobs: {
    weights: string;
    regulariser: RegulariserKey | "generalisation";
    s: number;
    config: Partial<SpikedConfig>;
  }[] = [];
  for (const weights of ["independent", "dependent"] as const) {
    for (const reg of REGULARISERS) {
      const probes = reg === "inputNoise" ? plan.regularisers.noiseProbes : [1];
      for (const s of probes) {
        probeJobs.push({ weights, regulariser: reg, s, config: { ...regBase, weights, seed: 0, [reg]: s } });
      }
    }
  }
  probeJobs.push({
    weights: "independent",
    regulariser: "generalisation",
    s: 1,
    config: { ...genBase, steps: 0, analyzeSteps: [0], testSamples: 0, weightDecay: 1, seed: 0 },
  });
  emit("calibrate", 0, probeJobs.length, "regulariser strengths");
  const probed = await runMany(
    probeJobs.map((p) => p.config),
    {
      jobs,
      ...(queue ? { queue: labelledQueue(queue, `reproduce ${EXPERIMENT}`, "calibration") } : {}),
      onDone: (done, total) => emit("calibrate", done, total, "regulariser strengths"),
    },
  );
  const calibration: Calibration[] = [];
  const strengthOf = (weights: string, regulariser: string, level: string): number =>
    calibration.find((c) => c.weights === weights && c.regulariser === regulariser && c.level === level)
      ?.strength ?? Number.NaN;
  for (const weights of ["independent", "dependent"]) {
    for (const reg of [...REGULARISERS, "generalisation"] as const) {
      const mine = probeJobs
        .map((p, i) => ({ p, r: probed[i] }))
        .filter((x) => x.p.weights === weights && x.p.regulariser === reg);
      if (mine.length === 0) continue;
      const probes = mine.map((x) => x.p.s);
      const ratios = mine.map((x) => ratioAtInit(x.r));
      for (const { level, target } of REG_LEVELS) {
        const strength = round6(interpolateStrength(probes, ratios, target));
        calibration.push({ weights, regulariser: reg, level, target, strength });
      }
    }
  }

  const jobsList: Job[] = [];
  const seeds = (k: number) => Array.from({ length: k }, (_, i) => i);
  // Long jobs first, so the two workers finish together.
  for (const n of [...plan.nScaling.ns].sort((a, b) => b - a)) {
    for (const nu of plan.nScaling.nus) {
      for (const seed of seeds(plan.nScaling.seeds)) {
        jobsList.push({
          group: "nScaling",
          key: { n, nu },
          config: { ...common, ...scaledSize(size, n), nu, alpha: 0, activation: "relu", seed },
        });
      }
    }
  }
  for (const nu of plan.training.nus) {
    for (const seed of seeds(plan.training.seeds)) {
      jobsList.push({
        group: "training",
        key: { nu },
        config: {
          ...trainCommon,
          nu,
          alpha: 0,
          activation: "relu",
          steps: plan.training.steps,
          fullSpectrum: true,
          seed,
          stopOnDivergence: true,
        },
      });
    }
  }
  const g = plan.generalisation;
  const genConfigs: { key: Record<string, string | number>; config: Partial<SpikedConfig> }[] = [];
  const addGen = (key: Record<string, string | number>, config: Partial<SpikedConfig>) => {
    if (!genConfigs.some((c) => JSON.stringify(c.key) === JSON.stringify(key)))
      genConfigs.push({ key, config });
  };
  const genKey = (nu: number, activation: string, wd: string, scaling: string) => ({
    nu,
    activation,
    weightDecay: wd,
    scaling,
  });
  for (const nu of g.nus) addGen(genKey(nu, "relu", "0", "ntk"), { nu });
  for (const act of g.activations) addGen(genKey(0.125, act, "0", "ntk"), { activation: act });
  for (const level of g.weightDecayLevels) {
    const wd = level === "0" ? 0 : strengthOf("independent", "generalisation", level);
    addGen(genKey(0.125, "relu", level, "ntk"), { weightDecay: wd });
  }
  addGen(genKey(0.125, "relu", "0", "mf"), { scaling: "mf" });
  addGen(genKey(0.125, "relu", "0", "ntk"), {});
  for (const c of genConfigs) {
    for (const seed of seeds(g.seeds)) {
      jobsList.push({ group: "generalisation", key: c.key, config: { ...genBase, ...c.config, seed } });
    }
  }
  const r = plan.regularisers;
  for (const weights of ["independent", "dependent"] as const) {
    for (const seed of seeds(r.seeds)) {
      const base = { ...regBase, weights, seed, steps: r.steps, analyzeSteps: quarterSteps(r.steps) };
      jobsList.push({
        group: "regularisers",
        key: { weights, regulariser: "none", level: "0" },
        config: base,
      });
      for (const reg of REGULARISERS) {
        for (const { level } of REG_LEVELS) {
          jobsList.push({
            group: "regularisers",
            key: { weights, regulariser: reg, level },
            config: { ...base, [reg]: strengthOf(weights, reg, level) },
          });
        }
      }
    }
  }
  for (const w of WEIGHTS_SERIES) {
    for (const nu of plan.fig1.nus) {
      for (const seed of seeds(plan.fig1.seeds)) {
        jobsList.push({
          group: "fig1",
          key: { series: w.label, nu },
          config: {
            ...common,
            nu,
            alpha: 0,
            activation: "relu",
            scaling: "ntk",
            weights: w.weights,
            dependentReading: w.dependentReading,
            fullSpectrum: plan.fig1.fullSpectrum,
            seed,
          },
        });
      }
    }
  }
  const f2 = plan.fig2;
  for (const alpha of f2.alphas) {
    // At α = 0 every eigenvalue is 1 and the two normalisations coincide.
    for (const bulkNormalise of alpha === 0 ? (["mean1"] as const) : f2.normalisations) {
      for (const activation of f2.activations) {
        for (const seed of seeds(f2.seeds)) {
          jobsList.push({
            group: "fig2",
            key: { alpha: round6(alpha), bulkNormalise, activation },
            config: { ...common, nu: f2.nu, alpha, bulkNormalise, activation, scaling: "ntk", seed },
          });
        }
      }
    }
  }
  for (const scaling of ["ntk", "mf"] as const) {
    for (const nu of plan.scaling.nus) {
      for (const seed of seeds(plan.scaling.seeds)) {
        jobsList.push({
          group: "scaling",
          key: { scaling, nu },
          config: { ...common, nu, alpha: 0, activation: "relu", scaling, seed },
        });
      }
    }
  }
  for (const nu of plan.mnist.nus) {
    for (const seed of seeds(plan.mnist.seeds)) {
      jobsList.push({
        group: "mnist",
        key: { nu },
        config: { ...common, d: 784, data: "mnist", nu, activation: "relu", seed },
      });
    }
  }

  const label = (j: Job) =>
    `${j.group} ${Object.entries(j.key)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}, seed ${j.config.seed}`;
  emit("run", 0, jobsList.length, `${jobsList.length} configurations`);
  const results = await runMany(
    jobsList.map((j) => j.config),
    {
      jobs,
      ...(queue ? { queue: labelledQueue(queue, `reproduce ${EXPERIMENT}`, "runs") } : {}),
      onDone: (done, total, config) => {
        const j = jobsList.find((x) => x.config === config);
        emit(j?.group ?? "run", done, total, j ? label(j) : "");
      },
    },
  );
  const groupBase: Record<GroupName, Record<string, unknown>> = {
    fig1: { ...common, alpha: 0, activation: "relu", scaling: "ntk", fullSpectrum: plan.fig1.fullSpectrum },
    nScaling: {
      ...common,
      alpha: 0,
      activation: "relu",
      scaling: "ntk",
      aspect: `${size.n}:${size.d}:${size.m}`,
    },
    fig2: { ...common, nu: f2.nu, scaling: "ntk", weights: "independent" },
    scaling: { ...common, alpha: 0, activation: "relu", weights: "independent" },
    regularisers: { ...regBase, steps: r.steps, analyzeSteps: quarterSteps(r.steps) },
    generalisation: { ...genBase },
    training: {
      ...trainCommon,
      alpha: 0,
      activation: "relu",
      steps: plan.training.steps,
      fullSpectrum: true,
    },
    mnist: { ...common, d: 784, data: "mnist", activation: "relu" },
  };
  const groups = Object.fromEntries(
    (Object.keys(groupBase) as GroupName[]).map((name) => [
      name,
      { base: groupBase[name], runs: [] } as RunGroup,
    ]),
  ) as Record<GroupName, RunGroup>;
  jobsList.forEach((j, i) => {
    const result = results[i];
    const key =
      j.group === "regularisers"
        ? { ...j.key, strength: round6(Number(j.config[j.key.regulariser as RegulariserKey] ?? 0)) }
        : j.key;
    groups[j.group].runs.push(summariseRun(key, result));
  });
  return {
    experiment: "low-rank-gradients",
    budget: plan.budget,
    plan,
    calibration,
    groups,
    seconds: round6((performance.now() - started) / 1000),
  };
}
