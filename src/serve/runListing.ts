/** @file The run store's listing: the runs and spiked-lab results found under the served directory, by id, and
 * the paths shown for them (relative to the served directory, which never leaks into text sent to clients). */
import * as path from "node:path";
import { GradtraceError } from "../core/index.ts";
import type { LabListEntry, LabResponse, RunListEntry } from "./api-types.ts";
import { type Discovery, discover, type FoundLab, fingerprint } from "./discover.ts";
import { type LabData, readLab } from "./lab.ts";
import { newRunState, type RunState, runEntry } from "./runState.ts";

export class RunListing {
  readonly root: string;
  /** Directory that run paths are relative to (the root, or the folder holding a single trace). */
  readonly displayBase: string;
  /** What was found at start-up (added by the store once its cache is ready). */
  readonly initial: Discovery;
  private readonly runs = new Map<string, RunState>();
  private readonly labs = new Map<string, FoundLab>();
  private readonly labCache = new Map<string, { key: string; data: LabData }>();

  constructor(root: string) {
    this.root = path.resolve(root);
    this.initial = discover(this.root);
    // A single trace (file or trace directory) keeps its cache next to it, not inside a trace directory.
    const single = this.initial.runs.length === 1 && this.initial.runs[0].absPath === this.root;
    this.displayBase = single ? path.dirname(this.root) : this.root;
  }

  /** Looks at the served directory again. */
  discover(): Discovery {
    return discover(this.root);
  }

  /** Adds the runs and labs newly found (runs whose trace disappeared are kept); `onAdded` sees each new run
   * once it is listed. Returns the new runs' ids. */
  add(found: Discovery, onAdded: (s: RunState) => void): string[] {
    const added: string[] = [];
    for (const f of found.runs) {
      if (this.runs.has(f.id)) continue;
      const s = newRunState(f, fingerprint(f.absPath, f.isDirectory));
      this.runs.set(f.id, s);
      added.push(f.id);
      onAdded(s);
    }
    for (const l of found.labs) this.labs.set(l.id, l);
    return added;
  }

  has(id: string): boolean {
    return this.runs.has(id);
  }

  state(id: string): RunState {
    const s = this.runs.get(id);
    if (!s) throw new GradtraceError("E_NOT_FOUND", `run ${JSON.stringify(id)}: no such run`);
    return s;
  }

  states(): IterableIterator<RunState> {
    return this.runs.values();
  }

  entry(id: string): RunListEntry {
    return runEntry(this.state(id));
  }

  list(): RunListEntry[] {
    return [...this.runs.values()].map(runEntry);
  }

  labList(): LabListEntry[] {
    const out: LabListEntry[] = [];
    for (const id of this.labs.keys()) {
      try {
        const d = this.lab(id);
        out.push({ id, path: d.path, title: d.title, parameter: d.parameter, points: d.values.length });
      } catch {
        // not a lab file after all (discovery goes by name); leave it out of the list
      }
    }
    return out;
  }

  lab(id: string): LabResponse {
    const found = this.labs.get(id);
    if (!found) throw new GradtraceError("E_NOT_FOUND", `lab ${JSON.stringify(id)}: no such lab result`);
    const key = fingerprint(found.absPath, false);
    const hit = this.labCache.get(id);
    if (hit && hit.key === key) return { ...hit.data, id, path: found.relPath };
    const data = readLab(found.absPath, found.relPath);
    this.labCache.set(id, { key: key ?? "", data });
    return { ...data, id, path: found.relPath };
  }

  /** The served directory's absolute path replaced by "." in text shown to clients (errors, trace problems). */
  redact(text: string): string {
    const base = this.displayBase;
    return text.split(`${base}${path.sep}`).join("").split(base).join(".");
  }
}
