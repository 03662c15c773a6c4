/** @file Entry of the `gradtrace` command: parses arguments with commander and calls library functions; turns
 * GradtraceError codes into exit codes and one-line messages (never a stack trace for bad input). */
import { Command, CommanderError } from "commander";
import { exitCodeFor, GradtraceError } from "../core/index.ts";
// command modules (one import each; keep this list sorted)
import { registerAnalyzeCommand } from "./commands/analyze.ts";
import { registerConvertCommand } from "./commands/convert.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerLabCommand } from "./commands/lab.ts";
import { registerReproduceCommand } from "./commands/reproduce.ts";
import { registerServeCommand } from "./commands/serve.ts";
import { registerTrainCommand } from "./commands/train.ts";
import { registerZooCommand } from "./commands/zoo.ts";

export function buildProgram(): Command {
  const program = new Command("gradtrace")
    .description("How predictable and how low-rank are your training gradients?")
    .version("0.1.0")
    .showHelpAfterError();
  // command registrations (one line each; keep this list sorted)
  registerAnalyzeCommand(program);
  registerConvertCommand(program);
  registerDemoCommand(program);
  registerLabCommand(program);
  registerReproduceCommand(program);
  registerServeCommand(program);
  registerTrainCommand(program);
  registerZooCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
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
