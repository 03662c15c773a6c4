/** @file What a GaLore-style setting costs, per matrix-shaped tensor of shorter side s and longer side l: optimizer
 * state (Adam's two moments in the projected r × l space plus the s × r projector, against 2·s·l for full Adam),
 * and the SVD that recomputes the projector at every refresh. Counted in stored numbers (floats): multiply by the
 * state's bytes per number (4 for float32) for bytes. */

/** Optimizer-state numbers of projected Adam at rank r: two r × l moments and the s × r projector. */
export function projectedStateSize(short: number, long: number, rank: number): number {
  return rank * (2 * long + short);
}

/** Optimizer-state numbers of full Adam: two moments of the full s × l matrix. */
export function fullStateSize(short: number, long: number): number {
  return 2 * short * long;
}

/** Whether projecting at this rank saves memory at all (at ranks near s the projector costs more than it saves). */
export function projectionSaves(short: number, long: number, rank: number): boolean {
  return rank < short && projectedStateSize(short, long, rank) < fullStateSize(short, long);
}

/** Floating-point operations of one thin SVD of an s × l matrix (s ≤ l), computing Σ and the s × s singular
 * vectors: the R-SVD count 6·l·s² + 11·s³ (Golub & Van Loan, Matrix Computations, 4th ed., Fig. 8.6.1). GaLore
 * pays it once per refresh whatever the rank. */
export function svdFlops(short: number, long: number): number {
  return 6 * long * short * short + 11 * short ** 3;
}
