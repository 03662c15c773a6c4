/** @file The tasks a queue worker runs: each is an exported function of a task module of this package, named by the
 * module's path inside the package (`lab/spiked/sweepWorker#runConfig`) — the same name whether the package runs
 * from its TypeScript sources or compiled — so a job carries a name and parameters, never code or a path to code.
 * A worker runs only the tasks it was given (the CLI's fixed list) and checks each job's arguments with the task's
 * own validator before running it. */
import { fileURLToPath } from "node:url";
import { GradtraceError } from "../../core/index.ts";

/** The package's source root (src/ or dist/): two levels above this file. */
const ROOT = new URL("../../", import.meta.url);

export interface QueueTask {
  /** `<module path inside the package, no extension>#<function>`. */
  readonly name: string;
  readonly module: URL;
  readonly fn: string;
  /** Throws a GradtraceError (E_ARG) when the arguments are not what the function takes. */
  readonly validate: (args: readonly unknown[]) => void;
}

/** The queue name of function `fn` of the task module at `module`. */
export function queueTaskName(module: URL, fn: string): string {
  const root = fileURLToPath(ROOT);
  const file = fileURLToPath(module);
  if (!file.startsWith(root)) {
    throw new GradtraceError(
      "E_ARG",
      `${file}: only task modules of the gradtrace package can run on the queue (workers run their own copy)`,
    );
  }
  return `${file
    .slice(root.length)
    .replace(/\\/g, "/")
    .replace(/\.(ts|js)$/, "")}#${fn}`;
}

/** A task of the registry: function `fn` of the task module `module`, its arguments checked by `validate`. */
export function queueTask(module: URL, fn: string, validate: (args: readonly unknown[]) => void): QueueTask {
  return { name: queueTaskName(module, fn), module, fn, validate };
}

/** Checks the argument count and that each argument is a plain object or what `check` says; for validators. */
export function expectArgs(task: string, args: readonly unknown[], count: number): void {
  if (args.length !== count) {
    throw new GradtraceError("E_ARG", `${task}: expected ${count} argument(s), got ${args.length}`);
  }
}

/** `value` as a plain object (not null, not an array), or E_ARG naming the argument. */
export function plainObject(task: string, what: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new GradtraceError("E_ARG", `${task}: ${what} must be an object`);
  }
  return value as Record<string, unknown>;
}
