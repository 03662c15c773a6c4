/** @file The predictable-manifolds reproduction's task for queue workers (src/parallel, `gradtrace worker`): one
 * training run (runTask.ts `runPlan`: train a zoo model, log its trace in the worker's own temporary folder, analyze
 * it, delete the trace, return the record), its arguments checked before it runs. A job cannot name folders: the
 * worker writes only its temporary folder. */
import { GradtraceError } from "../../core/index.ts";
import { OPTIMIZER_NAMES, ZOO_MODEL_NAMES } from "../../lab/index.ts";
import { expectArgs, plainObject, type QueueTask, queueTask, siblingModule } from "../../parallel/index.ts";

const RUN_TASK = siblingModule(import.meta.url, "runTask");

function validateRunPlan(args: readonly unknown[]): void {
  const task = "predictable-manifolds run";
  const fail = (message: string): never => {
    throw new GradtraceError("E_ARG", `${task}: ${message}`);
  };
  expectArgs(task, args, 2);
  const plan = plainObject(task, "the plan", args[0]);
  if (!(ZOO_MODEL_NAMES as readonly unknown[]).includes(plan.model))
    fail(`unknown model ${JSON.stringify(plan.model)}`);
  if (!(OPTIMIZER_NAMES as readonly unknown[]).includes(plan.optimizer))
    fail(`unknown optimizer ${JSON.stringify(plan.optimizer)}`);
  if (!Number.isSafeInteger(plan.seed)) fail("seed must be an integer");
  if (!(Number.isInteger(plan.steps) && (plan.steps as number) >= 1)) fail("steps must be an integer ≥ 1");
  const options = plainObject(task, "the options", args[1]);
  for (const [key, value] of Object.entries(options)) {
    if (!(key === "keepTraces" && value === false))
      fail(`option ${key}: queue jobs run in the worker's temporary folder`);
  }
}

export const PREDICTABLE_MANIFOLDS_QUEUE_TASKS: readonly QueueTask[] = [
  queueTask(RUN_TASK, "runPlan", validateRunPlan),
];
