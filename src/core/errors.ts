/** @file The one error class of gradtrace: a stable `code` the CLI maps to an exit code, and a message that names
 * the file / tensor / step / field at fault and what was expected. */

export type ErrorCode =
  | "E_ARG" // bad option or argument value
  | "E_SHAPE" // shapes disagree
  | "E_FORMAT" // a file does not follow its format (bad header, bad dtype, lying lengths, ...)
  | "E_TRUNCATED" // a file ends before its declared content
  | "E_CHECKSUM" // a record's checksum does not match
  | "E_NOT_FOUND" // a file, tensor, run or step that does not exist
  | "E_EXISTS" // refusing to overwrite an existing output
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

/** Exit code for each error code: 2 for usage errors, 3 for bad input data, 4 for existing outputs, 1 otherwise. */
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
      return 4;
    default:
      return 1;
  }
}
