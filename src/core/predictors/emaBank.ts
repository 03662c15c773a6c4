/** @file Several EMA predictors of one tensor updated in a single pass over the gradient: the live accumulator's
 * fused path for the default ema0.5/ema0.9/ema0.99 trio (one read of g instead of three).
 *
 * To keep the pass short (JavaScript has no SIMD here, so this loop is compute-bound) only ‖g − m‖² is summed per
 * coordinate, together with the update m ← m + (1−β)(g − m). The other two terms follow exactly from scalars:
 * - ⟨m_t, g_t⟩ = (‖g_t‖² + ‖m_t‖² − ‖g_t − m_t‖²) / 2 (‖g_t‖² is known from the window Gram row);
 * - ‖m_{t+1}‖² = β²‖m_t‖² + 2β(1−β)⟨m_t, g_t⟩ + (1−β)²‖g_t‖², the recursion exact mode uses too.
 * The error itself is summed directly from the vectors, so it has no cancellation; the derived cross term only
 * feeds cosines, where its absolute error (≈ 1e-16·(‖g‖² + ‖m‖²)) is irrelevant. Hand-written for the same reason
 * as kernels.ts: float32 input, float64 state and sums. */
import type { Vec } from "../matrix.ts";
import type { LiveStepTerms } from "./types.ts";

export class EmaBank {
  private readonly states: Float64Array[];
  private readonly betas: number[];
  private readonly normSq: Float64Array;
  private readonly errors: Float64Array;
  private started = false;

  constructor(betas: readonly number[], dim: number) {
    this.betas = [...betas];
    this.states = betas.map(() => new Float64Array(dim));
    this.normSq = new Float64Array(betas.length);
    this.errors = new Float64Array(betas.length);
  }

  /** Compares every EMA's m_t with g_t (‖g_t‖² = gradNormSq) and updates it; terms in the order of `betas`. */
  step(g: Vec, gradNormSq: number): LiveStepTerms[] {
    const count = this.states.length;
    if (!this.started) {
      for (const m of this.states) m.set(g);
      this.normSq.fill(gradNormSq);
      this.started = true;
      return this.states.map(() => ({ error: gradNormSq, cross: 0, normSq: 0 }));
    }
    for (let j = 0; j < count; j += 3) {
      const left = count - j;
      if (left >= 3) this.pass3(g, j);
      else if (left === 2) this.pass2(g, j);
      else this.errors[j] = pass1(g, this.states[j], 1 - this.betas[j]);
    }
    const out: LiveStepTerms[] = [];
    for (let j = 0; j < count; j++) {
      const beta = this.betas[j];
      const normSq = this.normSq[j];
      const error = this.errors[j];
      const cross = (gradNormSq + normSq - error) / 2;
      out.push({ error, cross, normSq });
      this.normSq[j] = beta * beta * normSq + 2 * beta * (1 - beta) * cross + (1 - beta) ** 2 * gradNormSq;
    }
    return out;
  }

  private pass2(g: Vec, j: number): void {
    const ma = this.states[j];
    const mb = this.states[j + 1];
    const aa = 1 - this.betas[j];
    const ab = 1 - this.betas[j + 1];
    let ea = 0;
    let eb = 0;
    for (let i = 0; i < ma.length; i++) {
      const gi = g[i];
      const da = gi - ma[i];
      const db = gi - mb[i];
      ea += da * da;
      eb += db * db;
      ma[i] += aa * da;
      mb[i] += ab * db;
    }
    this.errors[j] = ea;
    this.errors[j + 1] = eb;
  }

  private pass3(g: Vec, j: number): void {
    const ma = this.states[j];
    const mb = this.states[j + 1];
    const mc = this.states[j + 2];
    const aa = 1 - this.betas[j];
    const ab = 1 - this.betas[j + 1];
    const ac = 1 - this.betas[j + 2];
    let ea = 0;
    let eb = 0;
    let ec = 0;
    for (let i = 0; i < ma.length; i++) {
      const gi = g[i];
      const da = gi - ma[i];
      const db = gi - mb[i];
      const dc = gi - mc[i];
      ea += da * da;
      eb += db * db;
      ec += dc * dc;
      ma[i] += aa * da;
      mb[i] += ab * db;
      mc[i] += ac * dc;
    }
    this.errors[j] = ea;
    this.errors[j + 1] = eb;
    this.errors[j + 2] = ec;
  }
}

function pass1(g: Vec, m: Float64Array, alpha: number): number {
  let e = 0;
  for (let i = 0; i < m.length; i++) {
    const d = g[i] - m[i];
    e += d * d;
    m[i] += alpha * d;
  }
  return e;
}
