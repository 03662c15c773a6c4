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

type ServeFlags = AnalysisFlags &
  Required<Pick<ServeOptions, "host" | "port">> &
  Pick<ServeOptions, "token" | "cacheDir"> & {
    quiet: boolean;
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
    .option("--cache-dir <dir>", `where analysis results are cached (default <dir>/${CACHE_DIR_NAME})`);
  addAnalysisOptions(command)
    .option("-q, --quiet", "print only the URL and errors", false)
    .addHelpText(
      "after",
      `
The page and the JSON API (docs/dashboard.md) are served from ${DEFAULT_SERVE_OPTIONS.host} on a free port unless
--host/--port say otherwise. Results are cached per run in <dir>/${CACHE_DIR_NAME} (delete it to rebuild from the
traces).

Examples:
  gradtrace serve runs/
  gradtrace serve run/trace.gtrace --port 8080
  gradtrace serve runs/ --host 0.0.0.0 --token "$(openssl rand -hex 16)"`,
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
