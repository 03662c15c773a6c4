/** @file What the crash trials write, step by step: cheap to generate (a fill and a few distinct elements, so the
 * writer — not value generation — dominates a step's time), different at every step and checkable after the fact.
 * Every third step also logs a momentum buffer, so records come in two sizes. */

export const CRASH_TENSORS = (numel: number) => [
  { name: "a", shape: [numel] },
  { name: "b", shape: [16], dtype: "F64" as const },
];

export function crashStepValues(
  step: number,
  numel: number,
): { values: { a: Float32Array; b: Float64Array }; momentum: { b: Float32Array } | null } {
  const a = new Float32Array(numel).fill(step + 0.5);
  for (let k = 0; k < 8; k++) a[Math.floor((k * (numel - 1)) / 7)] = step * 8 + k;
  const b = Float64Array.from({ length: 16 }, (_, i) => step * 100 + i + 1 / 3);
  const momentum = step % 3 === 2 ? { b: Float32Array.from({ length: 16 }, (_, i) => -step - i) } : null;
  return { values: { a, b }, momentum };
}
