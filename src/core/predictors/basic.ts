/** @file The data-independent predictors: zero, one-step (`last`), linear extrapolation and EMA(β). The first three
 * are lagged linear predictors with fixed coefficients; EMA has infinite memory, so it carries its own exact-mode
 * recursion (O(t) per step, O(T²) in all) and a one-vector live state.
 *
 * EMA comes in the two readings of the paper's "EMA predictor" (it does not say how the average starts):
 * - `ema<β>`: m_1 = g_0, then m_t = β m_{t−1} + (1−β) g_{t−1} — no zero-initialisation bias;
 * - `ema<β>z`: m_0 = 0, m_t = β m_{t−1} + (1−β) g_{t−1} for every t ≥ 1, so m_1 = (1−β) g_0 — the textbook
 *   zero-initialised average, biased towards 0 for the first ~1/(1−β) steps.
 * Both predict m_0 = 0. With β = 0.99 the two can differ by an order of magnitude in κ (the z form is close to the
 * zero predictor for a run of a few hundred steps; the other carries g_0 for ~100 steps). */
import type { Mat, Vec } from "../matrix.ts";
import { laggedGram, laggedLive } from "./lagged.ts";
import type {
  GramPredictorState,
  LaggedPredictor,
  LivePredictorState,
  LiveStepTerms,
  PredictionTerms,
  PredictorDefinition,
  PredictorHistory,
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

  constructor(
    private readonly beta: number,
    private readonly zeroInit: boolean,
  ) {}

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
    if (t === 1 && !this.zeroInit) {
      c[0] = 1;
      this.normSq = kPrev;
    } else {
      // Zero-initialised at t = 1: m_0 = 0 and ⟨m_0, g_0⟩ = 0, so the general recursion gives m_1 = (1−β) g_0.
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
    private readonly zeroInit: boolean,
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
      // m_1 = g_0 (bias-free reading) or (1−β) g_0 (zero-initialised: m_1 = β·0 + (1−β) g_0).
      const first = this.zeroInit ? 1 - beta : 1;
      let normG = 0;
      for (let i = 0; i < n; i++) {
        const gi = g[i];
        normG += gi * gi;
        m[i] = first * gi;
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

  /** m, then 1 when started (the step index does not enter the recursion). */
  saveHistory(): PredictorHistory {
    const values = new Float64Array(this.m.length + 1);
    values.set(this.m);
    values[this.m.length] = this.started ? 1 : 0;
    return { values, nextStep: 0 };
  }

  restoreHistory({ values }: PredictorHistory): void {
    this.m.set(values.subarray(0, this.m.length));
    this.started = values[this.m.length] === 1;
  }
}

/** β of the bias-free EMA definitions made by emaPredictor, so the live accumulator can fuse several EMAs into one
 * pass (its EmaBank starts every lane at m_1 = g_0; zero-initialised EMAs keep their own live state). */
const emaBetas = new WeakMap<PredictorDefinition, number>();

export function emaBetaOf(def: PredictorDefinition): number | undefined {
  return emaBetas.get(def);
}

export interface EmaOptions {
  /** The zero-initialised reading (`ema<β>z`): m_0 = 0, m_1 = (1−β) g_0. Default false: m_1 = g_0. */
  readonly zeroInit?: boolean;
}

export function emaPredictor(
  beta: number,
  id = `ema${beta}`,
  { zeroInit = false }: EmaOptions = {},
): PredictorDefinition {
  const def: PredictorDefinition = {
    id,
    description: zeroInit
      ? `EMA(β = ${beta}), zero-initialised: m_0 = 0, m_t = β m_{t−1} + (1−β) g_{t−1} (so m_1 = (1−β) g_0)`
      : `EMA(β = ${beta}): m_1 = g_0, m_t = β m_{t−1} + (1−β) g_{t−1} (no zero-initialisation bias)`,
    coordinatewise: true,
    gram: () => new EmaGramState(beta, zeroInit),
    live: (dim) => new EmaLiveState(beta, dim, zeroInit),
  };
  if (!zeroInit) emaBetas.set(def, beta);
  return def;
}
