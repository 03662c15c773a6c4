/** @file Hashing sketches: CountSketch (one ±1 per column in a hashed row) and block sparse JL (s nonzeros ±1/√s
 * per column, one in each of s row blocks of k/s rows — the construction of Kane & Nelson 2014, "Sparser
 * Johnson–Lindenstrauss transforms", §2 block version). CountSketch is the s = 1 case. Cost O(s·p) per vector.
 *
 * Column j's row and sign in block q come from hashIndex(deriveSeed(seed, 2, q), j): no table is needed, so any
 * slice at any offset is sketched on its own. A (row, sign) table of 4·s·dim bytes can be requested with
 * `cacheBytes`, but it is off by default: bench/sketch.bench.ts found no consistent gain over hashing on the fly
 * (table vs hash, two runs on the shared 2-core dev machine: countsketch p = 10^7 61.6 vs 64.0 ms and 160.9 vs
 * 104.9 ms; sparse JL s = 8, p = 10^6 35.3 vs 36.6 ms and 79.3 vs 96.0 ms): the three integer multiplies of the
 * hash cost about what the extra 4·s bytes of table traffic per coordinate do, and the table costs 4·s·p bytes.
 *
 * Unbiasedness and variance (fully random hash): ‖Sx‖² − ‖x‖² = (1/s) Σ_q Σ_{i≠j} σ_qi σ_qj x_i x_j [h_q(i) = h_q(j)]
 * has mean 0 and, per block, variance 2(‖x‖⁴ − ‖x‖₄⁴)/(k/s); averaging s independent blocks divides by s, so
 * Var‖Sx‖² = 2(‖x‖⁴ − ‖x‖₄⁴)/k ≤ the Gaussian 2‖x‖⁴/k for every s. */
import { deriveSeed } from "../rng.ts";
import { GradtraceError } from "../errors.ts";
import type { Vec } from "../matrix.ts";
import { chebyshevErrorBound, jlErrorBound } from "./bounds.ts";
import { checkAccumulate, checkApply, checkSketchShape, hashIndex } from "./common.ts";
import type { ErrorBoundOptions, Sketch } from "./types.ts";

const HASH_STREAM_TAG = 2;
/** Default nonzeros per column of sparse JL; reduced to the largest divisor of k that is ≤ 8. */
export const DEFAULT_SPARSITY = 8;

export interface HashingSketchOptions {
  readonly k: number;
  readonly dim: number;
  readonly seed?: number;
  /** Nonzeros per column: 1 is CountSketch. Must divide k. */
  readonly s?: number;
  /** Build a (row, sign) table when it fits in this many bytes (4·s·dim). Default 0: always hash on the fly. */
  readonly cacheBytes?: number;
}

/** Bucket in [0, m) from the high 31 bits of a hash (multiply-shift, uniform up to 2^-31); the sign uses the low bit. */
export function bucketOf(h: number, m: number): number {
  return Math.floor(((h >>> 1) * m) / 2147483648);
}

/** Largest divisor of k not above `preferred` (so the s row blocks have equal size). */
export function sparsityFor(k: number, preferred = DEFAULT_SPARSITY): number {
  for (let s = Math.min(preferred, k); s > 1; s--) if (k % s === 0) return s;
  return 1;
}

export class HashingSketch implements Sketch {
  readonly kind: "countsketch" | "sparsejl";
  readonly guarantee = "variance-matched" as const;
  readonly k: number;
  readonly seed: number;
  readonly dim: number;
  readonly s: number;
  private readonly rowsPerBlock: number;
  private readonly bases: Uint32Array;
  /** (row << 1) | negative, s entries per column, column-major; null when hashing on the fly. */
  private readonly table: Int32Array | null;

  constructor({ k, dim, seed = 0, s = 1, cacheBytes = 0 }: HashingSketchOptions) {
    const kind = s === 1 ? "countsketch" : "sparsejl";
    checkSketchShape(kind, k, dim);
    if (!Number.isInteger(s) || s < 1 || k % s !== 0) {
      throw new GradtraceError(
        "E_ARG",
        `createSketch(${kind}): s = ${s} nonzeros per column must divide k = ${k}`,
      );
    }
    this.kind = kind;
    this.k = k;
    this.dim = dim;
    this.seed = seed;
    this.s = s;
    this.rowsPerBlock = k / s;
    this.bases = Uint32Array.from({ length: s }, (_, q) => deriveSeed(seed, HASH_STREAM_TAG, q));
    this.table = 4 * s * dim <= cacheBytes ? this.buildTable() : null;
  }

  /** Encoded (row, sign) of column j in block q. */
  private entry(q: number, j: number): number {
    const h = hashIndex(this.bases[q], j);
    return ((q * this.rowsPerBlock + bucketOf(h, this.rowsPerBlock)) << 1) | (h & 1);
  }

  private buildTable(): Int32Array {
    const { s, dim } = this;
    const table = new Int32Array(s * dim);
    for (let j = 0; j < dim; j++) for (let q = 0; q < s; q++) table[j * s + q] = this.entry(q, j);
    return table;
  }

  accumulate(x: Vec, offset: number, out: Float64Array): void {
    checkAccumulate(this.kind, this.k, this.dim, x, offset, out);
    const { s, table } = this;
    const scale = 1 / Math.sqrt(s);
    const n = x.length;
    if (table !== null) {
      for (let j = 0; j < n; j++) {
        const v = x[j] * scale;
        const base = (offset + j) * s;
        for (let q = 0; q < s; q++) {
          const e = table[base + q];
          out[e >> 1] += (1 - 2 * (e & 1)) * v;
        }
      }
      return;
    }
    const m = this.rowsPerBlock;
    // Power-of-two row blocks (the usual k = 2^n) take the bucket from the top bits by shifts; the general case
    // multiplies. Both give bucketOf(h, m) exactly. The sign is applied by a multiply, not a branch: it is a coin
    // flip per coordinate, so a branch would be mispredicted half the time.
    const shift = m & (m - 1) ? -1 : 31 - Math.log2(m);
    for (let q = 0; q < s; q++) {
      const base = this.bases[q];
      const rowOffset = q * m;
      for (let j = 0; j < n; j++) {
        // hashIndex(base, offset + j), inlined: this loop is the whole cost of the sketch.
        let h = base ^ Math.imul(offset + j, 0x9e3779b1);
        h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
        h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
        h ^= h >>> 16;
        const bucket = shift >= 0 ? (h >>> 1) >>> shift : ((h >>> 1) * m * 4.656612873077393e-10) | 0;
        out[rowOffset + bucket] += (1 - 2 * (h & 1)) * scale * x[j];
      }
    }
  }

  apply(x: Vec): Float64Array {
    checkApply(this.kind, this.dim, x);
    const out = new Float64Array(this.k);
    this.accumulate(x, 0, out);
    return out;
  }

  errorBound(options: ErrorBoundOptions): number {
    return jlErrorBound(this.k, options);
  }

  chebyshevBound(options: ErrorBoundOptions): number {
    return chebyshevErrorBound(this.k, options);
  }
}
