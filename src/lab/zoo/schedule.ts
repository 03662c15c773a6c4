/** @file Learning-rate schedules: constant or cosine decay, each with an optional linear warmup. */
import { GradtraceError } from "../../core/index.ts";

export type ScheduleKind = "constant" | "cosine";

export interface ScheduleOptions {
  readonly kind?: ScheduleKind;
  /** Peak learning rate. */
  readonly lr: number;
  readonly totalSteps: number;
  /** Steps of linear warmup from lr/warmupSteps up to lr (0 = none). */
  readonly warmupSteps?: number;
  /** Cosine decays to lr·minFraction at the last step. */
  readonly minFraction?: number;
}

/** Learning rate at step t (0-based). */
export function createSchedule({
  kind = "constant",
  lr,
  totalSteps,
  warmupSteps = 0,
  minFraction = 0,
}: ScheduleOptions): (step: number) => number {
  if (!(lr > 0) || !Number.isFinite(lr))
    throw new GradtraceError("E_ARG", `createSchedule: lr must be > 0, got ${lr}`);
  if (!(totalSteps >= 1))
    throw new GradtraceError("E_ARG", `createSchedule: totalSteps must be ≥ 1, got ${totalSteps}`);
  if (kind !== "constant" && kind !== "cosine") {
    throw new GradtraceError(
      "E_ARG",
      `createSchedule: unknown schedule "${kind}" (expected constant or cosine)`,
    );
  }
  return (step) => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    if (kind === "constant") return lr;
    const span = Math.max(1, totalSteps - 1 - warmupSteps);
    const progress = Math.min(1, (step - warmupSteps) / span);
    return lr * (minFraction + (1 - minFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  };
}
