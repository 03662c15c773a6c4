/** @file Choosing settings from the energy grid: per tensor the cheapest (r, Δ) whose captured energy reaches the
 * target (cheapest = least optimizer state; among equal memory, the largest Δ, i.e. the fewest SVDs per step), and
 * the uniform (r, Δ) that spends the same total optimizer memory as the per-tensor advice — the setting the advice
 * has to beat. */
import { fullStateSize, projectedStateSize, projectionSaves } from "./cost.ts";

export interface GridForChoice {
  readonly short: number;
  readonly long: number;
  readonly ranks: readonly number[];
  readonly intervals: readonly number[];
  readonly energy: readonly (readonly number[])[];
}

export interface Choice {
  /** Indices into ranks / intervals, or null when nothing on the grid meets the target and saves memory. */
  readonly rankIndex: number | null;
  readonly intervalIndex: number | null;
  readonly memory: number;
}

/** Cheapest grid cell with energy ≥ target, interval ≥ minInterval, that uses less state than full Adam. */
export function chooseSetting(grid: GridForChoice, target: number, minInterval = 1): Choice {
  const { short, long, ranks, intervals, energy } = grid;
  let best: Choice | null = null;
  for (let i = 0; i < ranks.length; i++) {
    if (!projectionSaves(short, long, ranks[i])) continue;
    const memory = projectedStateSize(short, long, ranks[i]);
    for (let j = 0; j < intervals.length; j++) {
      if (!(energy[i][j] >= target) || intervals[j] < minInterval) continue;
      const better =
        best === null ||
        memory < best.memory ||
        (memory === best.memory && intervals[j] > intervals[best.intervalIndex ?? 0]);
      if (better) best = { rankIndex: i, intervalIndex: j, memory };
    }
  }
  return best ?? { rankIndex: null, intervalIndex: null, memory: fullStateSize(short, long) };
}

/** Optimizer state of one tensor under a uniform rank: projected where that saves memory, full Adam elsewhere. */
export function uniformStateSize(short: number, long: number, rank: number): number {
  return projectionSaves(short, long, rank)
    ? projectedStateSize(short, long, rank)
    : fullStateSize(short, long);
}

/** The rank r ≥ 1 whose total state over the tensors comes closest to `budget` (on a tie, the smaller: never more
 * memory than needed). Integer ranks rarely hit the budget exactly; the nearest keeps the comparison at equal memory
 * as far as one rank for every tensor allows, without favouring the advice by always landing below it. */
export function uniformRankNearest(
  shapes: readonly { short: number; long: number }[],
  budget: number,
): number {
  const maxShort = Math.max(1, ...shapes.map((s) => s.short));
  let best = 1;
  let bestGap = Number.POSITIVE_INFINITY;
  for (let r = 1; r <= maxShort; r++) {
    const total = shapes.reduce((s, t) => s + uniformStateSize(t.short, t.long, r), 0);
    const gap = Math.abs(total - budget);
    if (gap < bestGap) {
      best = r;
      bestGap = gap;
    }
    // The total is non-decreasing in r: past the budget it only moves away.
    if (total > budget) break;
  }
  return best;
}

/** Lower median of a non-empty list (a member of the list, so an interval stays on the grid). */
export function lowerMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
