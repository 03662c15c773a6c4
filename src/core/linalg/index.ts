/** @file Dense float64 linear algebra used by the metrics. */
export { symmetricEigen, type SymmetricEigenResult } from "./symmetricEigen.ts";
