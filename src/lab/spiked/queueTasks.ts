/** @file The spiked lab's tasks for queue workers (src/parallel, `gradtrace worker`): one configuration of a sweep
 * (sweepWorker.ts `runConfig`), its argument checked before it runs. */
import { GradtraceError } from "../../core/index.ts";
import { expectArgs, plainObject, type QueueTask, queueTask, siblingModule } from "../../parallel/index.ts";
import { DEFAULT_SPIKED_CONFIG, resolveConfig, type SpikedConfig } from "./experiment.ts";

const SWEEP_WORKER = siblingModule(import.meta.url, "sweepWorker");

/** runConfig(config): a JSON object of SpikedConfig fields (activation by name), valid for resolveConfig. */
function validateRunConfig(args: readonly unknown[]): void {
  const task = "spiked configuration";
  expectArgs(task, args, 1);
  const config = plainObject(task, "the configuration", args[0]);
  for (const key of Object.keys(config)) {
    if (!(key in DEFAULT_SPIKED_CONFIG)) throw new GradtraceError("E_ARG", `${task}: unknown field "${key}"`);
  }
  if (config.activation !== undefined && typeof config.activation !== "string") {
    throw new GradtraceError("E_ARG", `${task}: activation must be a name (custom activations run locally only)`);
  }
  resolveConfig(config as Partial<SpikedConfig>);
}

export const SPIKED_QUEUE_TASKS: readonly QueueTask[] = [queueTask(SWEEP_WORKER, "runConfig", validateRunConfig)];
