/** @file Marking a task's result for transfer (not copy) back to the caller: a task returns
 * `transferResult(value, [buffer, …])` and the caller receives `value`, its buffers moved instead of cloned. Kept
 * apart from the pool so task modules import only this and the worker entry recognises the mark. */

/** What tasks and callers move between threads: ArrayBuffers. (Node's own `TransferListItem` would make the
 * published declarations need @types/node in every project that imports gradtrace's types.) */
export type TransferItem = ArrayBuffer;

/** Brand of a marked result; `Symbol.for` so the mark is recognised whatever module instance created it. */
const TRANSFERRED = Symbol.for("gradtrace.parallel.transferred");

/** A task result whose `transfer` list is moved to the caller rather than copied. */
export interface Transferred<T> {
  readonly [TRANSFERRED]: true;
  readonly value: T;
  readonly transfer: readonly TransferItem[];
}

/** Return this from a task to move the ArrayBuffers `transfer` with `value` to the caller. */
export function transferResult<T>(value: T, transfer: readonly TransferItem[]): Transferred<T> {
  return { [TRANSFERRED]: true, value, transfer };
}

export function isTransferred(x: unknown): x is Transferred<unknown> {
  return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[TRANSFERRED] === true;
}
