/** @file Timing helper shared by the benchmarks: the fastest of a few passes, in seconds (the least disturbed by
 * other work on a shared machine). */

export function bestOf(passes: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}
