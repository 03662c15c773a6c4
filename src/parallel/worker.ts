/** @file The entry every pool worker runs (tinypool's `filename`): loads the task module a request names, calls
 * the exported function with the request's arguments, and answers with an envelope, so that a GradtraceError's
 * `code` survives the thread boundary (a structured clone keeps an Error's message, not its own fields). */
import { kTransferable, kValue, markMovable } from "tinypool";
import { GradtraceError } from "../core/index.ts";
import type { TaskEnvelope, TaskRequest } from "./protocol.ts";
import { isTransferred } from "./transfer.ts";

const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(href: string): Promise<Record<string, unknown>> {
  let m = modules.get(href);
  if (!m) {
    m = import(href) as Promise<Record<string, unknown>>;
    modules.set(href, m);
  }
  return m;
}

function failure(err: unknown): TaskEnvelope {
  if (err instanceof GradtraceError)
    return { ok: false, code: err.code, name: err.name, message: err.message };
  if (err instanceof Error)
    return { ok: false, code: null, name: err.name, message: err.message, stack: err.stack };
  return { ok: false, code: null, name: "Error", message: String(err) };
}

/** Runs one task; never throws (every failure becomes an envelope). A `fn` of null only loads the module. */
export async function runTask(req: TaskRequest): Promise<unknown> {
  try {
    const mod = await load(req.module);
    if (req.fn === null) return { ok: true, value: null } satisfies TaskEnvelope;
    const fn = mod[req.fn];
    if (typeof fn !== "function")
      return failure(new Error(`${req.module}: no exported function "${req.fn}"`));
    const value: unknown = await fn(...req.args);
    if (!isTransferred(value)) return { ok: true, value } satisfies TaskEnvelope;
    // tinypool's "movable" shape: the envelope is posted with the task's transfer list.
    const movable = { [kValue]: { ok: true, value: value.value }, [kTransferable]: [...value.transfer] };
    markMovable(movable);
    return movable;
  } catch (err) {
    return failure(err);
  }
}
