/** @file The data-independent predictors: zero, one-step (`last`), linear extrapolation and EMA(β). The first three
 * are lagged linear predictors with fixed coefficients; EMA has infinite memory, so it carries its own exact-mode
 * recursion (O(t) per step, O(T²) in all) and a one-vector live state. */
import type { Mat, Vec } from "../matrix.ts";
import { laggedGram, laggedLive } from "./lagged.ts";
import type {
  GramPredictorState,
  LaggedPredictor,
  LivePredictorState,
  LiveStepTerms,
  PredictionTerms,
  PredictorDefinition,
} from "./types.ts";

const ONE = Float64Array.of(1);
const TWO_MINUS_ONE = Float64Array.of(2, -1);

function fixedLagged(lag: number, coefficients: (t: number) => Float64Array | null): LaggedPredictor {
  return { lag, create: () => ({ coefficients: (t) => coefficients(t) }) };
}

function fromLagged(
  id: string,
  description: string,
  lagged: LaggedPredictor,
  coordinatewise: boolean,
): PredictorDefinition {
  return { id, description, lagged, coordinatewise, gram: laggedGram(lagged), live: laggedLive(lagged) };
}

export function zeroPredictor(): PredictorDefinition {
  const def = fromLagged(
    "zero",
    "m_t = 0: the worst-case baseline, κ = 1 exactly",
    fixedLagged(0, () => null),
    true,
  );
  // The zero predictor needs no memory at all in live mode.
  def.live = () => ({
    predict: () => null,
    observe: () => {},
  });
  return def;
}

export function lastPredictor(): PredictorDefinition {
  return fromLagged(
    "last",
    "one-step: m_t = g_{t−1} (m_0 = 0)",
    fixedLagged(1, (t) => (t >= 1 ? ONE : null)),
    true,
  );
}

export function linearPredictor(): PredictorDefinition {
  return fromLagged(
    "linear",
    "linear extrapolation: m_t = 2g_{t−1} − g_{t−2} (m_1 = g_0, m_0 = 0)",
    fixedLagged(2, (t) => (t >= 2 ? TWO_MINUS_ONE : t === 1 ? ONE : null)),
    true,
  );
}

/** Exact-mode EMA. m_t = Σ_{s<t} c_s g_s with c carried through the recursion c ← β c + (1−β) e_{t−1}, so
 * ⟨m_t, g_t⟩ = Σ_s c_s K_ts costs O(t); ‖m_t‖² follows from the previous step in O(1):
 * ‖m_t‖² = β²‖m_{t−1}‖² + 2β(1−β)⟨m_{t−1}, g_{t−1}⟩ + (1−β)² K_{t−1,t−1}. Total O(T²), not O(T³). */
class EmaGramState implements GramPredictorState {
  private coefficients = new Float64Array(16);
  private normSq = 0;
  private prevCross = 0;

  constructor(private readonly beta: number) {}

  step(t: number, k: Mat): PredictionTerms {
    const { beta } = this;
    const n = k.cols;
    if (t === 0) {
      this.prevCross = 0;
      return { cross: 0, normSq: 0 };
    }
    if (t >= this.coefficients.length) {
      const grown = new Float64Array(Math.max(2 * this.coefficients.length, t + 1));
      grown.set(this.coefficients);
      this.coefficients = grown;
    }
    const c = this.coefficients;
    const kPrev = k.data[(t - 1) * n + (t - 1)];
    if (t === 1) {
      c[0] = 1;
      this.normSq = kPrev;
    } else {
      for (let s = 0; s < t - 1; s++) c[s] *= beta;
      c[t - 1] = 1 - beta;
      this.normSq =
        beta * beta * this.normSq + 2 * beta * (1 - beta) * this.prevCross + (1 - beta) ** 2 * kPrev;
    }
    let cross = 0;
    const row = t * n;
    for (let s = 0; s < t; s++) cross += c[s] * k.data[row + s];
    this.prevCross = cross;
    return { cross, normSq: this.normSq };
  }
}

/** Live EMA: one float64 vector; `step` compares and updates in a single pass. */
class EmaLiveState implements LivePredictorState {
  private readonly m: Float64Array;
  private started = false;

  constructor(
    private readonly beta: number,
    dim: number,
  ) {
    this.m = new Float64Array(dim);
  }

  predict(): Float64Array | null {
    return this.started ? this.m : null;
  }

  observe(g: Vec): void {
    this.step(g);
  }

  step(g: Vec): LiveStepTerms {
    const { m, beta } = this;
    const n = m.length;
    if (!this.started) {
      let normG = 0;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        normG += gi * gi;
        m[i] = gi;
      }
      this.started = true;
      return { error: normG, cross: 0, normSq: 0 };
    }
    const alpha = 1 - beta;
    let error = 0;
    let cross = 0;
    let normSq = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = m[i];
      const d = gi - mi;
      error += d * d;
      cross += gi * mi;
      normSq += mi * mi;
      m[i] = mi + alpha * d;
    }
    return { error, cross, normSq };
  }
}

/** β of definitions made by emaPredictor, so the live accumulator can fuse several EMAs into one pass. */
const emaBetas = new WeakMap<PredictorDefinition, number>();

export function emaBetaOf(def: PredictorDefinition): number | undefined {
  return emaBetas.get(def);
}

export function emaPredictor(beta: number, id = `ema${beta}`): PredictorDefinition {
  const def: PredictorDefinition = {
    id,
    description: `EMA(β = ${beta}): m_1 = g_0, m_t = β m_{t−1} + (1−β) g_{t−1} (no zero-initialisation bias)`,
    coordinatewise: true,
    gram: () => new EmaGramState(beta),
    live: (dim) => new EmaLiveState(beta, dim),
  };
  emaBetas.set(def, beta);
  return def;
}
