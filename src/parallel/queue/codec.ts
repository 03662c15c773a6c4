/** @file What crosses the queue. Arguments travel as JSON (parameters and paths a person can read in Redis) and
 * must be JSON values: a non-finite number, a typed array or a function is refused before submission rather than
 * silently changed. Results travel as V8's structured serialization (base64), which keeps float64 values bit for
 * bit, NaN, −0, typed arrays and Maps — the result a caller gets from the queue is the one the task returned. */
import * as v8 from "node:v8";
import { GradtraceError } from "../../core/index.ts";

/** Version of the job format; a worker refuses jobs of another. */
export const QUEUE_PROTOCOL = 1;

/** What a job's data holds. */
export interface JobData {
  readonly protocol: number;
  /** The submitting package's version: a worker refuses jobs from another version (results could differ). */
  readonly version: string;
  readonly args: readonly unknown[];
}

/** Throws E_ARG naming the first value of `value` that is not plain JSON (undefined object fields are allowed:
 * JSON drops them, and for the tasks' options that means "the default"). */
export function assertJson(value: unknown, where: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || Object.is(value, -0))
      throw new GradtraceError("E_ARG", `${where} is ${String(value)}: the queue carries JSON numbers only`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      assertJson(v, `${where}[${i}]`);
    });
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) assertJson(v, `${where}.${k}`);
    return;
  }
  const kind = typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
  throw new GradtraceError("E_ARG", `${where} is a ${kind}: the queue carries JSON parameters only`);
}

export function encodeResult(value: unknown): string {
  return v8.serialize(value).toString("base64");
}

export function decodeResult(text: string): unknown {
  return v8.deserialize(Buffer.from(text, "base64"));
}

/** Codes of errors that retrying the same job cannot cure (the data or the arguments are at fault): the job fails
 * at its first attempt. Others (E_NOT_FOUND: a worker that does not see the shared storage; crashes) are retried
 * up to the job's attempts, possibly on another worker. */
export const FINAL_CODES: ReadonlySet<string> = new Set([
  "E_ARG",
  "E_SHAPE",
  "E_FORMAT",
  "E_TRUNCATED",
  "E_CHECKSUM",
  "E_NUMERIC",
  "E_UNSUPPORTED",
  "E_EXISTS",
]);

/** "E_FORMAT: message" → its code and message; other texts → no code. */
export function splitReason(reason: string): { code: string | null; message: string } {
  const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  return m ? { code: m[1], message: m[2] } : { code: null, message: reason };
}
