/** @file What the pool (pool.ts) and its workers (worker.ts) send each other. */
import type { ErrorCode } from "../core/index.ts";

/** One task: the module's URL, the exported function (null: only load the module) and its arguments. */
export interface TaskRequest {
  readonly module: string;
  readonly fn: string | null;
  readonly args: readonly unknown[];
}

/** A task's outcome; a failure keeps the GradtraceError code (null for other errors). */
export type TaskEnvelope =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: ErrorCode | null;
      readonly name: string;
      readonly message: string;
      readonly stack?: string;
    };
