/** @file Entry of the `gradtrace` command: parses arguments with commander and calls library functions; turns
 * GradtraceError codes into exit codes and one-line messages (never a stack trace for bad input).
 * Command modules load lazily: the table below names each command with its one-line summary, and only the module of
 * the command being run (or asked about with `help <command>`) is imported, so `gradtrace --version` and
 * `gradtrace --help` load nothing but commander (not even the core). The others are registered as stubs that
 * show the same line in `gradtrace --help` as the full command would (test/cli/startup.test.ts compares the lazy
 * help with the help of a program with every module loaded). */
import * as fs from "node:fs";
import { Command, CommanderError, Help } from "commander";

type Register = (program: Command) => void;

interface CommandEntry {
  readonly name: string;
  /** How the command is listed in `gradtrace --help`: name, [options] and arguments, as commander writes them. */
  readonly term: string;
  /** The one line shown in `gradtrace --help`; the command's own --help gives its full description. */
  readonly summary: string;
  readonly load: () => Promise<Register>;
}

/** Every command (keep this list sorted). */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "advise",
    term: "advise [options] <trace...>",
    summary: "GaLore rank and refresh interval per layer from the captured gradient energy E(r, Δ)",
    load: async () => (await import("./commands/advise.ts")).registerAdviseCommand,
  },
  {
    name: "analyze",
    term: "analyze [options] <trace>",
    summary: "how predictable (κ per predictor) and how low-rank (r*(ε)) a logged run's gradients are",
    load: async () => (await import("./commands/analyze.ts")).registerAnalyzeCommand,
  },
  {
    name: "convert",
    term: "convert [options] <src> <dst>",
    summary: "rewrite a gradient trace in another layout (streaming)",
    load: async () => (await import("./commands/convert.ts")).registerConvertCommand,
  },
  {
    name: "demo",
    term: "demo [options]",
    summary: "train a small CNN on MNIST digits, log its gradients and report on them (no download)",
    load: async () => (await import("./commands/demo.ts")).registerDemoCommand,
  },
  {
    name: "lab",
    term: "lab",
    summary: "the spiked two-layer lab (low-rank gradients of a two-layer network on spiked data)",
    load: async () => (await import("./commands/lab.ts")).registerLabCommand,
  },
  {
    name: "reproduce",
    term: "reproduce [options] <experiment>",
    summary: "run a paper's experiments and write the reproduction report",
    load: async () => (await import("./commands/reproduce.ts")).registerReproduceCommand,
  },
  {
    name: "serve",
    term: "serve [options] <trace-or-runs-dir>",
    summary: "live browser dashboard of one trace or a directory of runs",
    load: async () => (await import("./commands/serve.ts")).registerServeCommand,
  },
  {
    name: "train",
    term: "train [options] <model>",
    summary: "train a zoo model, logging every step's gradients to a trace",
    load: async () => (await import("./commands/train.ts")).registerTrainCommand,
  },
  {
    name: "worker",
    term: "worker [options]",
    summary: "serve the Redis job queue of --queue: run its jobs on this machine (docs/distributed.md)",
    load: async () => (await import("./commands/worker.ts")).registerWorkerCommand,
  },
  {
    name: "zoo",
    term: "zoo",
    summary: "the model zoo used by train and the reproductions",
    load: async () => (await import("./commands/zoo.ts")).registerZooCommand,
  },
];

const DEFAULT_HELP = new Help();

/** The package's version, from its package.json (two levels up from src/cli/ and from dist/cli/ alike). */
function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** The command `argv` runs (or asks help about), if it names one: the first argument that is not an option. */
export function selectedCommand(argv: readonly string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return COMMANDS.some((c) => c.name === name) ? name : undefined;
}

/**
 * The `gradtrace` program. `load` says which commands get their full definition: "all" (tests, completeness
 * checks), "none", or the one name that is about to run; every other command is a stub listed under its summary.
 */
export async function buildProgram(load = "all"): Promise<Command> {
  const program: Command = new Command("gradtrace")
    .description("How predictable and how low-rank are your training gradients?")
    .version(packageVersion())
    .showHelpAfterError()
    .configureHelp({
      subcommandTerm: (cmd: Command): string =>
        (cmd.parent === program ? COMMANDS.find((c) => c.name === cmd.name())?.term : undefined) ??
        DEFAULT_HELP.subcommandTerm(cmd),
    });
  for (const entry of COMMANDS) {
    if (load === "all" || load === entry.name) (await entry.load())(program);
    else
      program.command(entry.name).action(() => {
        throw new Error(`command ${entry.name} was not loaded`);
      });
    program.commands.find((c) => c.name() === entry.name)!.summary(entry.summary);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = (await buildProgram(selectedCommand(argv) ?? "none")).exitOverride();
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    // Loaded here, not up front: --version and --help never need the core (a command that threw one has it loaded).
    const { exitCodeFor, GradtraceError } = await import("../core/index.ts");
    if (err instanceof GradtraceError) {
      process.stderr.write(`gradtrace: ${err.message}\n`);
      return exitCodeFor(err.code);
    }
    // Not a input problem we anticipated: one line for the user, the stack on request.
    if (process.env.GRADTRACE_DEBUG) throw err;
    process.stderr.write(
      `gradtrace: internal error: ${err instanceof Error ? err.message : String(err)} (set GRADTRACE_DEBUG=1 for the stack trace, and please report it)\n`,
    );
    return 1;
  }
}
