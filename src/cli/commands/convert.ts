/** @file `gradtrace convert <src> <dst> --to <layout>`: rewrite a trace in another layout, streaming step by step
 * (e.g. deflated .npz → .gtrace for random access, or any layout → safetensors for other tools). */
import type { Command } from "commander";
import { GradtraceError } from "../../core/index.ts";
import type { TraceFormat } from "../../trace/index.ts";
import { convertTrace, openTrace } from "../../trace/index.ts";

const TARGETS = ["gtrace", "safetensors-dir", "npz-dir", "npy-dir"] as const;
type Target = (typeof TARGETS)[number];

export function registerConvertCommand(program: Command): void {
  program
    .command("convert")
    .description("Rewrite a gradient trace in another layout (streaming; the source is never modified).")
    .argument("<src>", "trace to read (any layout gradtrace reads, or a run directory holding one)")
    .argument("<dst>", "output: a .gtrace file, or a directory for the *-dir layouts")
    .requiredOption("--to <layout>", `output layout: ${TARGETS.join(", ")}`, (v: string) => {
      if (!(TARGETS as readonly string[]).includes(v)) {
        throw new GradtraceError("E_ARG", `--to: "${v}" is not one of ${TARGETS.join(", ")}`);
      }
      return v as Target;
    })
    .option("--format <layout>", "force the source layout instead of detecting it")
    .option("--compress", "deflate npz members (npz-dir only)", false)
    .option("-f, --force", "overwrite an existing output", false)
    .action(
      (
        src: string,
        dst: string,
        flags: { to: Target; format?: TraceFormat; compress: boolean; force: boolean },
      ) => {
        const reader = openTrace(src, flags.format ? { format: flags.format } : {});
        try {
          convertTrace(reader, dst, { format: flags.to, force: flags.force, compress: flags.compress });
          for (const p of reader.info.problems) process.stderr.write(`warning: ${p.message}\n`);
          process.stdout.write(
            `wrote ${dst} (${flags.to}, ${reader.info.steps.length} steps, ${reader.info.tensors.length} tensors)\n`,
          );
        } finally {
          reader.close();
        }
      },
    );
}
