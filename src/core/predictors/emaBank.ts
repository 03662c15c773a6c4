/** @file Several EMA predictors of one tensor updated in a single pass over the gradient: the live accumulator's
 * fused path for the default ema0.5/ema0.9/ema0.99 trio (one read of g instead of three).
 *
 * To keep the pass short (JavaScript has no SIMD here, so this loop is compute-bound) only ‖g − m‖² is summed per
 * coordinate, together with the update m ← m + (1−β)(g − m). The other two terms follow exactly from scalars:
 * - ⟨m_t, g_t⟩ = (‖g_t‖² + ‖m_t‖² − ‖g_t − m_t‖²) / 2 (‖g_t‖² is known from the window Gram row);
 * - ‖m_{t+1}‖² = β²‖m_t‖² + 2β(1−β)⟨m_t, g_t⟩ + (1−β)²‖g_t‖², the recursion exact mode uses too.
 * The error itself is summed directly from the vectors, so it has no cancellation; the derived cross term only
 * feeds cosines, where its absolute error (≈ 1e-16·(‖g‖² + ‖m‖²)) is irrelevant. Hand-written for the same reason
 * as kernels.ts: float32 input, float64 state and sums.
 *
 * Layout: the EMAs go in groups of up to three, and each group's states are interleaved in one Float64Array
 * (coordinate i of EMA a of the group at [i·size + a]), so a pass streams one state array instead of three: measured
 * 2.9× against 3.4× a float32 sum of squares for three separate arrays (same arithmetic, same results).
 * Float32 state was tried too: no faster (the pass is bound by arithmetic, not memory traffic, on the dev machine)
 * and it would round every state to 24 bits, so the state stays float64. */
import type { Vec } from "../matrix.ts";
import type { LiveStepTerms } from "./types.ts";

/** The scalar side of a bank of EMAs (the part both the JavaScript bank below and the WebAssembly live path in
 * src/core/wasm/live.ts need): β, ‖m_t‖² carried by its recursion, and the first-step flag; it turns the summed
 * errors of a step into the three terms. */
export class EmaScalars {
  readonly betas: readonly number[];
  /** ‖m_t‖² per EMA for the next step. */
  readonly normSq: Float64Array;
  started = false;

  constructor(betas: readonly number[]) {
    this.betas = [...betas];
    this.normSq = new Float64Array(betas.length);
  }

  /** Step 0 (m_0 = 0): every error is ‖g_0‖²; afterwards m_1 = g_0, so ‖m_1‖² = ‖g_0‖². */
  start(gradNormSq: number): LiveStepTerms[] {
    this.normSq.fill(gradNormSq);
    this.started = true;
    return this.betas.map(() => ({ error: gradNormSq, cross: 0, normSq: 0 }));
  }

  /** The terms of a later step from errors[j] = ‖g_t − m_t‖² (‖g_t‖² = gradNormSq); advances ‖m‖². */
  terms(errors: ArrayLike<number>, gradNormSq: number, at = 0): LiveStepTerms[] {
    const out: LiveStepTerms[] = [];
    for (let j = 0; j < this.betas.length; j++) {
      const beta = this.betas[j];
      const normSq = this.normSq[j];
      const error = errors[at + j];
      const cross = (gradNormSq + normSq - error) / 2;
      out.push({ error, cross, normSq });
      this.normSq[j] = beta * beta * normSq + 2 * beta * (1 - beta) * cross + (1 - beta) ** 2 * gradNormSq;
    }
    return out;
  }
}

export class EmaBank {
  /** Groups of up to three EMAs: interleaved states, their 1 − β, and the index of their first EMA. */
  private readonly groups: { states: Float64Array; alphas: Float64Array; first: number }[];
  readonly scalars: EmaScalars;
  private readonly errors: Float64Array;

  constructor(betas: readonly number[], dim: number) {
    this.scalars = new EmaScalars(betas);
    this.groups = [];
    for (let first = 0; first < betas.length; first += 3) {
      const size = Math.min(3, betas.length - first);
      this.groups.push({
        states: new Float64Array(size * dim),
        alphas: Float64Array.from(betas.slice(first, first + size), (b) => 1 - b),
        first,
      });
    }
    this.errors = new Float64Array(betas.length);
  }

  /** A bank continuing from a given state: the scalars' values and each EMA's vector m (used when the live
   * accumulator moves a tensor from the WebAssembly path to this one). */
  static fromState(scalars: EmaScalars, states: readonly Float64Array[], dim: number): EmaBank {
    const bank = new EmaBank(scalars.betas, dim);
    bank.scalars.normSq.set(scalars.normSq);
    bank.scalars.started = scalars.started;
    for (const { states: dst, alphas, first } of bank.groups) {
      const size = alphas.length;
      for (let a = 0; a < size; a++) {
        const m = states[first + a];
        for (let i = 0, k = a; i < dim; i++, k += size) dst[k] = m[i];
      }
    }
    return bank;
  }

  /** A copy of EMA a's vector m (de-interleaved from its group). */
  vector(a: number): Float64Array {
    const group = this.groups[Math.floor(a / 3)];
    const size = group.alphas.length;
    const dim = group.states.length / size;
    const out = new Float64Array(dim);
    for (let i = 0, k = a - group.first; i < dim; i++, k += size) out[i] = group.states[k];
    return out;
  }

  /** Compares every EMA's m_t with g_t (‖g_t‖² = gradNormSq) and updates it; terms in the order of `betas`. */
  step(g: Vec, gradNormSq: number): LiveStepTerms[] {
    if (!this.scalars.started) {
      for (const { states, alphas } of this.groups) fillInterleaved(states, g, alphas.length);
      return this.scalars.start(gradNormSq);
    }
    for (const { states, alphas, first } of this.groups) {
      if (alphas.length === 3) pass3(g, states, alphas, this.errors, first);
      else if (alphas.length === 2) pass2(g, states, alphas, this.errors, first);
      else this.errors[first] = pass1(g, states, alphas[0]);
    }
    return this.scalars.terms(this.errors, gradNormSq);
  }
}

/** m_1 = g_0 for every EMA of a group: g copied into each of the `size` interleaved lanes. */
function fillInterleaved(states: Float64Array, g: Vec, size: number): void {
  if (size === 1) {
    states.set(g);
    return;
  }
  // One strided copy per lane, not a loop over lanes inside the loop over coordinates: this runs once per tensor,
  // before the JIT has optimised anything, and the nested form showed up as the largest item of a profile.
  for (let a = 0; a < size; a++) {
    for (let i = 0, k = a; i < g.length; i++, k += size) states[k] = g[i];
  }
}

/* One kernel per group size: the loop bodies must be straight-line code for the JIT. Each reads g_i once, the
 * group's interleaved states once, and writes them back; the errors are summed in float64. These are also the
 * JavaScript reference of the SIMD passes in wasm/assembly/live.ts (deliberate twins, compared in wasm-live.test). */

function pass3(g: Vec, m: Float64Array, alphas: Float64Array, errors: Float64Array, at: number): void {
  const aa = alphas[0];
  const ab = alphas[1];
  const ac = alphas[2];
  let ea = 0;
  let eb = 0;
  let ec = 0;
  const n = g.length;
  for (let i = 0, k = 0; i < n; i++, k += 3) {
    const gi = g[i];
    const ma = m[k];
    const mb = m[k + 1];
    const mc = m[k + 2];
    const da = gi - ma;
    const db = gi - mb;
    const dc = gi - mc;
    ea += da * da;
    eb += db * db;
    ec += dc * dc;
    m[k] = ma + aa * da;
    m[k + 1] = mb + ab * db;
    m[k + 2] = mc + ac * dc;
  }
  errors[at] = ea;
  errors[at + 1] = eb;
  errors[at + 2] = ec;
}

function pass2(g: Vec, m: Float64Array, alphas: Float64Array, errors: Float64Array, at: number): void {
  const aa = alphas[0];
  const ab = alphas[1];
  let ea = 0;
  let eb = 0;
  const n = g.length;
  for (let i = 0, k = 0; i < n; i++, k += 2) {
    const gi = g[i];
    const ma = m[k];
    const mb = m[k + 1];
    const da = gi - ma;
    const db = gi - mb;
    ea += da * da;
    eb += db * db;
    m[k] = ma + aa * da;
    m[k + 1] = mb + ab * db;
  }
  errors[at] = ea;
  errors[at + 1] = eb;
}

function pass1(g: Vec, m: Float64Array, alpha: number): number {
  let e = 0;
  const n = g.length;
  for (let i = 0; i < n; i++) {
    const mi = m[i];
    const d = g[i] - mi;
    e += d * d;
    m[i] = mi + alpha * d;
  }
  return e;
}
