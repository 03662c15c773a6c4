/** @file The large matrix products of the lab (X·Wᵀ forward, Mᵀ·X backward, the Jacobian penalty's products) behind
 * one small interface with two implementations:
 * - "float64": the core's exact float64 kernels (src/core/linalg/products.ts) — used by the tests, whose identities
 *   and finite-difference checks need float64, and fine up to a few hundred rows.
 * - "jax": @jax-js/jax jit `np.dot` on the WASM backend in float32 (~10–20 GFLOP/s here versus ~1 for the JS loop),
 *   which is what brings the paper's size (n 750, d 1000, m 1250: ~0.94 GFLOP per product) well under a second.
 *   Inputs are rounded to float32 and the result is widened back to float64; everything downstream (decomposition,
 *   norms, SVD) stays float64.
 * "auto" picks jax when a product exceeds ~2·10⁷ multiply-adds. */
import {
  GradtraceError,
  type LinearOperator,
  type Mat,
  mat,
  matmul,
  transpose,
  transposeMatmul,
} from "../../core/index.ts";

export type GemmKind = "float64" | "jax" | "auto";

export interface Gemm {
  readonly kind: "float64" | "jax";
  /** op(A)·op(B) where op transposes when asked. */
  mul(a: Mat, b: Mat, options?: { transA?: boolean; transB?: boolean }): Mat;
}

function shapeOf(a: Mat, t: boolean): [number, number] {
  return t ? [a.cols, a.rows] : [a.rows, a.cols];
}

function checkInner(a: Mat, b: Mat, transA: boolean, transB: boolean, who: string): void {
  const [, ka] = shapeOf(a, transA);
  const [kb] = shapeOf(b, transB);
  if (ka !== kb) {
    throw new GradtraceError(
      "E_SHAPE",
      `${who}: inner dimensions differ: op(A) is ${shapeOf(a, transA).join("×")}, op(B) is ${shapeOf(b, transB).join("×")}`,
    );
  }
}

export const float64Gemm: Gemm = {
  kind: "float64",
  mul(a, b, { transA = false, transB = false } = {}) {
    checkInner(a, b, transA, transB, "float64Gemm.mul");
    const bb = transB ? transpose(b) : b;
    return transA ? transposeMatmul(a, bb) : matmul(a, bb);
  },
};

type JaxBinary = (x: unknown, y: unknown) => { dataSync(): ArrayLike<number> };

let jaxGemmPromise: Promise<Gemm> | null = null;

/** Loads jax-js lazily (the float64 path never pays for it) and compiles one jit product per transpose pattern. */
export function createJaxGemm(): Promise<Gemm> {
  jaxGemmPromise ??= (async () => {
    const jax = await import("@jax-js/jax");
    await jax.init("wasm");
    jax.defaultDevice("wasm");
    const { numpy: np, jit } = jax;
    type JArr = ReturnType<typeof np.array>;
    const fns: Record<string, JaxBinary> = {
      nn: jit((x: JArr, y: JArr) => np.dot(x, y)) as unknown as JaxBinary,
      nt: jit((x: JArr, y: JArr) => np.dot(x, y.transpose())) as unknown as JaxBinary,
      tn: jit((x: JArr, y: JArr) => np.dot(x.transpose(), y)) as unknown as JaxBinary,
      tt: jit((x: JArr, y: JArr) => np.dot(x.transpose(), y.transpose())) as unknown as JaxBinary,
    };
    const gemm: Gemm = {
      kind: "jax",
      mul(a, b, { transA = false, transB = false } = {}) {
        checkInner(a, b, transA, transB, "jaxGemm.mul");
        const [rows] = shapeOf(a, transA);
        const [, cols] = shapeOf(b, transB);
        // jit consumes its arguments, so fresh arrays are made per call (the float32 copy is needed anyway).
        const xa = np.array(Float32Array.from(a.data), { shape: [a.rows, a.cols] });
        const ya = np.array(Float32Array.from(b.data), { shape: [b.rows, b.cols] });
        const key = `${transA ? "t" : "n"}${transB ? "t" : "n"}`;
        const out = fns[key](xa, ya).dataSync();
        return mat(rows, cols, Float64Array.from(out));
      },
    };
    return gemm;
  })();
  return jaxGemmPromise;
}

/** Multiply-adds above which "auto" switches to jax (below it the float64 loop is fast and exact). */
const AUTO_JAX_THRESHOLD = 2e7;

export async function resolveGemm(kind: GemmKind, problemSize: number): Promise<Gemm> {
  if (kind === "float64") return float64Gemm;
  if (kind === "jax") return createJaxGemm();
  if (kind === "auto") return problemSize > AUTO_JAX_THRESHOLD ? createJaxGemm() : float64Gemm;
  throw new GradtraceError(
    "E_ARG",
    `resolveGemm: unknown gemm "${kind as string}"; expected float64, jax or auto`,
  );
}

/** A matrix as a LinearOperator whose products run through `gemm`, so randomized SVDs of the m×d gradient use the
 * fast (float32) products while their QR and small SVD stay float64. */
export function gemmOperator(a: Mat, gemm: Gemm): LinearOperator {
  return {
    rows: a.rows,
    cols: a.cols,
    apply: (x) => gemm.mul(a, x),
    applyT: (x) => gemm.mul(a, x, { transA: true }),
  };
}
