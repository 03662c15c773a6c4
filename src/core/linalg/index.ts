/** @file Dense float64 linear algebra used by the metrics: the one export list of src/core/linalg. */

export { gramEigenvalues } from "./gramEigenvalues.ts";
export { orthonormalBasis, principalAngles } from "./principalAngles.ts";
export { columns, frobeniusNorm, matmul, transpose, transposeMatmul } from "./products.ts";
export { householderQr, type QrResult, qrOrthonormalize } from "./qr.ts";
export {
  type LinearOperator,
  matOperator,
  type RandomizedSvdOptions,
  randomizedSvd,
} from "./randomizedSvd.ts";
export { gramSingularValues } from "./singularValues.ts";
export { type SvdResult, svdTallSkinny } from "./svd.ts";
export {
  dotAt,
  type SymmetricEigenResult,
  symmetricEigen,
  symmetricEigenTopInto,
} from "./symmetricEigen.ts";
export { applyQ, EigenWorkspace, reduceInto, spectrumInto, vectorsInto } from "./tridiagonal.ts";
