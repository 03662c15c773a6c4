/** @file Turns a lagged linear predictor (coefficients over the last `lag` gradients, computed from their Gram) into
 * its exact-mode and live-mode forms, so each such predictor is written once. */
import type { Mat, Vec } from "../matrix.ts";
import { GramRing, matReader } from "./gramRing.ts";
import { combine, compareWithPrediction, dot } from "./kernels.ts";
import type {
  GramPredictorState,
  GramReader,
  LaggedPredictor,
  LaggedPredictorState,
  LivePredictorState,
  LiveStepTerms,
  PredictionTerms,
} from "./types.ts";

/** ⟨m_t, g_t⟩ and ‖m_t‖² of m_t = Σ_l c[l−1] g_{t−l}, from K alone. */
export function laggedTerms(t: number, c: Float64Array | null, k: GramReader): PredictionTerms {
  if (c === null) return { cross: 0, normSq: 0 };
  let cross = 0;
  let normSq = 0;
  for (let a = 0; a < c.length; a++) {
    const ca = c[a];
    if (ca === 0) continue;
    cross += ca * k.get(t, t - 1 - a);
    let row = 0;
    for (let b = 0; b < c.length; b++) row += c[b] * k.get(t - 1 - a, t - 1 - b);
    normSq += ca * row;
  }
  return { cross, normSq };
}

export function laggedGram(lagged: LaggedPredictor): () => GramPredictorState {
  return () => {
    const state = lagged.create();
    return {
      step(t: number, k: Mat): PredictionTerms {
        const reader = matReader(k);
        return laggedTerms(t, state.coefficients(t, reader), reader);
      },
    };
  };
}

/** Live form: keeps the last `lag` gradients (float64 copies) and their Gram ring; the prediction is formed
 * explicitly as Σ c_l g_{t−l}. */
export function laggedLive(lagged: LaggedPredictor): (dim: number) => LivePredictorState {
  return (dim: number) => new LaggedLiveState(lagged.lag, lagged.create(), dim);
}

class LaggedLiveState implements LivePredictorState {
  private readonly history: Float64Array[] = [];
  private readonly ring: GramRing;
  private readonly prediction: Float64Array;
  private t = 0;
  private coefficientsFor = -1;
  private current: Float64Array | null = null;

  constructor(
    private readonly lag: number,
    private readonly state: LaggedPredictorState,
    dim: number,
  ) {
    this.ring = new GramRing(lag + 1);
    this.prediction = new Float64Array(dim);
  }

  private ensureCoefficients(): Float64Array | null {
    // Stateful predictors (AR accumulates its normal equations) must see every t exactly once, in order.
    if (this.coefficientsFor !== this.t) {
      this.current = this.state.coefficients(this.t, this.ring);
      this.coefficientsFor = this.t;
    }
    return this.current;
  }

  predict(): Float64Array | null {
    const c = this.ensureCoefficients();
    if (c === null) return null;
    // history[0] is g_{t−1}, history[1] is g_{t−2}, …
    return combine(this.prediction, c, this.history);
  }

  observe(g: Vec): void {
    this.ensureCoefficients();
    const dots = new Float64Array(Math.min(this.lag, this.history.length) + 1);
    dots[0] = dot(g, g);
    for (let d = 1; d < dots.length; d++) dots[d] = dot(g, this.history[d - 1]);
    this.ring.setRow(this.t, dots);
    if (this.lag > 0) {
      const slot = this.history.length === this.lag ? this.history.pop()! : new Float64Array(g.length);
      slot.set(g);
      this.history.unshift(slot);
    }
    this.t++;
  }

  step(g: Vec): LiveStepTerms {
    const terms = compareWithPrediction(g, this.predict());
    this.observe(g);
    return terms;
  }
}
