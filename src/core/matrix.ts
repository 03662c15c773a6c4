/** @file The dense matrix value used across the core: row-major float64 storage plus its shape. Kept minimal on
 * purpose; the kernels take and return this plain object so they stay easy to test against brute-force code. */

export interface Mat {
  readonly rows: number;
  readonly cols: number;
  /** Row-major: element (i, j) is data[i * cols + j]. */
  readonly data: Float64Array;
}

export function mat(rows: number, cols: number, data?: Float64Array): Mat {
  if (data && data.length !== rows * cols) {
    throw new RangeError(`mat: data has ${data.length} elements, expected ${rows}×${cols} = ${rows * cols}`);
  }
  return { rows, cols, data: data ?? new Float64Array(rows * cols) };
}

/** Numeric vectors accepted by the kernels (gradients usually arrive as float32). */
export type Vec = Float32Array | Float64Array;
