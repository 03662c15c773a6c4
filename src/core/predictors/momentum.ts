/** @file Momentum-matched predictor: m_t = scale · b_{t−1}, the optimizer's own momentum buffer as it stood after the
 * step that consumed g_{t−1} (m_0 = 0). Ids: `momentum` (scale 1) and `momentum<s>` (e.g. `momentum0.1`: for
 * PyTorch SGD without dampening the buffer is ≈ 1/(1−μ) times the gradient scale, so scale = 1 − μ compares
 * directions at the gradient's scale).
 *
 * It is not a combination of past gradients, so the Gram of gradients is not enough. API:
 * - live mode: the caller passes the buffer logged after each step as `extras.momentum` to `observe`;
 * - exact mode: the caller supplies a cross-Gram (MomentumCrossGram: ⟨g_t, b_{t−1}⟩ and ‖b_{t−1}‖² per step, both
 *   separable over coordinate blocks like K itself), built with `momentumCrossGram` from vectors or accumulated
 *   block by block, and passes it to `pathLengthsFromGram(k, ids, { extras: { momentum } })`. */
import { GradtraceError } from "../errors.ts";
import type { Vec } from "../matrix.ts";
import { compareWithPrediction, dot } from "./kernels.ts";
import type {
  GramExtras,
  GramPredictorState,
  LivePredictorState,
  LiveStepExtras,
  LiveStepTerms,
  MomentumCrossGram,
  PredictorDefinition,
} from "./types.ts";

/** Builds the exact-mode cross-Gram from explicit vectors: buffers[t] is the buffer logged after step t. */
export function momentumCrossGram(grads: readonly Vec[], buffers: readonly Vec[]): MomentumCrossGram {
  if (grads.length !== buffers.length) {
    throw new GradtraceError(
      "E_SHAPE",
      `momentumCrossGram: ${grads.length} gradients but ${buffers.length} momentum buffers (expected one per step)`,
    );
  }
  const n = grads.length;
  const gradDotBuffer = new Float64Array(n);
  const bufferNormSq = new Float64Array(n);
  for (let t = 1; t < n; t++) {
    gradDotBuffer[t] = dot(grads[t], buffers[t - 1]);
    bufferNormSq[t] = dot(buffers[t - 1], buffers[t - 1]);
  }
  return { gradDotBuffer, bufferNormSq };
}

class MomentumLiveState implements LivePredictorState {
  private readonly m: Float64Array;
  private started = false;
  private steps = 0;

  constructor(
    private readonly scale: number,
    dim: number,
  ) {
    this.m = new Float64Array(dim);
  }

  predict(): Float64Array | null {
    return this.started ? this.m : null;
  }

  observe(_g: Vec, extras?: LiveStepExtras): void {
    const buffer = extras?.momentum;
    if (buffer === undefined) {
      throw new GradtraceError(
        "E_ARG",
        `momentum predictor: step ${this.steps} came without extras.momentum (the optimizer's buffer is needed at every step)`,
      );
    }
    if (buffer.length !== this.m.length) {
      throw new GradtraceError(
        "E_SHAPE",
        `momentum predictor: step ${this.steps} buffer has ${buffer.length} elements, expected ${this.m.length}`,
      );
    }
    // Copied because optimizers update their buffers in place.
    for (let i = 0; i < this.m.length; i++) this.m[i] = this.scale * buffer[i];
    this.started = true;
    this.steps++;
  }

  step(g: Vec, extras?: LiveStepExtras): LiveStepTerms {
    const terms = compareWithPrediction(g, this.predict());
    this.observe(g, extras);
    return terms;
  }
}

export function momentumPredictor(scale = 1, id = "momentum"): PredictorDefinition {
  return {
    id,
    description: `momentum-matched: m_t = ${scale} · (optimizer momentum buffer after step t−1); needs the buffer`,
    coordinatewise: true,
    requiresMomentum: true,
    gramWithExtras: (extras: GramExtras): GramPredictorState => {
      const cg = extras.momentum;
      if (cg === undefined) {
        throw new GradtraceError(
          "E_ARG",
          `predictor "${id}" in exact mode needs extras.momentum (⟨g_t, b_{t−1}⟩ and ‖b_{t−1}‖² per step)`,
        );
      }
      return {
        step(t) {
          if (t === 0) return { cross: 0, normSq: 0 };
          if (t >= cg.gradDotBuffer.length || t >= cg.bufferNormSq.length) {
            throw new GradtraceError(
              "E_SHAPE",
              `predictor "${id}": momentum cross-Gram has ${cg.gradDotBuffer.length} steps, step ${t} requested`,
            );
          }
          return { cross: scale * cg.gradDotBuffer[t], normSq: scale * scale * cg.bufferNormSq[t] };
        },
      };
    },
    live: (dim) => new MomentumLiveState(scale, dim),
  };
}
