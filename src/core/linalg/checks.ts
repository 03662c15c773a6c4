/** @file Input checks shared by the decompositions: they refuse NaN/Inf up front with the element's position, since
 * a non-finite entry would otherwise spread silently through every iteration. */
import { GradtraceError } from "../errors.ts";
import type { Mat } from "../matrix.ts";

/** Throws E_NUMERIC naming `where` and the first non-finite element (row, column) of a. */
export function requireFinite(a: Mat, where: string): void {
  const x = a.data;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new GradtraceError(
        "E_NUMERIC",
        `${where}: element (${Math.floor(i / a.cols)}, ${i % a.cols}) is ${x[i]}; expected finite values`,
      );
    }
  }
}
