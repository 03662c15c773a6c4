/** @file The one error class of gradtrace: a stable `code` the CLI maps to an exit code, and a message that names
 * the file / tensor / step / field at fault and what was expected. `CorruptDataError` is the one subclass: a
 * (step, tensor) whose stored checksum fails, carried with its coordinates so a reader's caller can exclude that
 * step and go on (or stop, under `--strict`). */

export type ErrorCode =
  | "E_ARG" // bad option or argument value
  | "E_SHAPE" // shapes disagree
  | "E_FORMAT" // a file does not follow its format (bad header, bad dtype, lying lengths, ...)
  | "E_TRUNCATED" // a file ends before its declared content
  | "E_CHECKSUM" // a record's checksum does not match
  | "E_NOT_FOUND" // a file, tensor, run or step that does not exist
  | "E_EXISTS" // refusing to overwrite an existing output
  | "E_LOCKED" // another live writer holds the file
  | "E_IO" // the system refused a read or write: disk full, permission denied, read-only file system, I/O error
  | "E_NUMERIC" // NaN/Inf or a numerical failure (non-convergence)
  | "E_UNSUPPORTED" // a valid input that this version does not handle
  | "E_QUEUE"; // the job queue (Redis) cannot be reached, lost the run, or a job failed for a reason that is not its data

export class GradtraceError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GradtraceError";
    this.code = code;
  }
}

/** Where a checksum failed: the step (as logged), the tensor (or its optimizer state), and the file. */
export interface CorruptionSite {
  readonly step: number;
  readonly tensor: string;
  readonly file: string;
}

/** A payload whose checksum fails (code E_CHECKSUM). Readers throw it from whole and partial reads alike, before
 * handing out any byte of that payload; the analysis catches it to exclude the step. */
export class CorruptDataError extends GradtraceError implements CorruptionSite {
  readonly step: number;
  readonly tensor: string;
  readonly file: string;
  constructor(site: CorruptionSite, message: string) {
    super("E_CHECKSUM", message);
    this.name = "CorruptDataError";
    this.step = site.step;
    this.tensor = site.tensor;
    this.file = site.file;
  }
}

/** Exit code for each error code: 2 for usage errors, 3 for bad input data, 4 for outputs that exist or are held by
 * another writer, 5 when the system refused the I/O (disk full, permissions, read-only), 1 otherwise. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "E_ARG":
      return 2;
    case "E_FORMAT":
    case "E_TRUNCATED":
    case "E_CHECKSUM":
    case "E_SHAPE":
    case "E_NOT_FOUND":
      return 3;
    case "E_EXISTS":
    case "E_LOCKED":
      return 4;
    case "E_IO":
      return 5;
    default:
      return 1;
  }
}
