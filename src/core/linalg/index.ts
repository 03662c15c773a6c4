/** @file Dense float64 linear algebra used by the metrics: the one export list of src/core/linalg. */
export { symmetricEigen, type SymmetricEigenResult } from "./symmetricEigen.ts";
export { columns, frobeniusNorm, matmul, transpose, transposeMatmul } from "./products.ts";
export { householderQr, qrOrthonormalize, type QrResult } from "./qr.ts";
export { gramSingularValues } from "./singularValues.ts";
export { svdTallSkinny, type SvdResult } from "./svd.ts";
export {
  type LinearOperator,
  matOperator,
  randomizedSvd,
  type RandomizedSvdOptions,
} from "./randomizedSvd.ts";
export { orthonormalBasis, principalAngles } from "./principalAngles.ts";
