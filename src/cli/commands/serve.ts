/** @file `gradtrace serve <trace-or-runs-dir>`: flags mapped onto ServeOptions; prints the URL and serves until
 * interrupted. The work is startServer() in src/serve. */
import type { Command } from "commander";
import { startServer } from "../../serve/index.ts";
import { parseInteger, parseList, parseNumberList } from "../parse.ts";

interface ServeFlags {
  host: string;
  port: number;
  token?: string;
  cacheDir?: string;
  predictors?: string[];
  eps?: number[];
  window?: number;
  bootstrap: boolean;
  sketch?: string;
  tensors?: string[];
  exclude?: string[];
  quiet: boolean;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description(
      "Open a live browser dashboard of one trace or of a directory of runs: κ per predictor, r*(ε), a layer × time " +
        "heatmap, per-tensor charts; updates while a trace is still being written.",
    )
    .argument(
      "<trace-or-runs-dir>",
      "a trace, or a directory holding traces (any depth) and spiked-lab JSON results",
    )
    .option("--host <host>", "interface to bind (non-loopback requires --token)", "127.0.0.1")
    .option("--port <n>", "port (0 = a free one)", parseInteger("--port", { min: 0 }), 0)
    .option("--token <token>", "require this token (≥ 16 characters) as ?token= or Authorization: Bearer")
    .option("--cache-dir <dir>", "where analysis results are cached (default <dir>/.gradtrace-cache)")
    .option(
      "-p, --predictors <ids>",
      "comma-separated predictor ids (default: analyze's defaults)",
      parseList,
    )
    .option("--eps <values>", "ε values for r*(ε) (default 0.1,0.05,0.01)", parseNumberList("--eps"))
    .option(
      "-w, --window <steps>",
      "window for κ over time (default analyze's)",
      parseInteger("--window", { min: 2 }),
    )
    .option("--no-bootstrap", "skip the block-bootstrap confidence intervals for κ")
    .option(
      "--sketch <spec>",
      "analyze random sketches instead of full vectors (jl:512, countsketch:1024, …)",
    )
    .option("-t, --tensors <patterns>", "keep tensors matching these globs or /regex/", parseList)
    .option("--exclude <patterns>", "drop tensors matching these globs or /regex/", parseList)
    .option("-q, --quiet", "print only the URL and errors", false)
    .addHelpText(
      "after",
      `
The page and the JSON API (docs/dashboard.md) are served from 127.0.0.1 on a free port unless --host/--port say
otherwise. Results are cached per run in <dir>/.gradtrace-cache (delete it to rebuild from the traces).

Examples:
  gradtrace serve runs/
  gradtrace serve run/trace.gtrace --port 8080
  gradtrace serve runs/ --host 0.0.0.0 --token "$(openssl rand -hex 16)"`,
    )
    .action(async (target: string, flags: ServeFlags) => {
      const analyzeOptions = {
        ...(flags.predictors ? { predictors: flags.predictors } : {}),
        ...(flags.eps ? { eps: flags.eps } : {}),
        ...(flags.window ? { window: flags.window } : {}),
        ...(flags.bootstrap ? {} : { bootstrap: false }),
        ...(flags.sketch ? { sketch: flags.sketch } : {}),
        ...(flags.tensors ? { include: flags.tensors } : {}),
        ...(flags.exclude ? { exclude: flags.exclude } : {}),
      };
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
