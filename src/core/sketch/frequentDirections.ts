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
 * Implementation: the doubled buffer of the fast variant (2ℓ rows; when full, shrink to ℓ), so each shrink is paid
 * for by ℓ new rows and the amortised cost is O(dim·ℓ) per row. The shrink SVD goes through the 2ℓ×2ℓ Gram matrix
 * M = B Bᵀ = U Λ Uᵀ (symmetricEigen): the right singular vectors are Bᵀu_i/√λ_i, so the shrunk rows
 * √(λ_i − δ)·v_iᵀ = √((λ_i − δ)/λ_i)·u_iᵀB are formed without any dim×dim matrix. δ = λ_{ℓ+1} (the (ℓ+1)-th largest
 * squared singular value), which zeroes all but ℓ rows; each shrink removes Σ_i min(λ_i, δ) ≥ ℓ·δ of Frobenius
 * mass, which is the step the guarantee needs (ℓΔ ≤ ‖A‖_F² − ‖B‖_F² ≤ kΔ + ‖A − A_k‖_F²). */
import { GradtraceError } from "../errors.ts";
import { dotAt, symmetricEigen } from "../linalg/index.ts";
import { type Mat, mat, type Vec } from "../matrix.ts";

export interface FrequentDirectionsOptions {
  /** Sketch rows ℓ. */
  readonly ell: number;
  /** Row length (p for gradients as rows). */
  readonly dim: number;
}

interface Compressed {
  readonly rows: Float64Array;
  readonly count: number;
  readonly delta: number;
  /** Squared norms of the kept rows, descending: the squared singular values of the sketch (its rows are
   * orthogonal after a shrink). */
  readonly sigmaSq: Float64Array;
}

export class FrequentDirections {
  readonly ell: number;
  readonly dim: number;
  private readonly buffer: Float64Array;
  private filled = 0;
  /** Leading buffer rows known to be mutually orthogonal (the rows a shrink left): their block of the shrink's Gram
   * is diagonal, so only their squared norms are kept instead of ℓ²/2 dot products. */
  private orthogonal = 0;
  private readonly orthogonalNormSq: Float64Array;
  private shrinkTotal = 0;
  private rowsSeen = 0;
  private finalCache: { seen: number; compressed: Compressed } | null = null;

  constructor({ ell, dim }: FrequentDirectionsOptions) {
    if (!Number.isInteger(ell) || ell < 1) {
      throw new GradtraceError("E_ARG", `FrequentDirections: ell must be a positive integer, got ${ell}`);
    }
    if (!Number.isInteger(dim) || dim < 1) {
      throw new GradtraceError("E_ARG", `FrequentDirections: dim must be a positive integer, got ${dim}`);
    }
    this.ell = ell;
    this.dim = dim;
    this.buffer = new Float64Array(2 * ell * dim);
    this.orthogonalNormSq = new Float64Array(ell);
  }

  /** Rows fed so far. */
  get rows(): number {
    return this.rowsSeen;
  }

  update(row: Vec): void {
    if (row.length !== this.dim) {
      throw new GradtraceError(
        "E_SHAPE",
        `FrequentDirections.update: row ${this.rowsSeen} has length ${row.length}, expected dim = ${this.dim}`,
      );
    }
    if (this.filled === 2 * this.ell) {
      const { rows, count, delta, sigmaSq } = this.compress();
      this.buffer.fill(0);
      this.buffer.set(rows.subarray(0, count * this.dim));
      this.filled = count;
      this.orthogonal = count;
      this.orthogonalNormSq.set(sigmaSq.subarray(0, count));
      this.shrinkTotal += delta;
    }
    const base = this.filled * this.dim;
    for (let j = 0; j < this.dim; j++) this.buffer[base + j] = row[j];
    this.filled++;
    this.rowsSeen++;
  }

  /** The ℓ×dim sketch B (rows past the rank are zero). Reading it does not change later updates. */
  get sketch(): Mat {
    const out = mat(this.ell, this.dim);
    if (this.filled <= this.ell) {
      out.data.set(this.buffer.subarray(0, this.filled * this.dim));
      return out;
    }
    out.data.set(this.finalCompression().rows.subarray(0, this.ell * this.dim));
    return out;
  }

  /** Squared singular values of the sketch B (descending, at most ℓ, zeros dropped): what the spectrum metrics need,
   * without forming B or its Gram. μ_i ≤ σ_i²(A) ≤ μ_i + Δ for every i (BᵀB ≼ AᵀA and ‖AᵀA − BᵀB‖₂ ≤ Δ). */
  get sigmaSq(): Float64Array {
    if (this.filled === 0) return new Float64Array(0);
    return Float64Array.from(this.finalCompression().sigmaSq);
  }

  /** Δ: total shrinkage so far including the one `sketch` applies; ‖AᵀA − BᵀB‖₂ ≤ Δ holds deterministically. */
  get shrinkage(): number {
    return this.shrinkTotal + (this.filled > this.ell ? this.finalCompression().delta : 0);
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

  private finalCompression(): Compressed {
    if (this.finalCache === null || this.finalCache.seen !== this.rowsSeen) {
      this.finalCache = { seen: this.rowsSeen, compressed: this.compress() };
    }
    return this.finalCache.compressed;
  }

  /** Shrinks the filled buffer rows to at most ℓ rows (see the file comment); does not modify the buffer. With no
   * shrink due (n ≤ ℓ) it still rotates the rows onto their singular directions, so `sigmaSq` is always defined. */
  private compress(): Compressed {
    const { dim, ell, buffer } = this;
    const n = this.filled;
    const gram = mat(n, n);
    const g = gram.data;
    const orth = Math.min(this.orthogonal, n);
    for (let a = 0; a < orth; a++) g[a * n + a] = this.orthogonalNormSq[a];
    for (let a = orth; a < n; a++) {
      const ra = a * dim;
      for (let b = 0; b <= a; b++) {
        const v = dotAt(buffer, ra, b * dim, dim);
        g[a * n + b] = v;
        g[b * n + a] = v;
      }
    }
    const { values, vectors } = symmetricEigen(gram);
    const u = vectors as Mat;
    const delta = n > ell ? Math.max(values[ell], 0) : 0;
    // Eigenvalues at round-off level of the largest carry no direction; dropping them keeps exact low-rank input exact.
    const floor = Math.max(values[0], 0) * n * 1e-13;
    const rows = new Float64Array(ell * dim);
    const sigmaSq = new Float64Array(Math.min(ell, n));
    let count = 0;
    for (let i = 0; i < Math.min(ell, n); i++) {
      const lambda = values[i];
      if (lambda - delta <= floor) break;
      const coef = Math.sqrt((lambda - delta) / lambda);
      const out = count * dim;
      for (let a = 0; a < n; a++) {
        const c = coef * u.data[a * n + i];
        if (c !== 0) axpyRow(rows, out, c, buffer, a * dim, dim);
      }
      sigmaSq[count] = lambda - delta;
      count++;
    }
    return { rows, count, delta, sigmaSq: sigmaSq.subarray(0, count) };
  }
}

/** y[o + j] += c·x[a + j], j < len. */
function axpyRow(y: Float64Array, o: number, c: number, x: Float64Array, a: number, len: number): void {
  let j = 0;
  for (; j + 3 < len; j += 4) {
    y[o + j] += c * x[a + j];
    y[o + j + 1] += c * x[a + j + 1];
    y[o + j + 2] += c * x[a + j + 2];
    y[o + j + 3] += c * x[a + j + 3];
  }
  for (; j < len; j++) y[o + j] += c * x[a + j];
}
