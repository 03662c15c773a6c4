/** @file `gradtrace serve <trace-or-runs-dir>`: flags mapped onto ServeOptions; prints the URL and serves until
 * interrupted. The work is startServer() in src/serve. */
import type { Command } from "commander";
import {
  CACHE_DIR_NAME,
  DEFAULT_SERVE_OPTIONS,
  MIN_TOKEN_LENGTH,
  type ServeOptions,
  startServer,
} from "../../serve/index.ts";
import { type AnalysisFlags, addAnalysisOptions, sharedAnalysisOptions } from "../analysisFlags.ts";
import { parseInteger } from "../parse.ts";
import { queueUrl } from "../queueFlags.ts";

type ServeFlags = AnalysisFlags &
  Required<Pick<ServeOptions, "host" | "port">> &
  Pick<ServeOptions, "token" | "cacheDir"> & {
    quiet: boolean;
    queue?: string;
  };

export function registerServeCommand(program: Command): void {
  const command = program
    .command("serve")
    .description(
      "Open a live browser dashboard of one trace or of a directory of runs: κ per predictor, r*(ε), a layer × time " +
        "heatmap, per-tensor charts; updates while a trace is still being written.",
    )
    .argument(
      "<trace-or-runs-dir>",
      "a trace, or a directory holding traces (any depth) and spiked-lab JSON results",
    )
    .option("--host <host>", "interface to bind (non-loopback requires --token)", DEFAULT_SERVE_OPTIONS.host)
    .option(
      "--port <n>",
      "port (0 = a free one)",
      parseInteger("--port", { min: 0 }),
      DEFAULT_SERVE_OPTIONS.port,
    )
    .option(
      "--token <token>",
      `require this token (≥ ${MIN_TOKEN_LENGTH} characters) as ?token= or Authorization: Bearer`,
    )
    .option("--cache-dir <dir>", `where analysis results are cached (default <dir>/${CACHE_DIR_NAME})`)
    .option(
      "--queue <url>",
      "add a Queue view of the Redis job queue at redis://[:PASSWORD@]HOST:PORT (password also from " +
        "GRADTRACE_REDIS_PASSWORD): the runs submitted with --queue, their progress, the queue's jobs and workers",
      queueUrl,
    );
  addAnalysisOptions(command)
    .option("-q, --quiet", "print only the URL and errors", false)
    .addHelpText(
      "after",
      `
The page and the JSON API (docs/dashboard.md) are served from ${DEFAULT_SERVE_OPTIONS.host} on a free port unless
--host/--port say otherwise. Results are cached per run in <dir>/${CACHE_DIR_NAME} (delete it to rebuild from the
traces).

With --queue, the page's Queue view lists the runs that commands started with --queue on any machine (their label:
command and paths, submitter host:pid, jobs done / total, running, queued, failed, state) refreshed every 2 s, the
queue's job counts and the connected workers (docs/distributed.md, "Watching the queue"). A run whose submitter has
not updated it for 30 s shows as stale. If Redis is unreachable the view says so and the rest of the dashboard works
as usual; it reconnects by itself.

Examples:
  gradtrace serve runs/
  gradtrace serve run/trace.gtrace --port 8080
  gradtrace serve runs/ --host 0.0.0.0 --token "$(openssl rand -hex 16)"
  GRADTRACE_REDIS_PASSWORD=… gradtrace serve /shared/runs --queue redis://10.0.0.5:6379`,
    )
    .action(async (target: string, flags: ServeFlags) => {
      const analyzeOptions = sharedAnalysisOptions(flags);
      const server = await startServer({
        path: target,
        host: flags.host,
        port: flags.port,
        token: flags.token,
        cacheDir: flags.cacheDir,
        analyzeOptions,
        ...(flags.queue ? { queue: { url: flags.queue } } : {}),
        log: flags.quiet ? () => {} : (m) => process.stderr.write(`${m}\n`),
      });
      process.stdout.write(`gradtrace serve: ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void server.close().then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
