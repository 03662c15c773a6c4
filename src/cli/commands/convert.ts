/** @file `gradtrace convert <src> <dst> --to <layout>`: rewrite a trace in another layout, streaming step by step
 * (e.g. deflated .npz → .gtrace for random access and per-record checksums, or any layout → safetensors for other
 * tools). Steps whose data fails its checksum are left out with a warning, or stop the conversion under --strict. */
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
    .option(
      "--strict",
      "fail (exit 3) on corrupt data — a record or member failing its checksum — instead of leaving that step out",
      false,
    )
    .action(
      (
        src: string,
        dst: string,
        flags: { to: Target; format?: TraceFormat; compress: boolean; force: boolean; strict: boolean },
      ) => {
        const reader = openTrace(src, flags.format ? { format: flags.format } : {});
        try {
          const { steps, skipped } = convertTrace(reader, dst, {
            format: flags.to,
            force: flags.force,
            compress: flags.compress,
            strict: flags.strict,
          });
          for (const p of [...reader.info.problems, ...skipped])
            process.stderr.write(`warning: ${p.message}\n`);
          process.stdout.write(
            `wrote ${dst} (${flags.to}, ${steps} steps, ${reader.info.tensors.length} tensors)\n`,
          );
        } finally {
          reader.close();
        }
      },
    );
}
