/** @file `openTrace` and `detectTraceFormat`: the one entry point that turns a user-given path into a TraceReader,
 * detecting the layout from what is on disk unless `options.format` forces one. */

import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import { ioError, readRegion } from "../io/index.ts";
import { listDir, openNpyDir, openNpzDir, openSafetensorsDir } from "./dirReaders.ts";
import { GTRACE_MAGIC } from "./gtraceFormat.ts";
import { GtraceReader } from "./gtraceReader.ts";
import { openManifest } from "./manifest.ts";
import { parseStepName } from "./steps.ts";
import type { OpenTraceOptions, TraceFormat, TraceReader } from "./types.ts";

export const MANIFEST_NAME = "trace.json";

/**
 * Layout of `p`: a file starting with "GTRACE" → gtrace; a .json file or a directory holding trace.json →
 * manifest; a directory of step_<n>.safetensors / step_<n>.npz / step_<n>/ → the matching directory layout.
 * Several step layouts in one directory are ambiguous (E_FORMAT: pass `format`).
 */
export function detectTraceFormat(p: string): TraceFormat {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch (err) {
    throw ioError(err, p, "detecting the trace format");
  }
  if (stat.isFile()) {
    if (stat.size >= 6 && new TextDecoder().decode(readRegion(p, 0, 6)) === GTRACE_MAGIC) return "gtrace";
    if (p.endsWith(".json")) return "manifest";
    throw new GradtraceError("E_FORMAT", `${p}: not a gtrace file (no "GTRACE" magic) nor a .json manifest`);
  }
  if (!stat.isDirectory()) throw new GradtraceError("E_FORMAT", `${p}: neither a file nor a directory`);
  const found = new Set<TraceFormat>();
  for (const d of listDir(p)) {
    if (d.isFile() && d.name === MANIFEST_NAME) return "manifest";
    if (d.isFile() && parseStepName(d.name, ".safetensors") !== null) found.add("safetensors-dir");
    else if (d.isFile() && parseStepName(d.name, ".npz") !== null) found.add("npz-dir");
    else if (d.isDirectory() && parseStepName(d.name, "") !== null) found.add("npy-dir");
  }
  if (found.size === 1) return [...found][0];
  if (found.size === 0) {
    throw new GradtraceError(
      "E_FORMAT",
      `${p}: no trace found (expected trace.json, step_<n>.safetensors, step_<n>.npz or step_<n>/ directories of .npy)`,
    );
  }
  throw new GradtraceError(
    "E_FORMAT",
    `${p}: ambiguous layout, holds ${[...found].join(" and ")} steps; pass a format`,
  );
}

/** Opens a trace of any supported layout. The caller must close() it (temporary caches are deleted then). */
export function openTrace(p: string, options: OpenTraceOptions = {}): TraceReader {
  const format = options.format ?? detectTraceFormat(p);
  switch (format) {
    case "safetensors-dir":
      return openSafetensorsDir(p, options);
    case "npz-dir":
      return openNpzDir(p, options);
    case "npy-dir":
      return openNpyDir(p, options);
    case "gtrace":
      return new GtraceReader(p, { verify: options.verify ?? "last" });
    case "manifest": {
      const file = fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, MANIFEST_NAME) : p;
      return openManifest(file, options, openTrace);
    }
    default:
      throw new GradtraceError("E_ARG", `openTrace: unknown format ${JSON.stringify(format)}`);
  }
}
