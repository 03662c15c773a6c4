/** @file Frequent Directions (Liberty 2013; Ghashami, Liberty, Phillips & Woodruff 2016): a deterministic streaming
 * sketch B (ℓ×dim) of a matrix A whose rows arrive one at a time, with BᵀB ≼ AᵀA and
 *   ‖AᵀA − BᵀB‖₂ ≤ Δ ≤ ‖A − A_k‖_F² / (ℓ − k)   for every k < ℓ,
 * Δ being the total shrinkage (returned by `shrinkage`, an a-posteriori bound usually far below the a-priori one).
 *
 * What "rows" mean for gradients. Each row is one step's gradient g_t (dim = p), so A = G with steps as rows and
 * BᵀB ≈ GᵀG is the p×p second moment of the gradients: the top right singular vectors of B span the streaming top
 * subspace of the gradients (or, feeding increments h_t, of the increments). That is the right tool for
 * GaLore-style projectors and for subspace drift / stale-projector energy, where the object is a subspace of
 * parameter space. It is not the tool for the T×T metrics (κ, r*, spectra of HᵀH): those need inner products between
 * steps, i.e. a sketch of the columns, which is what the random sketches (JL, CountSketch, SRHT) give in O(k·T)
 * memory. Fed the other way round (each row = one coordinate's time series, dim = T), FD approximates the T×T Gram
 * K = GᵀG with the same deterministic guarantee at O(ℓ·T) per coordinate, against O(T²) for the exact rank-1 updates.
 * Memory is 2ℓ·dim doubles, so for whole-model gradients use it per layer or on already-sketched vectors.
 *
 * Implementation: the buffered variant: ℓ sketch rows plus `buffer` new rows (default ℓ, the classic doubled buffer
 * of 2ℓ); when full, one shrink back to ≤ ℓ rows, so each shrink is paid for by `buffer` new rows. The shrink SVD goes
 * through the (ℓ+b)×(ℓ+b) Gram M = B Bᵀ = U Λ Uᵀ: the right singular vectors are Bᵀu_i/√λ_i, so the shrunk rows
 * √(λ_i − δ)·v_iᵀ = √((λ_i − δ)/λ_i)·u_iᵀB are formed without any dim×dim matrix, and only the top ℓ eigenvectors
 * are computed (symmetricEigen with `vectors: ℓ`). δ = λ_{ℓ+1} (the (ℓ+1)-th largest squared singular value), which
 * zeroes all but ℓ rows; each shrink removes Σ_i min(λ_i, δ) ≥ ℓ·δ of Frobenius mass, which is the step the
 * guarantee needs (ℓΔ ≤ ‖A‖_F² − ‖B‖_F² ≤ kΔ + ‖A − A_k‖_F²); a larger buffer only shrinks less often.
 *
 * Cost per row: M is kept current as rows arrive — each new row's dot products with the ℓ sketch rows (which are
 * mutually orthogonal after a shrink, so their block of M is the diagonal of their squared norms) and with the rows
 * buffered since the last shrink. A caller that already knows the latter (the streaming state reads them off its
 * window Gram) passes them in and saves b/2 dot products per row. The shrink itself is one small eigenproblem and
 * one (ℓ × (ℓ+b)) · ((ℓ+b) × dim) product (`combineRows`, a plain typed-array kernel), so the amortised cost is
 * ℓ·dim + ℓ(ℓ+b)/b·dim multiply-adds per row, plus (ℓ+b)³/b for the eigenproblem, and nothing is allocated per
 * row. The final spectrum (`sigmaSq`, `shrinkage`) needs eigenvalues only. */
import { GradtraceError } from "../errors.ts";
import { dotAt, EigenWorkspace, symmetricEigen, symmetricEigenTopInto } from "../linalg/index.ts";
import { type Mat, mat, type Vec } from "../matrix.ts";

export interface FrequentDirectionsOptions {
  /** Sketch rows ℓ. */
  readonly ell: number;
  /** Row length (p for gradients as rows). */
  readonly dim: number;
  /** New rows taken between two shrinks (default ℓ: a buffer of 2ℓ rows in all). */
  readonly buffer?: number;
}

/** The spectrum a shrink would leave (values only). */
interface Shrunk {
  readonly delta: number;
  /** Squared norms of the kept rows, descending: the squared singular values of the sketch. */
  readonly sigmaSq: Float64Array;
}

/** ⟨new row, the row d rows before it⟩ for d = 1, 2, … (see `update`). */
export type PreviousDots = (d: number) => number;

export class FrequentDirections {
  readonly ell: number;
  readonly dim: number;
  /** Rows held at most: ℓ sketch rows plus the buffer. */
  readonly capacity: number;
  private readonly rowsData: Float64Array;
  /** capacity × capacity Gram of the held rows (both triangles), kept current by `update`. */
  private readonly gram: Float64Array;
  private filled = 0;
  /** Leading rows left by the last shrink (mutually orthogonal: their Gram block is diagonal). */
  private sketchRows = 0;
  private shrinkTotal = 0;
  private rowsSeen = 0;
  private readonly scratch: Float64Array;
  private readonly coef: Float64Array;
  private finalCache: { seen: number; shrunk: Shrunk } | null = null;
  private readonly eigen = new EigenWorkspace();
  private readonly eigenValues: Float64Array;
  private readonly eigenVectors: Float64Array;

  constructor({ ell, dim, buffer = ell }: FrequentDirectionsOptions) {
    if (!Number.isInteger(ell) || ell < 1) {
      throw new GradtraceError("E_ARG", `FrequentDirections: ell must be a positive integer, got ${ell}`);
    }
    if (!Number.isInteger(dim) || dim < 1) {
      throw new GradtraceError("E_ARG", `FrequentDirections: dim must be a positive integer, got ${dim}`);
    }
    if (!Number.isInteger(buffer) || buffer < 1) {
      throw new GradtraceError(
        "E_ARG",
        `FrequentDirections: buffer must be a positive integer, got ${buffer}`,
      );
    }
    this.ell = ell;
    this.dim = dim;
    this.capacity = ell + buffer;
    // Rows and the shrink's scratch are padded to multiples of 4 rows for combineRows (padding rows stay zero).
    this.rowsData = new Float64Array(pad4(this.capacity) * dim);
    this.gram = new Float64Array(this.capacity * this.capacity);
    this.scratch = new Float64Array(pad4(ell) * dim);
    this.coef = new Float64Array(pad4(ell) * pad4(this.capacity));
    this.eigenValues = new Float64Array(this.capacity);
    this.eigenVectors = new Float64Array(this.capacity * ell);
  }

  /** Rows fed so far. */
  get rows(): number {
    return this.rowsSeen;
  }

  /** Adds one row. `previousDots(d)`, when given, must return ⟨row, r⟩ for the row r fed d updates earlier, for
   * d = 1 … (rows buffered since the last shrink, at most capacity − 1); the sketch then skips those dot products. */
  update(row: Vec, previousDots?: PreviousDots): void {
    const { dim, capacity: cap, rowsData, gram } = this;
    if (row.length !== dim) {
      throw new GradtraceError(
        "E_SHAPE",
        `FrequentDirections.update: row ${this.rowsSeen} has length ${row.length}, expected dim = ${dim}`,
      );
    }
    if (this.filled === cap) this.shrink();
    const i = this.filled;
    const base = i * dim;
    let self = 0;
    for (let j = 0; j < dim; j++) {
      const v = row[j];
      rowsData[base + j] = v;
      self += v * v;
    }
    gram[i * cap + i] = self;
    for (let a = 0; a < i; a++) {
      const v =
        a >= this.sketchRows && previousDots ? previousDots(i - a) : dotAt(rowsData, a * dim, base, dim);
      gram[i * cap + a] = v;
      gram[a * cap + i] = v;
    }
    this.filled++;
    this.rowsSeen++;
  }

  /** The ℓ×dim sketch B (rows past the rank are zero). Reading it does not change later updates. */
  get sketch(): Mat {
    const out = mat(this.ell, this.dim);
    if (this.filled <= this.ell) {
      out.data.set(this.rowsData.subarray(0, this.filled * this.dim));
      return out;
    }
    const rows = new Float64Array(pad4(this.ell) * this.dim);
    this.shrinkInto(rows);
    out.data.set(rows.subarray(0, this.ell * this.dim));
    return out;
  }

  /** Squared singular values of the sketch B (descending, at most ℓ, zeros dropped): what the spectrum metrics need,
   * without forming B. μ_i ≤ σ_i²(A) ≤ μ_i + Δ for every i (BᵀB ≼ AᵀA and ‖AᵀA − BᵀB‖₂ ≤ Δ). */
  get sigmaSq(): Float64Array {
    if (this.filled === 0) return new Float64Array(0);
    return Float64Array.from(this.finalShrink().sigmaSq);
  }

  /** Δ: total shrinkage so far including the one `sketch` applies; ‖AᵀA − BᵀB‖₂ ≤ Δ holds deterministically. */
  get shrinkage(): number {
    return this.shrinkTotal + (this.filled > this.ell ? this.finalShrink().delta : 0);
  }

  /** A-priori guarantee ‖AᵀA − BᵀB‖₂ ≤ ‖A − A_k‖_F² / (ℓ − k) with tailEnergy = ‖A − A_k‖_F² = Σ_{i>k} σ_i². */
  covarianceErrorBound(k: number, tailEnergy: number): number {
    if (!Number.isInteger(k) || k < 0 || k >= this.ell) {
      throw new GradtraceError(
        "E_ARG",
        `FrequentDirections.covarianceErrorBound: k must be in [0, ${this.ell}), got ${k}`,
      );
    }
    if (!(tailEnergy >= 0)) {
      throw new GradtraceError(
        "E_ARG",
        `FrequentDirections.covarianceErrorBound: tailEnergy must be ≥ 0, got ${tailEnergy}`,
      );
    }
    return tailEnergy / (this.ell - k);
  }

  private finalShrink(): Shrunk {
    if (this.finalCache === null || this.finalCache.seen !== this.rowsSeen) {
      this.finalCache = { seen: this.rowsSeen, shrunk: this.shrinkInto(null) };
    }
    return this.finalCache.shrunk;
  }

  /** The buffer is full: shrink it to ≤ ℓ orthogonal rows in place. */
  private shrink(): void {
    const { delta, sigmaSq } = this.shrinkInto(this.scratch);
    const { dim, capacity: cap, gram } = this;
    const count = sigmaSq.length;
    this.rowsData.set(this.scratch.subarray(0, count * dim));
    gram.fill(0);
    for (let a = 0; a < count; a++) gram[a * cap + a] = sigmaSq[a];
    this.filled = count;
    this.sketchRows = count;
    this.shrinkTotal += delta;
  }

  /** The shrink of the held rows (see the file comment), without changing them: the kept spectrum, and the kept rows
   * written to `out` (pad4(ℓ)×dim, rows past the count zeroed) when given. With no shrink due (n ≤ ℓ) δ = 0 and the rows
   * are only rotated onto their singular directions. */
  private shrinkInto(out: Float64Array | null): Shrunk {
    const { dim, ell, capacity: cap } = this;
    const n = this.filled;
    const m = mat(n, n);
    for (let a = 0; a < n; a++) m.data.set(this.gram.subarray(a * cap, a * cap + n), a * n);
    const keep = Math.min(ell, n);
    let values: Float64Array;
    let vectors: Float64Array | null = null;
    if (out) {
      values = this.eigenValues;
      vectors = this.eigenVectors;
      symmetricEigenTopInto(this.eigen, m.data, n, keep, values, vectors);
    } else values = symmetricEigen(m, { vectors: false }).values;
    const delta = n > ell ? Math.max(values[ell], 0) : 0;
    // Eigenvalues at round-off level of the largest carry no direction; dropping them keeps exact low-rank input exact.
    const floor = Math.max(values[0], 0) * n * 1e-13;
    let count = 0;
    while (count < keep && values[count] - delta > floor) count++;
    const sigmaSq = new Float64Array(count);
    for (let i = 0; i < count; i++) sigmaSq[i] = values[i] - delta;
    if (out && vectors) {
      const coef = this.coef;
      const u = vectors;
      const rowsOut = pad4(count);
      const width = pad4(n);
      coef.fill(0);
      for (let i = 0; i < count; i++) {
        const c = Math.sqrt((values[i] - delta) / values[i]);
        for (let a = 0; a < n; a++) coef[i * width + a] = c * u[a * keep + i];
      }
      // Held rows past n (padding or stale) meet zero coefficients; they are finite (zeros or earlier rows).
      combineRows(out, coef, rowsOut, this.rowsData, width, dim);
      out.fill(0, count * dim, pad4(ell) * dim);
    }
    return { delta, sigmaSq };
  }
}

/** out (count×dim) = coef (count×n, row-major) · rows (n×dim): the shrink's rotation. count and n must be multiples
 * of 4 (callers pad with zero coefficients; padded input rows must hold finite values). Register-blocked: each pass
 * reads four input rows and updates four output rows, so every output element is loaded and stored once per sixteen
 * multiply-adds (2–3× a plain axpy loop in V8). */
export function combineRows(
  out: Float64Array,
  coef: Float64Array,
  count: number,
  rows: Float64Array,
  n: number,
  dim: number,
): void {
  out.fill(0, 0, count * dim);
  for (let i = 0; i < count; i += 4) {
    const o0 = i * dim;
    const o1 = o0 + dim;
    const o2 = o1 + dim;
    const o3 = o2 + dim;
    const k0 = i * n;
    const k1 = k0 + n;
    const k2 = k1 + n;
    const k3 = k2 + n;
    for (let a = 0; a < n; a += 4) {
      const c00 = coef[k0 + a];
      const c01 = coef[k0 + a + 1];
      const c02 = coef[k0 + a + 2];
      const c03 = coef[k0 + a + 3];
      const c10 = coef[k1 + a];
      const c11 = coef[k1 + a + 1];
      const c12 = coef[k1 + a + 2];
      const c13 = coef[k1 + a + 3];
      const c20 = coef[k2 + a];
      const c21 = coef[k2 + a + 1];
      const c22 = coef[k2 + a + 2];
      const c23 = coef[k2 + a + 3];
      const c30 = coef[k3 + a];
      const c31 = coef[k3 + a + 1];
      const c32 = coef[k3 + a + 2];
      const c33 = coef[k3 + a + 3];
      const r0 = a * dim;
      const r1 = r0 + dim;
      const r2 = r1 + dim;
      const r3 = r2 + dim;
      for (let j = 0; j < dim; j++) {
        const x0 = rows[r0 + j];
        const x1 = rows[r1 + j];
        const x2 = rows[r2 + j];
        const x3 = rows[r3 + j];
        out[o0 + j] += c00 * x0 + c01 * x1 + (c02 * x2 + c03 * x3);
        out[o1 + j] += c10 * x0 + c11 * x1 + (c12 * x2 + c13 * x3);
        out[o2 + j] += c20 * x0 + c21 * x1 + (c22 * x2 + c23 * x3);
        out[o3 + j] += c30 * x0 + c31 * x1 + (c32 * x2 + c33 * x3);
      }
    }
  }
}

/** Rounds up to a multiple of 4 (the blocking of combineRows). */
function pad4(n: number): number {
  return (n + 3) & ~3;
}
