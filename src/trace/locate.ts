/** @file The one layout detector: which trace a user-given path holds. openTrace (so `analyze`, `convert`, the
 * library) and the dashboard's run discovery (src/serve/discover.ts) both judge a directory with scanTraceEntries,
 * so what `gradtrace serve` lists as a run is exactly what `gradtrace analyze` opens. Symbolic links are followed
 * (a directory of step files linked from elsewhere, or a linked run directory, is an ordinary trace). */

import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import { ioError, readRegion } from "../io/index.ts";
import { GTRACE_MAGIC } from "./gtraceFormat.ts";
import { parseStepName } from "./steps.ts";
import type { TraceFormat } from "./types.ts";

/** File name of a manifest inside a trace directory. */
export const MANIFEST_NAME = "trace.json";
/** Extension of gradtrace's own single-file layout. */
export const GTRACE_EXTENSION = ".gtrace";

export interface DirEntry {
  readonly name: string;
  /** What the entry is once symbolic links are resolved; "other" for dangling links, sockets, devices. */
  readonly kind: "file" | "directory" | "other";
}

/** The entries of `dir` sorted by name, symbolic links resolved to what they point at. */
export function listEntries(dir: string): DirEntry[] {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw ioError(err, dir, "listing directory");
  }
  const entries = dirents.map((d): DirEntry => {
    if (d.isFile()) return { name: d.name, kind: "file" };
    if (d.isDirectory()) return { name: d.name, kind: "directory" };
    if (!d.isSymbolicLink()) return { name: d.name, kind: "other" };
    try {
      const st = fs.statSync(path.join(dir, d.name));
      return { name: d.name, kind: st.isFile() ? "file" : st.isDirectory() ? "directory" : "other" };
    } catch {
      return { name: d.name, kind: "other" }; // dangling link
    }
  });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What a directory holds, trace-wise. */
export interface TraceDirectoryScan {
  /** Directory layouts present: ["manifest"] alone when trace.json is there (the manifest names its own data, which
   * may sit beside it); otherwise each of safetensors-dir, npz-dir, npy-dir that has step_<n> entries. */
  readonly layouts: readonly TraceFormat[];
  /** `.gtrace` files directly in the directory, by name (hidden names never count). */
  readonly gtraceFiles: readonly string[];
}

/** Classifies a directory from its entries (names and kinds only, no file is read). */
export function scanTraceEntries(entries: readonly DirEntry[]): TraceDirectoryScan {
  const layouts = new Set<TraceFormat>();
  const gtraceFiles: string[] = [];
  let manifest = false;
  for (const e of entries) {
    // Hidden names are editors' and writers' temporaries, never a trace.
    if (e.name.startsWith(".")) continue;
    if (e.kind === "file" && e.name === MANIFEST_NAME) manifest = true;
    else if (e.kind === "file") {
      if (parseStepName(e.name, ".safetensors") !== null) layouts.add("safetensors-dir");
      else if (parseStepName(e.name, ".npz") !== null) layouts.add("npz-dir");
      else if (e.name.endsWith(GTRACE_EXTENSION)) gtraceFiles.push(e.name);
    } else if (e.kind === "directory" && parseStepName(e.name, "") !== null) layouts.add("npy-dir");
  }
  return { layouts: manifest ? ["manifest"] : [...layouts], gtraceFiles };
}

/** A trace found on disk: its layout and the path its reader opens (the manifest file for "manifest", the .gtrace
 * file for "gtrace" even when the user named its directory, the directory for the per-step layouts). */
export interface TraceLocation {
  readonly format: TraceFormat;
  readonly path: string;
}

const EXPECTED =
  "expected a .gtrace file, a trace.json manifest, step_<n>.safetensors or step_<n>.npz files, or step_<n>/ " +
  "directories of .npy";

/**
 * Where the trace in `p` is and its layout. `p` may be a trace file (a .gtrace, or a .json manifest), a trace
 * directory (trace.json, or per-step files), or a directory holding exactly one .gtrace file — the run directory
 * `gradtrace train --out DIR` and `gradtrace demo` write (trace.gtrace + run.json, or trace.json for sketched runs).
 * `format` forces the layout (a directory then resolves to its manifest or its single .gtrace for those two).
 * Errors (GradtraceError): E_NOT_FOUND when `p` does not exist; E_FORMAT when it holds no trace, or several (the
 * message lists them; pass `format` or name a file).
 */
export function locateTrace(p: string, format?: TraceFormat): TraceLocation {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch (err) {
    throw ioError(err, p, "looking for a trace");
  }
  if (stat.isFile()) {
    if (format) return { format, path: p };
    if (stat.size >= GTRACE_MAGIC.length && new TextDecoder().decode(readRegion(p, 0, 6)) === GTRACE_MAGIC)
      return { format: "gtrace", path: p };
    if (p.endsWith(".json")) return { format: "manifest", path: p };
    throw new GradtraceError("E_FORMAT", `${p}: not a gtrace file (no "GTRACE" magic) nor a .json manifest`);
  }
  if (!stat.isDirectory()) throw new GradtraceError("E_FORMAT", `${p}: neither a file nor a directory`);
  const entries = listEntries(p);
  const scan = scanTraceEntries(entries);
  if (format === "manifest") return { format, path: path.join(p, MANIFEST_NAME) };
  if (format === "gtrace") {
    if (scan.gtraceFiles.length === 1) return { format, path: path.join(p, scan.gtraceFiles[0]) };
    throw new GradtraceError(
      "E_FORMAT",
      scan.gtraceFiles.length === 0
        ? `${p}: no .gtrace file in this directory`
        : `${p}: holds ${scan.gtraceFiles.length} .gtrace files (${listed(scan.gtraceFiles)}); name the one to open`,
    );
  }
  if (format) return { format, path: p };
  if (scan.layouts[0] === "manifest") return { format: "manifest", path: path.join(p, MANIFEST_NAME) };
  const candidates: TraceLocation[] = [
    ...scan.layouts.map((f) => ({ format: f, path: p })),
    ...scan.gtraceFiles.map((name) => ({ format: "gtrace" as const, path: path.join(p, name) })),
  ];
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    const runs = entries
      .filter((e) => e.kind === "directory" && holdsTrace(path.join(p, e.name)))
      .map((e) => e.name);
    throw new GradtraceError(
      "E_FORMAT",
      `${p}: no trace found (${EXPECTED})${
        runs.length > 0
          ? `; its sub-directories ${listed(runs)} hold traces: name one, or look at them all with gradtrace serve`
          : ""
      }`,
    );
  }
  if (scan.layouts.length === 0) {
    throw new GradtraceError(
      "E_FORMAT",
      `${p}: holds ${scan.gtraceFiles.length} .gtrace files (${listed(scan.gtraceFiles)}); name the one to open ` +
        "(gradtrace serve shows a directory of runs side by side)",
    );
  }
  const found = [...scan.layouts.map((f) => `${f} steps`), ...scan.gtraceFiles];
  throw new GradtraceError(
    "E_FORMAT",
    `${p}: ambiguous, holds ${found.join(" and ")}; pass a format (--format) or name a file`,
  );
}

/** Whether a directory holds a trace by the rules above (for a hint; unreadable means no). */
function holdsTrace(dir: string): boolean {
  try {
    const scan = scanTraceEntries(listEntries(dir));
    return scan.layouts.length > 0 || scan.gtraceFiles.length > 0;
  } catch {
    return false;
  }
}

function listed(names: readonly string[]): string {
  return names.length <= 4 ? names.join(", ") : `${names.slice(0, 4).join(", ")}, …`;
}
