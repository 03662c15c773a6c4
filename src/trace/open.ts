/** @file `openTrace`: the one entry point that turns a user-given path into a TraceReader. Where the trace is and
 * its layout come from locateTrace (locate.ts), unless `options.format` forces the layout. */

import { GradtraceError } from "../core/index.ts";
import { openNpyDir, openNpzDir, openSafetensorsDir } from "./dirReaders.ts";
import { GtraceReader } from "./gtraceReader.ts";
import { locateTrace } from "./locate.ts";
import { openManifest } from "./manifest.ts";
import type { OpenTraceOptions, TraceReader } from "./types.ts";

/**
 * Opens a trace of any supported layout: a trace file, a trace directory, or a run directory holding one .gtrace
 * (see locateTrace). The caller must close() it (temporary caches are deleted then).
 */
export function openTrace(p: string, options: OpenTraceOptions = {}): TraceReader {
  const { format, path } = locateTrace(p, options.format);
  switch (format) {
    case "safetensors-dir":
      return openSafetensorsDir(path, options);
    case "npz-dir":
      return openNpzDir(path, options);
    case "npy-dir":
      return openNpyDir(path, options);
    case "gtrace":
      return new GtraceReader(path, { verify: options.verify ?? "last" });
    case "manifest":
      return openManifest(path, options, openTrace);
    default:
      throw new GradtraceError("E_ARG", `openTrace: unknown format ${JSON.stringify(format)}`);
  }
}
