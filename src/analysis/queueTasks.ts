/** @file The block passes' tasks for queue workers (src/parallel, `gradtrace worker`): blockWorker.ts's `gramTask`
 * (one tensor's coordinate range of the exact pass), `sketchTask` (a step range of the sketched pass) and
 * `streamTask` (a step range of the streaming mode, streamRangeTask.ts), their arguments checked before they run.
 * A job names the trace by absolute path (workers run in other directories, on other machines): the path must be on
 * storage every worker sees. */
import * as path from "node:path";
import { GradtraceError, resolvePredictor, SKETCH_KINDS } from "../core/index.ts";
import { expectArgs, plainObject, type QueueTask, queueTask, siblingModule } from "../parallel/index.ts";

const BLOCK_WORKER = siblingModule(import.meta.url, "blockWorker");

const FORMATS = ["safetensors-dir", "npz-dir", "npy-dir", "gtrace", "manifest"];

function fail(task: string, message: string): never {
  throw new GradtraceError("E_ARG", `${task}: ${message}`);
}

function integer(task: string, what: string, v: unknown, min: number): void {
  if (!(typeof v === "number" && Number.isInteger(v) && v >= min))
    fail(task, `${what} must be an integer ≥ ${min}`);
}

function optionalBoolean(task: string, what: string, v: unknown): void {
  if (v !== undefined && typeof v !== "boolean") fail(task, `${what} must be true or false`);
}

function integers(task: string, what: string, v: unknown): void {
  if (!Array.isArray(v)) fail(task, `${what} must be an array of integers`);
  v.forEach((x, i) => {
    integer(task, `${what}[${i}]`, x, 0);
  });
}

/** The TraceHandle argument: an absolute path, a known layout, the step numbers. */
function checkHandle(task: string, value: unknown): void {
  const h = plainObject(task, "the trace handle", value);
  if (typeof h.path !== "string" || !path.isAbsolute(h.path)) {
    fail(
      task,
      `the trace path must be absolute (workers run in other directories), got ${JSON.stringify(h.path)}`,
    );
  }
  if (!FORMATS.includes(h.format as string)) fail(task, `unknown trace layout ${JSON.stringify(h.format)}`);
  integers(task, "steps", h.steps);
}

function validateGramTask(args: readonly unknown[]): void {
  const task = "exact-pass task";
  expectArgs(task, args, 2);
  checkHandle(task, args[0]);
  const t = plainObject(task, "the task", args[1]);
  if (typeof t.tensor !== "string") fail(task, "tensor must be a name");
  integer(task, "offset", t.offset, 0);
  integer(task, "count", t.count, 1);
  integer(task, "width", t.width, 1);
  integers(task, "positions", t.positions);
  if (t.kernel !== "js" && t.kernel !== "wasm")
    fail(task, `kernel must be js or wasm, got ${JSON.stringify(t.kernel)}`);
  optionalBoolean(task, "strict", t.strict);
}

function validateSketchTask(args: readonly unknown[]): void {
  const task = "sketched-pass task";
  expectArgs(task, args, 2);
  checkHandle(task, args[0]);
  const t = plainObject(task, "the task", args[1]);
  if (!Array.isArray(t.tensors) || t.tensors.some((n) => typeof n !== "string"))
    fail(task, "tensors must be names");
  if (!(SKETCH_KINDS as readonly unknown[]).includes(t.kind))
    fail(task, `unknown sketch kind ${JSON.stringify(t.kind)}`);
  integer(task, "k", t.k, 1);
  integer(task, "seed", t.seed, Number.MIN_SAFE_INTEGER);
  integer(task, "from", t.from, 0);
  integer(task, "to", t.to, 0);
  optionalBoolean(task, "strict", t.strict);
}

function validateStreamTask(args: readonly unknown[]): void {
  const task = "streaming step-range task";
  expectArgs(task, args, 2);
  checkHandle(task, args[0]);
  const t = plainObject(task, "the task", args[1]);
  integer(task, "from", t.from, 0);
  integer(task, "to", t.to, 1);
  const pass = plainObject(task, "the pass", t.pass);
  for (const key of ["tensors", "predictors"] as const) {
    const v = pass[key];
    if (!Array.isArray(v) || v.some((n) => typeof n !== "string")) fail(task, `${key} must be names`);
  }
  // An unknown predictor fails here, with the registry's message, rather than mid-pass.
  for (const id of pass.predictors as string[]) resolvePredictor(id);
  const eps = pass.eps;
  if (!Array.isArray(eps) || eps.some((e) => !(typeof e === "number" && e > 0 && e < 1)))
    fail(task, "eps must be numbers in (0, 1)");
  integer(task, "windowSize", pass.windowSize, 1);
  integer(task, "fdRows", pass.fdRows, 0);
  if (pass.sketch !== undefined) {
    const sk = plainObject(task, "the sketch", pass.sketch);
    if (!(SKETCH_KINDS as readonly unknown[]).includes(sk.kind))
      fail(task, `unknown sketch kind ${JSON.stringify(sk.kind)}`);
    integer(task, "sketch k", sk.k, 1);
    integer(task, "sketch seed", sk.seed, Number.MIN_SAFE_INTEGER);
  }
  optionalBoolean(task, "momentum", pass.momentum);
  optionalBoolean(task, "strict", pass.strict);
}

export const BLOCK_QUEUE_TASKS: readonly QueueTask[] = [
  queueTask(BLOCK_WORKER, "gramTask", validateGramTask),
  queueTask(BLOCK_WORKER, "sketchTask", validateSketchTask),
  queueTask(BLOCK_WORKER, "streamTask", validateStreamTask),
];
