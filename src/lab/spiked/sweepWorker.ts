/** @file Child-process entry of the sweep pool (pool.ts): runs each configuration it is sent and replies with the
 * result, or with the error's code and message. Exits when the parent disconnects. */
import { GradtraceError } from "../../core/index.ts";
import { runSpiked } from "./experiment.ts";
import type { PoolReply, PoolRequest } from "./pool.ts";

process.on("message", async (msg: PoolRequest) => {
  let reply: PoolReply;
  try {
    reply = { id: msg.id, result: await runSpiked(msg.config) };
  } catch (err) {
    const code = err instanceof GradtraceError ? err.code : null;
    reply = { id: msg.id, error: { code, message: err instanceof Error ? err.message : String(err) } };
  }
  process.send?.(reply);
});
process.on("disconnect", () => process.exit(0));
