/** @file Child-process entry of the reproduction's run pool (run.ts `runGrid`): runs each plan it is sent with
 * `runOne` and replies with the record (or failure), or with the error's code and message. Exits when the parent
 * disconnects. */
import { GradtraceError } from "../../core/index.ts";
import { runOne, type WorkerReply, type WorkerRequest } from "./run.ts";

process.on("message", async (msg: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: msg.id, outcome: await runOne(msg.plan, msg.options) };
  } catch (err) {
    const code = err instanceof GradtraceError ? err.code : null;
    reply = { id: msg.id, error: { code, message: err instanceof Error ? err.message : String(err) } };
  }
  process.send?.(reply);
});
process.on("disconnect", () => process.exit(0));
