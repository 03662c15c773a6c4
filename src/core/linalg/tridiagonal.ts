/** @file Symmetric eigenproblems that need all eigenvalues but few or no eigenvectors: a Householder reduction to
 * tridiagonal form (LAPACK's dsytd2, blocked as dsytrd/dlatrd for large n), QL without vectors on the tridiagonal,
 * and inverse iteration (LAPACK's dstein) for the few eigenvectors a caller asks for, back-transformed through the
 * stored reflectors.
 *
 * Why: the spectrum metrics need eigenvalues only; the lowrank<k>w<w> predictor needs k eigenvectors of a w×w
 * window Gram at every step, a Frequent Directions shrink the top ℓ of 2ℓ + … — computing all n vectors (the tql2
 * rotations, ~6n³ flops) costs several times the reduction (4/3·n³) there. Here m vectors cost O(m·n²).
 *
 * Storage: the working matrix is row-major and only its upper triangle is read (row i from column i on, contiguous).
 * Step k builds the reflector H_k = I − τ_k v_k v_kᵀ from row k right of the super-diagonal; it acts on indices
 * k+1..n−1 (v_k[k+1] = 1, stored in row k at columns k+2..n−1), so index 0 is never touched: Q e_0 = e_0 where
 * A = Q T Qᵀ, Q = H_0 H_1 ⋯ H_{n−3}.
 *
 * Blocked reduction (n ≥ BLOCKED_MIN): LAPACK's dlatrd on rows. For a panel of NB rows, each row's reflector needs
 * the product of the *current* trailing matrix with v; the trailing matrix is left stale and the product corrected
 * by the panel's earlier (v, w) pairs, and the whole trailing block gets one rank-2·NB update
 * A ← A − V Wᵀ − W Vᵀ per panel. Half the flops stay matrix–vector products (as in LAPACK), but the trailing
 * matrix is swept once per row instead of twice, and the update runs eight streams per pass.
 *
 * Scale: reflector norms are computed on values scaled by their largest magnitude, so entries near 1e±150 neither
 * overflow nor underflow; inverse iteration scales its right-hand side with the block's norm (as dstein does). */
import { GradtraceError } from "../errors.ts";

/** QL sweeps allowed per eigenvalue before declaring non-convergence (EISPACK uses 30; real cases need 2–3). */
const MAX_QL_ITERATIONS_PER_VALUE = 60;
/** Rows per panel of the blocked reduction, and the size from which it is used (below, the unblocked one). */
const BLOCK_ROWS = 32;
const BLOCKED_MIN = 192;
/** Inverse-iteration sweeps per eigenvector (dstein allows 5 and stops 2 sweeps after convergence). With a shift
 * accurate to ε·‖T‖, each sweep shrinks the other directions by ε‖T‖/gap relative to the wanted one: two sweeps
 * reach rounding level when the eigenvalue is isolated (gap > 10⁻³‖T‖), a third is spent on clustered ones (where
 * reorthogonalisation does the rest). */
const INVERSE_ITERATIONS_ISOLATED = 2;
const INVERSE_ITERATIONS_CLUSTERED = 3;

/** A = Q T Qᵀ: T's diagonal d and off-diagonal e (e[i] couples i and i+1; e[n−1] = 0), and the reflectors of Q. */
export interface TridiagonalForm {
  readonly n: number;
  readonly d: Float64Array;
  readonly e: Float64Array;
  /** n×n working matrix: row k (k ≤ n−3) holds v_k at columns k+2..n−1 (v_k[k+1] = 1 implicit). */
  readonly reflectors: Float64Array;
  readonly tau: Float64Array;
}

/** Scratch arrays of the reduction, the tridiagonal QL and the inverse iteration, grown on demand and reused, so the
 * per-step eigenproblems (lowrank predictor, FD shrinks) allocate nothing. Not re-entrant: one per caller. */
export class EigenWorkspace {
  private size = -1;
  w = new Float64Array(0);
  d = new Float64Array(0);
  e = new Float64Array(0);
  tau = new Float64Array(0);
  v = new Float64Array(0);
  p = new Float64Array(0);
  readonly beta = new Float64Array(1);
  /** The reduced matrix is A / unscale (a power of two; 1 unless A's entries are extreme). */
  unscale = 1;
  /** Eigenvalues in QL order, then sorted (descending) with their blocks. */
  raw = new Float64Array(0);
  rawStart = new Int32Array(0);
  rawEnd = new Int32Array(0);
  order = new Int32Array(0);
  values = new Float64Array(0);
  blockStart = new Int32Array(0);
  blockEnd = new Int32Array(0);
  dd = new Float64Array(0);
  ee = new Float64Array(0);
  x = new Float64Array(0);
  lastShift = new Float64Array(0);
  lastColumn = new Int32Array(0);
  previousColumn = new Int32Array(0);
  clusterFirst = new Int32Array(0);
  lu = new TridiagonalLu(0);

  reserve(n: number): void {
    if (n <= this.size) return;
    this.size = n;
    this.w = new Float64Array(n * n);
    for (const key of ["d", "e", "tau", "v", "p", "raw", "values", "dd", "ee", "x", "lastShift"] as const) {
      this[key] = new Float64Array(n);
    }
    for (const key of [
      "rawStart",
      "rawEnd",
      "order",
      "blockStart",
      "blockEnd",
      "lastColumn",
      "previousColumn",
      "clusterFirst",
    ] as const) {
      this[key] = new Int32Array(n);
    }
    this.lu = new TridiagonalLu(n);
  }
}

/** Reduces the symmetric n×n matrix (row-major; its upper triangle is read) to tridiagonal form in `ws` (a is not
 * modified): ws.d, ws.e, and the reflectors in ws.w / ws.tau. */
export function reduceInto(ws: EigenWorkspace, a: Float64Array, n: number): void {
  ws.reserve(n);
  const { w, d, e, tau } = ws;
  w.set(a.subarray(0, n * n));
  ws.unscale = 1;
  if (n === 0) return;
  // Entries far from 1 are scaled by a power of two (exact) so that no product in the reduction leaves float64's
  // normal range; the eigenvalues are scaled back (ws.unscale).
  let max = 0;
  for (let i = 0; i < n * n; i++) {
    const v = Math.abs(w[i]);
    if (v > max) max = v;
  }
  if (max > 0 && (max > 2 ** 200 || max < 2 ** -200)) {
    const k = Math.round(Math.log2(max));
    const down = 2 ** -k;
    for (let i = 0; i < n * n; i++) w[i] *= down;
    ws.unscale = 2 ** k;
  }
  let k = 0;
  if (n >= BLOCKED_MIN) {
    const panel = new PanelWorkspace(n);
    for (; n - k > BLOCKED_MIN && k + BLOCK_ROWS <= n - 2; k += BLOCK_ROWS)
      reducePanel(w, n, k, d, e, tau, panel);
  }
  reduceUnblocked(w, n, k, d, e, tau, ws);
}

/** The tridiagonal form of `a` in fresh arrays (see reduceInto). */
export function tridiagonalize(a: Float64Array, n: number): TridiagonalForm {
  const ws = new EigenWorkspace();
  reduceInto(ws, a, n);
  return {
    n,
    d: ws.d.slice(0, n).map((v) => v * ws.unscale),
    e: ws.e.slice(0, n).map((v) => v * ws.unscale),
    reflectors: n * n === ws.w.length ? ws.w : ws.w.slice(0, n * n),
    tau: ws.tau.slice(0, n),
  };
}

/** Builds H = I − τ v vᵀ with H x = β e_0 for x = w[o .. o + m) (v[0] = 1 implicit; v's tail overwrites x's tail).
 * Returns τ and writes β to out[0]. Norms are taken on scaled values (LAPACK dlarfg, without its iteration). */
function householder(w: Float64Array, o: number, m: number, out: Float64Array): number {
  const alpha = w[o];
  let scale = 0;
  for (let i = 1; i < m; i++) {
    const v = Math.abs(w[o + i]);
    if (v > scale) scale = v;
  }
  if (scale === 0) {
    out[0] = alpha;
    return 0;
  }
  scale = Math.max(scale, Math.abs(alpha));
  const inv = 1 / scale;
  let ss = 0;
  for (let i = 1; i < m; i++) {
    const v = w[o + i] * inv;
    ss += v * v;
  }
  const as = alpha * inv;
  const norm = scale * Math.sqrt(as * as + ss);
  const beta = alpha >= 0 ? -norm : norm;
  const f = 1 / (alpha - beta);
  for (let i = 1; i < m; i++) w[o + i] *= f;
  out[0] = beta;
  return (beta - alpha) / beta;
}

/** dsytd2 on rows k0..n−1 of the upper-triangle working matrix. */
function reduceUnblocked(
  w: Float64Array,
  n: number,
  k0: number,
  d: Float64Array,
  e: Float64Array,
  tau: Float64Array,
  ws: EigenWorkspace,
): void {
  const { v, p, beta } = ws;
  for (let k = k0; k < n - 2; k++) {
    const r = k * n;
    d[k] = w[r + k];
    const t = householder(w, r + k + 1, n - k - 1, beta);
    e[k] = beta[0];
    tau[k] = t;
    if (t === 0) continue;
    const s0 = k + 1;
    v[s0] = 1;
    for (let j = s0 + 1; j < n; j++) v[j] = w[r + j];
    symvUpper(w, n, s0, v, p);
    let vp = 0;
    for (let j = s0; j < n; j++) {
      p[j] *= t;
      vp += p[j] * v[j];
    }
    const alpha = -0.5 * t * vp;
    for (let j = s0; j < n; j++) p[j] += alpha * v[j];
    // A22 ← A22 − v pᵀ − p vᵀ on the upper triangle.
    for (let i = s0; i < n; i++) {
      const ri = i * n;
      const vi = v[i];
      const pi = p[i];
      for (let j = i; j < n; j++) w[ri + j] -= vi * p[j] + pi * v[j];
    }
  }
  if (n >= 2) {
    d[n - 2] = w[(n - 2) * n + n - 2];
    e[n - 2] = w[(n - 2) * n + n - 1];
  }
  d[n - 1] = w[(n - 1) * n + n - 1];
  e[n - 1] = 0;
}

/** p[s..n) = A[s.., s..] · x[s..n) from the upper triangle: each row contributes one dot product (its own entry)
 * and one axpy (the entries right of the diagonal, mirrored), so the matrix is read once. Rows go in pairs, so x
 * and p are loaded once per two matrix entries — the symv is memory-bound, and this is half the reduction's flops. */
function symvUpper(w: Float64Array, n: number, s: number, x: Float64Array, p: Float64Array): void {
  p.fill(0, s, n);
  let i = s;
  for (; i + 1 < n; i += 2) {
    const r0 = i * n;
    const r1 = r0 + n;
    const x0 = x[i];
    const x1 = x[i + 1];
    const a01 = w[r0 + i + 1];
    let s0 = w[r0 + i] * x0 + a01 * x1;
    let s1 = a01 * x0 + w[r1 + i + 1] * x1;
    for (let j = i + 2; j < n; j++) {
      const a0 = w[r0 + j];
      const a1 = w[r1 + j];
      const xj = x[j];
      s0 += a0 * xj;
      s1 += a1 * xj;
      p[j] += a0 * x0 + a1 * x1;
    }
    p[i] += s0;
    p[i + 1] += s1;
  }
  if (i < n) p[i] += w[i * n + i] * x[i];
}

/** The panel's reflectors V and the vectors W of A ← A − V Wᵀ − W Vᵀ, each NB vectors of length n. */
class PanelWorkspace {
  readonly v: Float64Array;
  readonly w: Float64Array;
  readonly p: Float64Array;
  readonly beta = new Float64Array(1);
  readonly coef = new Float64Array(2 * BLOCK_ROWS);
  constructor(n: number) {
    this.v = new Float64Array(BLOCK_ROWS * n);
    this.w = new Float64Array(BLOCK_ROWS * n);
    this.p = new Float64Array(n);
  }
}

/** dlatrd on rows k0..k0+NB−1, then the trailing block's rank-2·NB update. */
function reducePanel(
  a: Float64Array,
  n: number,
  k0: number,
  d: Float64Array,
  e: Float64Array,
  tau: Float64Array,
  ws: PanelWorkspace,
): void {
  const { v: vv, w: ww, p, beta, coef } = ws;
  vv.fill(0);
  ww.fill(0);
  for (let j = 0; j < BLOCK_ROWS; j++) {
    const k = k0 + j;
    const r = k * n;
    // Row k as the earlier reflectors of this panel left it (columns k..n−1).
    for (let q = 0; q < j; q++) {
      const vq = q * n;
      const cv = vv[vq + k];
      const cw = ww[vq + k];
      for (let c = k; c < n; c++) a[r + c] -= cv * ww[vq + c] + cw * vv[vq + c];
    }
    d[k] = a[r + k];
    const t = householder(a, r + k + 1, n - k - 1, beta);
    e[k] = beta[0];
    tau[k] = t;
    const s0 = k + 1;
    const vj = j * n;
    vv[vj + s0] = 1;
    for (let c = s0 + 1; c < n; c++) vv[vj + c] = a[r + c];
    if (t === 0) {
      // H_k = I: w_j = 0 keeps the panel's correction terms exact.
      for (let c = s0; c < n; c++) vv[vj + c] = 0;
      continue;
    }
    const x = vv.subarray(vj, vj + n);
    symvUpper(a, n, s0, x, p);
    // Correct for the stale trailing matrix: p −= Σ_q V_q (W_qᵀ x) + W_q (V_qᵀ x).
    for (let q = 0; q < j; q++) {
      const vq = q * n;
      let wx = 0;
      let vx = 0;
      for (let c = s0; c < n; c++) {
        wx += ww[vq + c] * x[c];
        vx += vv[vq + c] * x[c];
      }
      coef[2 * q] = wx;
      coef[2 * q + 1] = vx;
    }
    for (let q = 0; q < j; q++) {
      const vq = q * n;
      const wx = coef[2 * q];
      const vx = coef[2 * q + 1];
      for (let c = s0; c < n; c++) p[c] -= vv[vq + c] * wx + ww[vq + c] * vx;
    }
    let vp = 0;
    for (let c = s0; c < n; c++) {
      p[c] *= t;
      vp += p[c] * x[c];
    }
    const alpha = -0.5 * t * vp;
    for (let c = s0; c < n; c++) ww[vj + c] = p[c] + alpha * x[c];
  }
  syr2kUpper(a, n, k0 + BLOCK_ROWS, vv, ww, BLOCK_ROWS);
}

/** A[i, c] −= Σ_q V_q[i]·W_q[c] + W_q[i]·V_q[c] for s ≤ i ≤ c < n (upper triangle), q < nb; four q per pass. */
function syr2kUpper(
  a: Float64Array,
  n: number,
  s: number,
  vv: Float64Array,
  ww: Float64Array,
  nb: number,
): void {
  for (let i = s; i < n; i++) {
    const ri = i * n;
    let q = 0;
    for (; q + 3 < nb; q += 4) {
      const o0 = q * n;
      const o1 = o0 + n;
      const o2 = o1 + n;
      const o3 = o2 + n;
      const a0 = vv[o0 + i];
      const b0 = ww[o0 + i];
      const a1 = vv[o1 + i];
      const b1 = ww[o1 + i];
      const a2 = vv[o2 + i];
      const b2 = ww[o2 + i];
      const a3 = vv[o3 + i];
      const b3 = ww[o3 + i];
      for (let c = i; c < n; c++) {
        a[ri + c] -=
          a0 * ww[o0 + c] +
          b0 * vv[o0 + c] +
          (a1 * ww[o1 + c] + b1 * vv[o1 + c]) +
          (a2 * ww[o2 + c] + b2 * vv[o2 + c] + (a3 * ww[o3 + c] + b3 * vv[o3 + c]));
      }
    }
    for (; q < nb; q++) {
      const o = q * n;
      const a0 = vv[o + i];
      const b0 = ww[o + i];
      for (let c = i; c < n; c++) a[ri + c] -= a0 * ww[o + c] + b0 * vv[o + c];
    }
  }
}

/** Overflow-safe √(a² + b²); Math.hypot is several times slower in V8 and this runs O(n²) times. */
function hypot2(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/** Implicit QL with Wilkinson-style shifts on the symmetric tridiagonal (d, e) of size n, e[i] coupling i and i+1
 * (EISPACK tql2). On return d holds the eigenvalues (unsorted) and e is destroyed. When `w` is given, each rotation
 * is applied to rows i, i+1 of the n-column row-major w, which turns a tridiagonalising transform into eigenvectors
 * (rows). */
export function tqlImplicit(
  d: Float64Array,
  e: Float64Array,
  n: number,
  w: Float64Array | null = null,
): void {
  if (n === 0) return;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > MAX_QL_ITERATIONS_PER_VALUE) {
          throw new GradtraceError(
            "E_NUMERIC",
            `symmetricEigen: QL iteration did not converge for eigenvalue ${l} of ${n} after ${iter - 1} sweeps`,
          );
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot2(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot2(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (w !== null) {
            const a0 = i * n;
            const a1 = a0 + n;
            for (let k = 0; k < n; k++) {
              const hk = w[a1 + k];
              const vk = w[a0 + k];
              w[a1 + k] = s * vk + c * hk;
              w[a0 + k] = c * vk - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** Eigenvalues only of the symmetric tridiagonal (d, e) of size n, e[i] coupling i and i+1: d receives them
 * (unsorted), e is destroyed. Rational QL (EISPACK tqlrat, the Pal–Walker–Kahan idea behind LAPACK's dsterf): the
 * sweep runs on the squared off-diagonal and needs no square root per rotation, about half the cost of tqlImplicit.
 * T is first scaled by a power of two (exact) so that its largest entry is near 1: the squares then neither
 * overflow nor underflow for entries anywhere in float64's range. */
export function tqlValues(d: Float64Array, e: Float64Array, n: number): void {
  if (n === 0) return;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    norm = Math.max(norm, Math.abs(d[i]), i < n - 1 ? Math.abs(e[i]) : 0);
  }
  if (!(norm > 0)) return;
  const k = Math.max(-1000, Math.min(1000, Math.round(Math.log2(norm))));
  const down = 2 ** -k;
  const e2 = e;
  for (let i = 0; i < n; i++) {
    d[i] *= down;
    const v = i < n - 1 ? e[i] * down : 0;
    e2[i] = v * v;
  }
  const eps = Number.EPSILON;
  let f = 0;
  let t = 0;
  let b = 0;
  let c = 0;
  for (let l = 0; l < n; l++) {
    const h0 = Math.abs(d[l]) + Math.sqrt(e2[l]);
    if (t <= h0) {
      t = h0;
      b = eps * t;
      c = b * b;
    }
    let m = l;
    while (e2[m] > c) m++;
    if (m > l) {
      let iter = 0;
      for (;;) {
        if (++iter > MAX_QL_ITERATIONS_PER_VALUE) {
          throw new GradtraceError(
            "E_NUMERIC",
            `symmetricEigen: QL iteration did not converge for eigenvalue ${l} of ${n} after ${iter - 1} sweeps`,
          );
        }
        // Shift from the leading 2×2 block.
        let s = Math.sqrt(e2[l]);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * s);
        const r0 = hypot2(p, 1);
        d[l] = s / (p + (p < 0 ? -r0 : r0));
        let h = g - d[l];
        for (let i = l + 1; i < n; i++) d[i] -= h;
        f += h;
        // Rational QL transformation.
        g = d[m];
        if (g === 0) g = b;
        h = g;
        s = 0;
        for (let i = m - 1; i >= l; i--) {
          p = g * h;
          const r = p + e2[i];
          e2[i + 1] = s * r;
          s = e2[i] / r;
          d[i + 1] = h + s * (h + d[i]);
          g = d[i] - e2[i] / g;
          if (g === 0) g = b;
          h = (g * p) / r;
        }
        e2[l] = s * g;
        d[l] = h;
        // Converged when e_l² ≤ b² (tested as e2·h ≤ c to avoid underflow), or h = 0.
        if (h === 0 || Math.abs(e2[l]) <= Math.abs(c / h)) break;
        e2[l] = h * e2[l];
        if (e2[l] === 0) break;
      }
    }
    d[l] += f;
  }
  const up = 2 ** k;
  for (let i = 0; i < n; i++) d[i] *= up;
}

/** All eigenvalues of the tridiagonal in `ws` (values only: O(n²)), descending in ws.values[0..n), each with the
 * unreduced block [ws.blockStart, ws.blockEnd) of T it belongs to — where inverse iteration looks for its vector. T is
 * split where |e_i| ≤ ε·(|d_i| + |d_{i+1}|) and each block is solved on its own. */
export function spectrumInto(ws: EigenWorkspace, n: number): void {
  const { d, e, dd, ee, raw, rawStart, rawEnd, order, values, blockStart, blockEnd } = ws;
  let s = 0;
  while (s < n) {
    let end = s;
    while (end < n - 1 && Math.abs(e[end]) > Number.EPSILON * (Math.abs(d[end]) + Math.abs(d[end + 1])))
      end++;
    end++;
    const m = end - s;
    for (let i = 0; i < m; i++) {
      dd[i] = d[s + i];
      ee[i] = i < m - 1 ? e[s + i] : 0;
    }
    tqlValues(dd, ee, m);
    for (let i = 0; i < m; i++) {
      raw[s + i] = dd[i];
      rawStart[s + i] = s;
      rawEnd[s + i] = end;
    }
    s = end;
  }
  descendingOrder(raw, n, order);
  for (let i = 0; i < n; i++) {
    const o = order[i];
    values[i] = raw[o] * ws.unscale;
    blockStart[i] = rawStart[o];
    blockEnd[i] = rawEnd[o];
  }
}

/** order[0..n) = indices of values[0..n) by descending value (insertion sort for small n: this runs at every step of
 * the lowrank predictor, where a comparator sort's overhead dominates). */
function descendingOrder(values: Float64Array, n: number, order: Int32Array): void {
  for (let i = 0; i < n; i++) order[i] = i;
  if (n > 64) {
    const sorted = Array.from(order.subarray(0, n)).sort((x, y) => values[y] - values[x]);
    order.set(sorted);
    return;
  }
  for (let i = 1; i < n; i++) {
    const o = order[i];
    const v = values[o];
    let j = i - 1;
    while (j >= 0 && values[order[j]] < v) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = o;
  }
}

/** Eigenvectors of A for the m largest eigenvalues (after reduceInto and spectrumInto), unit norm, written as the
 * columns of the row-major n×m `out`: inverse iteration on T inside each value's block (LAPACK dstein: LU of T − λI
 * with partial pivoting, tiny pivots raised to ε·‖T_block‖, right-hand side scaled by the block's norm,
 * reorthogonalisation against the earlier vectors of the same cluster — consecutive values of a block closer than
 * 10⁻³·‖T_block‖ — and a shift nudged apart when two computed values coincide), then Q applied. */
export function vectorsInto(
  ws: EigenWorkspace,
  n: number,
  m: number,
  out: Float64Array,
  { backTransform = true }: { backTransform?: boolean } = {},
): void {
  const { d, e, x, lu, lastShift, lastColumn, previousColumn, clusterFirst } = ws;
  const eps = Number.EPSILON;
  out.fill(0, 0, n * m);
  lastColumn.fill(-1, 0, n);
  let seed = 0x9e3779b9;
  for (let j = 0; j < m; j++) {
    const s = ws.blockStart[j];
    const end = ws.blockEnd[j];
    const size = end - s;
    if (size === 1) {
      out[s * m + j] = 1;
      continue;
    }
    let norm = 0;
    for (let i = s; i < end; i++) {
      const v = Math.abs(d[i]) + (i > s ? Math.abs(e[i - 1]) : 0) + (i < end - 1 ? Math.abs(e[i]) : 0);
      if (v > norm) norm = v;
    }
    // The block is solved scaled to norm ≈ 1 (a power of two, exact): pivots and growth then stay in range.
    const blockScale = norm > 0 ? 2 ** -Math.round(Math.log2(norm)) : 1;
    norm *= blockScale;
    let shift = (ws.values[j] / ws.unscale) * blockScale;
    const prev = lastColumn[s];
    previousColumn[j] = prev;
    clusterFirst[j] = j;
    if (prev >= 0) {
      const prevShift = lastShift[s];
      const pertol = Math.max(10 * Math.abs(shift) * eps, eps * norm);
      if (prevShift - shift < pertol) shift = prevShift - pertol;
      if (prevShift - shift <= 1e-3 * norm) clusterFirst[j] = clusterFirst[prev];
    }
    lastShift[s] = shift;
    lastColumn[s] = j;
    lu.factor(d, e, s, end, shift, eps * norm, blockScale);
    for (let i = s; i < end; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      x[i] = seed / 2 ** 31 - 1;
    }
    // Isolated: no eigenvalue (of any block: conservative) within 10⁻³‖T_block‖ on either side.
    const v = ws.values;
    const unit = ws.unscale / blockScale;
    const isolated =
      (j === 0 || v[j - 1] - v[j] > 1e-3 * norm * unit) &&
      (j === n - 1 || v[j] - v[j + 1] > 1e-3 * norm * unit);
    const sweeps = isolated ? INVERSE_ITERATIONS_ISOLATED : INVERSE_ITERATIONS_CLUSTERED;
    for (let it = 0; it < sweeps; it++) {
      let l1 = 0;
      for (let i = s; i < end; i++) l1 += Math.abs(x[i]);
      const scale = (size * norm * Math.max(eps, Math.abs(lu.lastPivot))) / (l1 > 0 ? l1 : 1);
      for (let i = s; i < end; i++) x[i] *= scale;
      lu.solve(x, s, end);
      // Earlier vectors of this cluster: the chain of same-block columns back to the cluster's first.
      if (clusterFirst[j] !== j) {
        for (let c = prev; c >= 0 && clusterFirst[c] === clusterFirst[j]; c = previousColumn[c]) {
          let dotp = 0;
          for (let i = s; i < end; i++) dotp += x[i] * out[i * m + c];
          for (let i = s; i < end; i++) x[i] -= dotp * out[i * m + c];
        }
      }
      let max = 0;
      for (let i = s; i < end; i++) max = Math.max(max, Math.abs(x[i]));
      if (!(max > 0 && Number.isFinite(max))) {
        throw new GradtraceError(
          "E_NUMERIC",
          `symmetricEigen: inverse iteration failed for eigenvalue ${j} of ${n}`,
        );
      }
      for (let i = s; i < end; i++) x[i] /= max;
    }
    let ss = 0;
    let big = s;
    for (let i = s; i < end; i++) {
      ss += x[i] * x[i];
      if (Math.abs(x[i]) > Math.abs(x[big])) big = i;
    }
    // Unit norm, largest component positive (a fixed sign keeps results reproducible).
    const f = (x[big] < 0 ? -1 : 1) / Math.sqrt(ss);
    for (let i = s; i < end; i++) out[i * m + j] = x[i] * f;
  }
  if (backTransform) for (let j = 0; j < m; j++) applyQ(ws.w, ws.tau, n, out, j, m);
}

/** LU with partial pivoting of the tridiagonal T − λI on a block (LAPACK dgttrf), tiny pivots raised to `tol`. */
class TridiagonalLu {
  private readonly dl: Float64Array;
  private readonly dd: Float64Array;
  private readonly du: Float64Array;
  private readonly du2: Float64Array;
  private readonly swapped: Uint8Array;
  lastPivot = 0;
  constructor(n: number) {
    this.dl = new Float64Array(n);
    this.dd = new Float64Array(n);
    this.du = new Float64Array(n);
    this.du2 = new Float64Array(n);
    this.swapped = new Uint8Array(n);
  }

  /** Factors scale·T − λI on the block (λ already in scaled units). */
  factor(
    d: Float64Array,
    e: Float64Array,
    s: number,
    end: number,
    lambda: number,
    tol: number,
    scale: number,
  ): void {
    const { dl, dd, du, du2, swapped } = this;
    for (let i = s; i < end; i++) {
      dd[i] = d[i] * scale - lambda;
      dl[i] = i < end - 1 ? e[i] * scale : 0;
      du[i] = dl[i];
      du2[i] = 0;
    }
    for (let i = s; i < end - 1; i++) {
      if (Math.abs(dd[i]) >= Math.abs(dl[i])) {
        swapped[i] = 0;
        if (dd[i] === 0) dd[i] = tol;
        const fact = dl[i] / dd[i];
        dl[i] = fact;
        dd[i + 1] -= fact * du[i];
      } else {
        swapped[i] = 1;
        const fact = dd[i] / dl[i];
        dd[i] = dl[i];
        dl[i] = fact;
        const temp = du[i];
        du[i] = dd[i + 1];
        dd[i + 1] = temp - fact * dd[i + 1];
        if (i < end - 2) {
          du2[i] = du[i + 1];
          du[i + 1] = -fact * du[i + 1];
        }
      }
    }
    for (let i = s; i < end; i++) {
      if (Math.abs(dd[i]) < tol) dd[i] = dd[i] < 0 ? -tol : tol;
    }
    this.lastPivot = dd[end - 1];
  }

  /** x ← (T − λI)⁻¹ x on the block (dgttrs). */
  solve(x: Float64Array, s: number, end: number): void {
    const { dl, dd, du, du2, swapped } = this;
    for (let i = s; i < end - 1; i++) {
      if (swapped[i] === 0) x[i + 1] -= dl[i] * x[i];
      else {
        const temp = x[i];
        x[i] = x[i + 1];
        x[i + 1] = temp - dl[i] * x[i];
      }
    }
    const last = end - 1;
    x[last] /= dd[last];
    if (last - 1 >= s) x[last - 1] = (x[last - 1] - du[last - 1] * x[last]) / dd[last - 1];
    for (let i = last - 2; i >= s; i--) x[i] = (x[i] - du[i] * x[i + 1] - du2[i] * x[i + 2]) / dd[i];
  }
}

/** x ← Q x for the reduction's Q = H_0 ⋯ H_{n−3} (reflectors in w, τ in tau): the eigenvector of A from one of T.
 * `x` has stride `stride` (1 for a plain vector; m for column j of a row-major n×m matrix, starting at offset j). */
export function applyQ(
  w: Float64Array,
  tau: Float64Array,
  n: number,
  x: Float64Array,
  offset = 0,
  stride = 1,
): void {
  for (let k = n - 3; k >= 0; k--) {
    const tk = tau[k];
    if (tk === 0) continue;
    const r = k * n;
    const o = offset + (k + 1) * stride;
    let s = x[o];
    for (let c = k + 2; c < n; c++) s += w[r + c] * x[offset + c * stride];
    s *= tk;
    x[o] -= s;
    for (let c = k + 2; c < n; c++) x[offset + c * stride] -= s * w[r + c];
  }
}
