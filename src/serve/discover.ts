/** @file Finding the runs and lab results under the directory given to `gradtrace serve`, and fingerprinting a
 * trace cheaply so the cache and live mode can tell when it changed. Every trace found is a run: a `.gtrace` file,
 * or a directory of per-step files (safetensors, npz, npy) or with a `trace.json` manifest — judged by the trace
 * layer's detector (scanTraceEntries), the same one openTrace uses, so every run listed opens. Symbolic links are
 * followed like plain entries (a runs directory assembled from links is common; they are the user's own choice of
 * what to serve); a link back to a directory being walked is not entered, so a cycle ends; hidden entries are
 * skipped. */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import { type DirEntry, listEntries, scanTraceEntries } from "../trace/index.ts";
import { slugify } from "./validate.ts";

export interface FoundRun {
  readonly id: string;
  /** Relative to the served root, "/"-separated ("." when the root itself is the trace). */
  readonly relPath: string;
  readonly absPath: string;
  readonly isDirectory: boolean;
}

export interface FoundLab {
  readonly id: string;
  readonly relPath: string;
  readonly absPath: string;
}

export interface Discovery {
  readonly runs: FoundRun[];
  readonly labs: FoundLab[];
}

export interface DiscoverOptions {
  /** How deep below the root to look for traces. */
  readonly maxDepth?: number;
  /** Stop after this many directory entries (a guard against being pointed at `/`). */
  readonly maxEntries?: number;
}

/** Lab results are JSON files named like one (lab, spiked, sweep) or whose first 4 KB hold a sweep's keys. */
function isLabFile(file: string, name: string): boolean {
  if (!/\.json$/i.test(name) || name === "trace.json") return false;
  if (/lab|spiked|sweep/i.test(name)) return true;
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, "r");
    const head = Buffer.alloc(4096);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString("utf8");
    return /^\s*\{/.test(text) && /"(param|parameter|sweep)"\s*:/.test(text);
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Ids from relative paths; paths whose slugs collide get a short hash of the path so ids stay stable. */
function assignIds<T extends { relPath: string; absPath: string }>(
  items: readonly T[],
): (T & { id: string })[] {
  const bySlug = new Map<string, number>();
  const slugs = items.map((it) => slugify(it.relPath === "." ? path.basename(it.absPath) : it.relPath));
  for (const s of slugs) bySlug.set(s, (bySlug.get(s) ?? 0) + 1);
  return items.map((it, i) => {
    const slug = slugs[i];
    const id =
      bySlug.get(slug)! > 1
        ? `${slug}-${createHash("sha1").update(it.relPath).digest("hex").slice(0, 8)}`
        : slug;
    return { ...it, id };
  });
}

export function discover(
  root: string,
  { maxDepth = 6, maxEntries = 200_000 }: DiscoverOptions = {},
): Discovery {
  const absRoot = path.resolve(root);
  let rootStat: fs.Stats;
  try {
    rootStat = fs.statSync(absRoot);
  } catch {
    throw new GradtraceError("E_NOT_FOUND", `serve: ${root}: no such file or directory`);
  }
  if (rootStat.isFile()) {
    return {
      runs: assignIds([{ relPath: path.basename(absRoot), absPath: absRoot, isDirectory: false }]),
      labs: [],
    };
  }
  const runs: Omit<FoundRun, "id">[] = [];
  const labs: Omit<FoundLab, "id">[] = [];
  let seen = 0;
  // Real paths of the directories being walked: a symbolic link back up the tree (a cycle) is not entered, while
  // two links to one run both list it, each under its own path.
  const ancestors = new Set<string>();
  const walk = (dir: string, rel: string, depth: number): void => {
    let entries: DirEntry[];
    let real: string;
    try {
      real = fs.realpathSync(dir);
      if (ancestors.has(real)) return;
      entries = listEntries(dir);
    } catch {
      return; // unreadable directory: not ours to serve
    }
    seen += entries.length;
    if (seen > maxEntries) {
      throw new GradtraceError(
        "E_ARG",
        `serve: ${root}: more than ${maxEntries} entries; point serve at a runs directory`,
      );
    }
    const scan = scanTraceEntries(entries);
    // A per-step or manifest trace is one run (an ambiguous one too: opening it says why it cannot be read).
    if (scan.layouts.length > 0) {
      runs.push({ relPath: rel === "" ? "." : rel, absPath: dir, isDirectory: true });
      return;
    }
    ancestors.add(real);
    for (const e of entries) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const childRel = rel === "" ? e.name : `${rel}/${e.name}`;
      const child = path.join(dir, e.name);
      if (e.kind === "file" && scan.gtraceFiles.includes(e.name))
        runs.push({ relPath: childRel, absPath: child, isDirectory: false });
      else if (e.kind === "file" && isLabFile(child, e.name))
        labs.push({ relPath: childRel, absPath: child });
      else if (e.kind === "directory" && depth < maxDepth) walk(child, childRel, depth + 1);
    }
    ancestors.delete(real);
  };
  walk(absRoot, "", 0);
  return { runs: assignIds(runs), labs: assignIds(labs) };
}

/**
 * A cheap change detector for a trace: size and mtime of a file; for a directory, its entry count and mtime plus
 * size and mtime of its last entry by name (a per-step file still being written grows without touching the
 * directory) and of `trace.json` (a manifest rewritten in place). Returns null when the trace is gone.
 */
export function fingerprint(absPath: string, isDirectory: boolean): string | null {
  try {
    const st = fs.statSync(absPath);
    if (!isDirectory) return `f:${st.size}:${st.mtimeMs}`;
    const names = fs.readdirSync(absPath).filter((n) => !n.startsWith("."));
    names.sort();
    const last = names[names.length - 1];
    const lastSt = last === undefined ? null : fs.statSync(path.join(absPath, last));
    const manifest = names.includes("trace.json") ? fs.statSync(path.join(absPath, "trace.json")) : null;
    return [
      "d",
      names.length,
      st.mtimeMs,
      lastSt ? `${lastSt.size}:${lastSt.mtimeMs}` : "-",
      manifest ? `${manifest.size}:${manifest.mtimeMs}` : "-",
    ].join(":");
  } catch {
    return null;
  }
}
