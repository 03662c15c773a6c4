/** @file Symmetric eigendecomposition of a 1024×1024 Gram (256 in GRADTRACE_BENCH_QUICK=1 mode): ml-matrix's
 * EigenvalueDecomposition vs src/core/linalg/symmetricEigen (with and without vectors), time and accuracy
 * (relative residual ‖AV − VΛ‖_F / ‖A‖_F and max |VᵀV − I|), measured in the same run. */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { matmul, symmetricEigen, transpose, transposeMatmul } from "../src/core/linalg/index.ts";
import { type Mat, mat } from "../src/core/matrix.ts";
import { createRng } from "../src/core/rng.ts";
import type { BenchRow } from "./types.ts";

function accuracy(a: Mat, values: ArrayLike<number>, v: Mat): { residual: number; orthogonality: number } {
  const n = a.rows;
  const av = matmul(a, v);
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < n; c++) num += (av.data[i * n + c] - values[c] * v.data[i * n + c]) ** 2;
  }
  for (const x of a.data) den += x * x;
  const vtv = transposeMatmul(v, v);
  let orthogonality = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      orthogonality = Math.max(orthogonality, Math.abs(vtv.data[i * n + j] - (i === j ? 1 : 0)));
  }
  return { residual: Math.sqrt(num / den), orthogonality };
}

export async function run(): Promise<BenchRow[]> {
  const n = process.env.GRADTRACE_BENCH_QUICK === "1" ? 256 : 1024;
  const rng = createRng(2);
  // A Gram of n vectors in R^{2n}: positive semidefinite, like the matrices the metrics decompose.
  const b = mat(
    n,
    2 * n,
    Float64Array.from({ length: 2 * n * n }, () => rng.normal()),
  );
  const a = matmul(b, transpose(b));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a.data[j * n + i] = a.data[i * n + j];

  let t0 = performance.now();
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a.data[i * n + j]);
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const mlSeconds = (performance.now() - t0) / 1000;
  const mlVectors = mat(n, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) mlVectors.data[i * n + j] = evd.eigenvectorMatrix.get(i, j);
  const mlAcc = accuracy(a, evd.realEigenvalues, mlVectors);

  t0 = performance.now();
  const ours = symmetricEigen(a);
  const oursSeconds = (performance.now() - t0) / 1000;
  const oursAcc = accuracy(a, ours.values, ours.vectors as Mat);

  t0 = performance.now();
  const valuesOnly = symmetricEigen(a, { vectors: false });
  const valuesSeconds = (performance.now() - t0) / 1000;
  const sortedMl = [...evd.realEigenvalues].sort((x, y) => y - x);
  let valueDiff = 0;
  for (let i = 0; i < n; i++) valueDiff = Math.max(valueDiff, Math.abs(valuesOnly.values[i] - sortedMl[i]));

  const ref = `ml-matrix EigenvalueDecomposition (${mlSeconds.toFixed(2)} s)`;
  return [
    { name: `ml-matrix eigen ${n}×${n} (reference)`, value: mlSeconds, unit: "s", note: fmtAcc(mlAcc) },
    {
      name: `symmetricEigen ${n}×${n} with vectors`,
      value: oursSeconds,
      unit: "s",
      ratio: mlSeconds / oursSeconds,
      reference: ref,
      note: fmtAcc(oursAcc),
    },
    {
      name: `symmetricEigen ${n}×${n} values only`,
      value: valuesSeconds,
      unit: "s",
      ratio: mlSeconds / valuesSeconds,
      reference: ref,
      note: `max |λ − λ_ml| / λ_max = ${(valueDiff / sortedMl[0]).toExponential(1)}`,
    },
  ];
}

function fmtAcc({ residual, orthogonality }: { residual: number; orthogonality: number }): string {
  return `residual ${residual.toExponential(1)}, max|VᵀV−I| ${orthogonality.toExponential(1)}`;
}
