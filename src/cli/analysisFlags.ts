/** @file The analysis flags `gradtrace analyze` and `gradtrace serve` share, typed from `AnalyzeOptions` and with
 * their defaults and help read from the library's constants (DEFAULT_ANALYZE_OPTIONS, DEFAULT_PREDICTORS,
 * DEFAULT_WINDOW), so the CLI cannot drift from the library. Flag names follow the option names (`--include`,
 * `--exclude`); `--tensors` stays as an alias of `--include`. */
import type { Command } from "commander";
import { type AnalyzeOptions, DEFAULT_ANALYZE_OPTIONS, DEFAULT_WINDOW } from "../analysis/index.ts";
import { DEFAULT_PREDICTORS, GradtraceError, listPredictorForms } from "../core/index.ts";
import { parseInteger, parseList, parseNumberList } from "./parse.ts";

const MODES = ["auto", "exact", "streaming"] as const satisfies readonly NonNullable<
  AnalyzeOptions["mode"]
>[];

/** The analysis options a command passes through unchanged. */
export type SharedAnalysisOptions = Pick<
  AnalyzeOptions,
  | "predictors"
  | "eps"
  | "include"
  | "exclude"
  | "sketch"
  | "window"
  | "bootstrap"
  | "mode"
  | "exactMaxSteps"
  | "fdRows"
  | "threads"
>;

/** The parsed flags (commander's camel-cased names): the options themselves, plus the `--tensors` alias. */
export type AnalysisFlags = Omit<SharedAnalysisOptions, "bootstrap"> & {
  readonly bootstrap: boolean;
  /** `--tensors`: alias of `--include` (the name before 0.2). */
  readonly tensors?: readonly string[];
};

export function addAnalysisOptions(command: Command): Command {
  const w = DEFAULT_WINDOW;
  return command
    .option(
      "-p, --predictors <ids>",
      `comma-separated predictor ids (default ${DEFAULT_PREDICTORS.join(",")}, plus momentum when the trace logged ` +
        `the optimizer's buffer); forms: ${listPredictorForms().join(", ")}`,
      parseList,
    )
    .option(
      "--eps <values>",
      `ε values for the predictable rank r*(ε) (default ${DEFAULT_ANALYZE_OPTIONS.eps.join(",")})`,
      parseNumberList("--eps"),
    )
    .option(
      "--include <patterns>",
      "keep tensors matching these globs or /regex/ (comma-separated; default all)",
      parseList,
    )
    .option("-t, --tensors <patterns>", "alias of --include", parseList)
    .option(
      "--exclude <patterns>",
      "drop tensors matching these globs or /regex/ (comma-separated)",
      parseList,
    )
    .option(
      "--sketch <spec>",
      "analyze sketches: random projections of each step (jl:512, countsketch:1024, sparsejl:512, srht:256; one " +
        "streaming pass) or Frequent Directions over the coordinates (fd:64; deterministic bound, O(ℓ·T) memory)",
    )
    .option(
      "-w, --window <steps>",
      `window for κ over time (default ⌈T/${w.perSteps}⌉, ${w.min}..${w.max})`,
      parseInteger("--window", { min: 2 }),
    )
    .option(
      "--threads <n>",
      "worker threads of the exact and sketched passes (default one per core, at most 8; traces under 64 MiB run " +
        "on one; the results are the same for any number)",
      parseInteger("--threads", { min: 1 }),
    )
    .option(
      "--no-bootstrap",
      `skip the block-bootstrap confidence intervals for κ (default: ${DEFAULT_ANALYZE_OPTIONS.bootstrap ? "computed" : "skipped"})`,
    )
    .option(
      "--mode <mode>",
      "auto: exact up to --exact-max-steps steps, streaming beyond; exact: one T×T Gram per tensor " +
        "(O(T²) memory); streaming: one pass over time, memory independent of T (κ exact; whole-run r*(ε), " +
        `effective/stable rank from Frequent Directions with stated bounds); default ${DEFAULT_ANALYZE_OPTIONS.mode}`,
      (v: string) => {
        if (!(MODES as readonly string[]).includes(v))
          throw new GradtraceError("E_ARG", `--mode: "${v}" is not one of ${MODES.join(", ")}`);
        return v;
      },
    )
    .option(
      "--exact-max-steps <n>",
      `largest number of steps --mode auto analyzes exactly (default ${DEFAULT_ANALYZE_OPTIONS.exactMaxSteps})`,
      parseInteger("--exact-max-steps", { min: 1 }),
    )
    .option(
      "--fd-rows <l>",
      `rows ℓ of the streaming mode's Frequent Directions sketches over time (default ${DEFAULT_ANALYZE_OPTIONS.fdRows}; r*(ε) is certified up to ℓ)`,
      parseInteger("--fd-rows", { min: 1 }),
    );
}

/** The flags as analysis options; only those given are set, so the library's defaults apply to the others. */
export function sharedAnalysisOptions(flags: AnalysisFlags): SharedAnalysisOptions {
  const include =
    flags.include || flags.tensors ? [...(flags.include ?? []), ...(flags.tensors ?? [])] : undefined;
  return {
    ...(flags.predictors ? { predictors: flags.predictors } : {}),
    ...(flags.eps ? { eps: flags.eps } : {}),
    ...(include ? { include } : {}),
    ...(flags.exclude ? { exclude: flags.exclude } : {}),
    ...(flags.sketch ? { sketch: flags.sketch } : {}),
    ...(flags.window ? { window: flags.window } : {}),
    ...(flags.threads ? { threads: flags.threads } : {}),
    ...(flags.bootstrap === DEFAULT_ANALYZE_OPTIONS.bootstrap ? {} : { bootstrap: flags.bootstrap }),
    ...(flags.mode ? { mode: flags.mode } : {}),
    ...(flags.exactMaxSteps ? { exactMaxSteps: flags.exactMaxSteps } : {}),
    ...(flags.fdRows ? { fdRows: flags.fdRows } : {}),
  };
}
