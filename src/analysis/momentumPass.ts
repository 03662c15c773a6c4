/** @file Side information for the momentum-matched predictor in exact mode: per tensor, ⟨g_t, b_{t−1}⟩ and
 * ‖b_{t−1}‖², where b_{t−1} is the optimizer's momentum buffer logged with the previous step. Both are separable
 * over tensors, so the whole-model values are the sums. One extra streaming pass, O(p) memory. */

import type { MomentumCrossGram } from "../core/index.ts";
import { dot, GradtraceError } from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";

export function momentumCrossGrams(
  reader: TraceReader,
  tensors: readonly string[],
  positions: readonly number[],
): { perTensor: Map<string, MomentumCrossGram>; total: MomentumCrossGram } {
  const readState = reader.readState?.bind(reader);
  if (!readState) {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `${reader.info.path}: the momentum predictor needs the optimizer's momentum buffer, which this layout (${reader.info.format}) does not store; log a .gtrace with momentum (gradtrace train does)`,
    );
  }
  const n = positions.length;
  const total: MomentumCrossGram = { gradDotBuffer: new Float64Array(n), bufferNormSq: new Float64Array(n) };
  const perTensor = new Map<string, MomentumCrossGram>();
  for (const name of tensors) {
    const cg: MomentumCrossGram = { gradDotBuffer: new Float64Array(n), bufferNormSq: new Float64Array(n) };
    for (let i = 1; i < n; i++) {
      const b = readState(positions[i - 1], name, "momentum");
      if (b === null) {
        throw new GradtraceError(
          "E_FORMAT",
          `${reader.info.path}: step ${reader.info.steps[positions[i - 1]]} has no momentum buffer for ${name} (the momentum predictor needs one at every step)`,
        );
      }
      const g = reader.readTensor(positions[i], name);
      cg.gradDotBuffer[i] = dot(g, b);
      cg.bufferNormSq[i] = dot(b, b);
      total.gradDotBuffer[i] += cg.gradDotBuffer[i];
      total.bufferNormSq[i] += cg.bufferNormSq[i];
    }
    perTensor.set(name, cg);
  }
  return { perTensor, total };
}
