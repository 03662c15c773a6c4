/** @file Symmetric eigendecomposition on flat float64 storage, eigenvalues first and eigenvectors only where asked:
 * - `vectors: false` (every spectrum metric): Householder reduction to tridiagonal form — blocked, dsytrd-style,
 *   from n = 192 — and rational QL (tridiagonal.ts): 4/3·n³ flops, robust from 1e−300 to 1e300;
 * - `vectors: m` (lowrank<k>w<w>, Frequent Directions shrinks): the same reduction, then inverse iteration for the m
 *   largest eigenvalues only, back-transformed through the reflectors: O(m·n²) on top of the reduction;
 *   `symmetricEigenTopInto` is the allocation-free form for per-step callers;
 * - `vectors: true` (all n vectors; also the reference the tests compare the other two with): the EISPACK
 *   tred2/tql2 pair, as in JAMA and ml-matrix, with the working matrix stored transposed in one Float64Array so that
 *   every inner loop (the rank-2 update, the back-accumulation, the QL Givens rotations on the vectors, ~6·n³ flops)
 *   runs over contiguous memory. Backward stable: residual ‖AV − VΛ‖ ~ n·ε·‖A‖ (bench/eigen.bench.ts). Measured on a
 *   1024×1024 Gram on 2 shared, heavily loaded cores: ml-matrix 23–40 s, this 15–16 s.
 * Measured values-only times and the comparison with numpy's eigvalsh are in docs/benchmarks.md (streaming bench).
 *
 * The input must be symmetric; it is checked with a loose tolerance (rounding differences between the two triangles
 * are fine) and never modified. */
import { GradtraceError } from "../errors.ts";
import { type Mat, mat } from "../matrix.ts";
import {
  EigenWorkspace,
  reduceInto,
  spectrumInto,
  tqlImplicit,
  tqlValues,
  tridiagonalize,
  vectorsInto,
} from "./tridiagonal.ts";

export interface SymmetricEigenResult {
  /** Eigenvalues, descending. */
  readonly values: Float64Array;
  /** n×n, column i is the unit eigenvector of values[i]; null when not requested. */
  readonly vectors: Mat | null;
}

/** Relative asymmetry beyond which the input is rejected (far above rounding, far below a real asymmetry). */
const SYMMETRY_TOLERANCE = 1e-8;

/** Eigenvalues (descending) and, per `vectors`: all eigenvectors (true: tred2 + tql2), none (false), or those of the m
 * largest eigenvalues (a number m: n×m, column j for values[j]; reduction + inverse iteration, O(m·n²) beyond the
 * reduction — see tridiagonal.ts). */
export function symmetricEigen(
  a: Mat,
  { vectors = true }: { vectors?: boolean | number } = {},
): SymmetricEigenResult {
  const n = a.rows;
  if (a.cols !== n) {
    throw new GradtraceError("E_SHAPE", `symmetricEigen: expected a square matrix, got ${a.rows}×${a.cols}`);
  }
  checkSymmetricFinite(a);
  if (typeof vectors === "number") {
    if (!(Number.isInteger(vectors) && vectors >= 0 && vectors <= n)) {
      throw new GradtraceError(
        "E_ARG",
        `symmetricEigen: vectors must be an integer in 0..${n}, got ${vectors}`,
      );
    }
    return topEigenpairs(a.data, n, vectors);
  }
  if (n === 0) return { values: new Float64Array(0), vectors: vectors ? mat(0, 0) : null };
  if (!vectors) {
    const { d, e } = tridiagonalize(a.data, n);
    tqlValues(d, e, n);
    return { values: d.sort().reverse(), vectors: null };
  }
  // w is Vᵀ in EISPACK's notation: w[j*n + k] = V[k][j]. A is symmetric, so initially w = A.
  const w = Float64Array.from(a.data);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalizeAccumulate(w, d, e, n);
  // tred2 leaves the sub-diagonal in e[1..n−1]; the QL takes e[i] as the coupling of i and i+1.
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  tqlImplicit(d, e, n, w);

  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = Float64Array.from(order, (i) => d[i]);
  const out = mat(n, n);
  // Row order[c] of w is the eigenvector of values[c]; the contract wants it as column c.
  for (let c = 0; c < n; c++) {
    const base = order[c] * n;
    for (let r = 0; r < n; r++) out.data[r * n + c] = w[base + r];
  }
  return { values, vectors: out };
}

/** All eigenvalues and the eigenvectors of the m largest (see symmetricEigen). */
function topEigenpairs(a: Float64Array, n: number, m: number): SymmetricEigenResult {
  const values = new Float64Array(n);
  const vectors = mat(n, m);
  symmetricEigenTopInto(new EigenWorkspace(), a, n, m, values, vectors.data);
  return { values, vectors };
}

/** symmetricEigen with `vectors: m` for hot loops: no checks, no allocation beyond the workspace's first use. `a` is
 * the row-major n×n symmetric matrix (upper triangle read, not modified); values[0..n) receives the eigenvalues
 * descending, vectors[0..n·m) the top m eigenvectors as the columns of a row-major n×m matrix. */
export function symmetricEigenTopInto(
  ws: EigenWorkspace,
  a: Float64Array,
  n: number,
  m: number,
  values: Float64Array,
  vectors: Float64Array,
): void {
  reduceInto(ws, a, n);
  spectrumInto(ws, n);
  values.set(ws.values.subarray(0, n));
  vectorsInto(ws, n, m, vectors);
}

function checkSymmetricFinite(a: Mat): void {
  const n = a.rows;
  const x = a.data;
  let maxAbs = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) {
      throw new GradtraceError(
        "E_NUMERIC",
        `symmetricEigen: element (${Math.floor(i / n)}, ${i % n}) is ${v}; expected finite values`,
      );
    }
    const m = Math.abs(v);
    if (m > maxAbs) maxAbs = m;
  }
  const tol = SYMMETRY_TOLERANCE * maxAbs;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(x[i * n + j] - x[j * n + i]) > tol) {
        throw new GradtraceError(
          "E_ARG",
          `symmetricEigen: matrix is not symmetric: (${i}, ${j}) = ${x[i * n + j]} but (${j}, ${i}) = ${x[j * n + i]}`,
        );
      }
    }
  }
}

/** Householder reduction to tridiagonal form (EISPACK tred2) on the transposed working matrix w. On return d holds
 * the diagonal, e the sub-diagonal in e[1..n-1], and w the orthogonal transform (rows). */
function tridiagonalizeAccumulate(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      // Scaling the Householder vector avoids over/underflow in its squared norm.
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // e = A·u over the active lower triangle (w row j holds column j of the lower triangle, contiguous).
      for (let j = 0; j < i; j++) {
        f = d[j];
        w[i * n + j] = f;
        const row = j * n;
        // Four partial sums: a single running sum would serialise every iteration on the FP-add latency.
        let g0 = e[j] + w[row + j] * f;
        let g1 = 0;
        let g2 = 0;
        let g3 = 0;
        let k = j + 1;
        for (; k + 3 < i; k += 4) {
          const w0 = w[row + k];
          const w1 = w[row + k + 1];
          const w2 = w[row + k + 2];
          const w3 = w[row + k + 3];
          g0 += w0 * d[k];
          g1 += w1 * d[k + 1];
          g2 += w2 * d[k + 2];
          g3 += w3 * d[k + 3];
          e[k] += w0 * f;
          e[k + 1] += w1 * f;
          e[k + 2] += w2 * f;
          e[k + 3] += w3 * f;
        }
        for (; k < i; k++) {
          const wjk = w[row + k];
          g0 += wjk * d[k];
          e[k] += wjk * f;
        }
        e[j] = g0 + g1 + (g2 + g3);
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      // Symmetric rank-2 update of the active block: A ← A − u·eᵀ − e·uᵀ.
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const row = j * n;
        for (let k = j; k < i; k++) w[row + k] -= f * e[k] + g * d[k];
        d[j] = w[row + i - 1];
        w[row + i] = 0;
      }
    }
    d[i] = h;
  }

  // Back-accumulate the reflectors (stored in rows i+1, entries 0..i) into the orthogonal matrix.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    const ref = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[ref + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        const g = dotAt(w, ref, row, i + 1);
        for (let k = 0; k <= i; k++) w[row + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[ref + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Σ_{k<len} x[a + k]·x[b + k] with four independent partial sums (see the reduction's matrix–vector loop). */
export function dotAt(x: Float64Array, a: number, b: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += x[a + k] * x[b + k];
    s1 += x[a + k + 1] * x[b + k + 1];
    s2 += x[a + k + 2] * x[b + k + 2];
    s3 += x[a + k + 3] * x[b + k + 3];
  }
  for (; k < len; k++) s0 += x[a + k] * x[b + k];
  return s0 + s1 + (s2 + s3);
}
