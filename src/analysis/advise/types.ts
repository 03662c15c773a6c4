/** @file The result of `advise()` — what `gradtrace advise --json` writes, what the HTML section and the dashboard
 * panel show. Documented for users in docs/advise.md. Energies are fractions in [0, 1]; memory is counted in
 * stored numbers (optimizer-state floats), bytes being that times 4 for float32 state. */

export const ADVISE_SCHEMA_VERSION = 1;

/** How the intervals around E(r, Δ) were obtained: block bootstrap over steps (full gradients, one trace), Student-t
 * over seeds (several traces), or E ± the stated error of range sketches (one trace). */
export type EnergyIntervalMethod = "block-bootstrap" | "seeds" | "sketch-error";

/** Where E(r, Δ) came from: full gradients, or the logger's range sketches Y = G·Ω. */
export type EnergySource = "gradients" | "rangeSketch";

export interface TensorAdviceChoice {
  /** GaLore's rank r; the shorter side when the tensor is better left to full Adam (projected: false). */
  readonly rank: number;
  /** GaLore's update_proj_gap Δ; null when not projected. */
  readonly interval: number | null;
  /** Captured energy E(r, Δ) of the choice (1 when not projected). */
  readonly energy: number;
  /** 95 % interval of that energy. */
  readonly energyInterval: [number, number];
  /** False when no (r, Δ) on the grid reaches the target at less memory than full Adam. */
  readonly projected: boolean;
  /** Optimizer-state numbers of the choice. */
  readonly memory: number;
  /** Share of the first-order loss decrease ⟨g_t, u_t⟩ that the projected update keeps (logged updates only). */
  readonly progressShare?: number;
}

export interface TensorAdvice {
  readonly name: string;
  /** Shape as logged (PyTorch orientation: first axis = outputs). */
  readonly shape: number[];
  /** Matrix view: first axis × the rest. */
  readonly rows: number;
  readonly cols: number;
  /** Which side GaLore projects: "left" (P ∈ R^{rows×r}) when rows ≤ cols, else "right". */
  readonly side: "left" | "right";
  readonly source: EnergySource;
  readonly ranks: number[];
  readonly intervals: number[];
  /** energy[i][j] = E(ranks[i], intervals[j]), mean over steps (and seeds). */
  readonly energy: number[][];
  /** 95 % intervals, indexed like energy (range sketches, one trace: energy ± energyError). */
  readonly energyInterval: [number, number][][];
  /** Range sketches only: the stated error of each energy (jackknife over Ω's columns + projector perturbation). */
  readonly energyError?: number[][];
  /** Σ⟨Pᵀg, Pᵀu⟩ / Σ⟨g, u⟩ indexed like energy, when the trace logged updates (the optimizer's momentum). */
  readonly progressShare?: number[][];
  readonly advice: TensorAdviceChoice;
  /** Full Adam's optimizer-state numbers for this tensor (2·rows·cols). */
  readonly fullMemory: number;
  /** Flops of one projector refresh (thin SVD), and that spread over the advised interval. */
  readonly svdFlopsPerRefresh: number;
  readonly svdFlopsPerStep: number | null;
}

export interface UniformSetting {
  /** One rank for every advised tensor: the one whose total optimizer memory comes closest to the advice's. */
  readonly rank: number;
  /** One interval for every tensor: the (lower) median of the advised intervals. */
  readonly interval: number;
  readonly memory: number;
  /** Mean over tensors of E(rank, interval) (a tensor with rank ≥ its shorter side keeps 1). */
  readonly meanEnergy: number;
  /** Tensors whose E(rank, interval) reaches the target. */
  readonly tensorsMeetingTarget: number;
  /** Per tensor (same order as AdviseResult.tensors): E at the uniform setting. */
  readonly energy: number[];
}

export interface AdviseResult {
  readonly schemaVersion: number;
  /** The trace paths (several = several seeds of one run). */
  readonly traces: string[];
  /** Steps used per trace. */
  readonly steps: number;
  readonly target: number;
  /** Shortest interval the advice could choose. */
  readonly minInterval: number;
  readonly intervalMethod: EnergyIntervalMethod;
  readonly tensors: TensorAdvice[];
  /** Matrix-shaped tensors left out, and why. */
  readonly skipped: { readonly name: string; readonly reason: string }[];
  /** Optimizer-state numbers for the whole model (tensors that are not advised count as full Adam in each). */
  readonly memory: {
    readonly fullAdam: number;
    readonly advice: number;
    readonly uniform: UniformSetting | null;
  };
  /** Whether the trace logged updates (momentum), so that progressShare is present. */
  readonly hasUpdates: boolean;
  /** A galore-torch configuration for the advice, ready to paste. */
  readonly snippet: string;
  /** What captured energy does not say. */
  readonly caveat: string;
}
