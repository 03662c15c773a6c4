/** @file One writer per file: an advisory lock file `<file>.lock` created with O_EXCL, holding the writer's pid, host
 * and process start time. A second writer finds it, checks that the holder is alive, and is refused (E_LOCKED); a
 * lock left by a writer that died (SIGKILL, power loss) is recognised as stale and taken over.
 *
 * Why a lock file and not flock(2): Node has no flock without a native addon (which this package does not build),
 * and a lock file works the same from the Python logger (docs/trace-format.md states the protocol), on network file
 * systems where flock is unreliable, and for humans (`cat run.gtrace.lock` says who holds it). The price is stale
 * detection: a lock's holder is alive when `kill(pid, 0)` succeeds and, on Linux, its start time (from
 * /proc/<pid>/stat) is the one recorded, which rules out a recycled pid. A lock from another host cannot be checked
 * and is never broken automatically (the message says which file to delete). Readers never take the lock. */

import * as fs from "node:fs";
import * as os from "node:os";
import { GradtraceError } from "../core/index.ts";
import { ioError } from "./files.ts";

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** Process start time in clock ticks since boot (Linux), or null where unknown. */
  readonly started: string | null;
  readonly at: string;
}

export interface WriteLock {
  /** Path of the lock file. */
  readonly path: string;
  /** Removes the lock (only if it is still ours). Idempotent. */
  release(): void;
}

/** An empty or unreadable lock younger than this is a writer between create and write: treated as held. */
const FRESH_EMPTY_MS = 10_000;

export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

/** Start time of process `pid` (field 22 of /proc/<pid>/stat), or null where /proc is not available. */
function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: fields after it follow the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (owner.started === null) return true;
  const now = processStart(owner.pid);
  return now === null || now === owner.started;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid !== "number" || typeof v.host !== "string") return null;
    return {
      pid: v.pid,
      host: v.host,
      started: typeof v.started === "string" ? v.started : null,
      at: String(v.at ?? "?"),
    };
  } catch {
    return null;
  }
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw ioError(err, file, "reading the lock file");
  }
}

function lockedError(file: string, lock: string, owner: LockOwner | null, why: string): GradtraceError {
  const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.at}` : "a writer that is starting";
  return new GradtraceError(
    "E_LOCKED",
    `${file}: another writer (${who}) is writing this trace; refusing a second writer (${why}; lock file ${lock})`,
  );
}

/**
 * Takes the write lock of `file`, or throws E_LOCKED naming the holder. `what` names the caller in messages.
 * Stale locks (holder dead, same host) are broken by renaming them aside and checking that the renamed file is
 * the one judged stale, so two writers breaking the same stale lock cannot both win.
 */
export function acquireWriteLock(file: string, what: string): WriteLock {
  const lock = lockPathFor(file);
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    started: processStart(process.pid),
    at: new Date().toISOString(),
  };
  const content = JSON.stringify(me);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(lock, "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST")
        throw ioError(err, lock, `${what}: creating the lock`);
      const text = readText(lock);
      if (text === null) continue; // released meanwhile: try again
      const owner = parseOwner(text);
      if (owner === null) {
        let age = Number.POSITIVE_INFINITY;
        try {
          age = Date.now() - fs.statSync(lock).mtimeMs;
        } catch {
          continue;
        }
        if (age < FRESH_EMPTY_MS) throw lockedError(file, lock, null, "its lock is being written");
      } else if (owner.host !== me.host) {
        throw lockedError(
          file,
          lock,
          owner,
          "held from another host; delete the lock file if that writer is gone",
        );
      } else if (isAlive(owner)) {
        throw lockedError(file, lock, owner, "its holder is alive");
      }
      breakStale(lock, text, file);
      continue;
    }
    try {
      fs.writeSync(fd, content);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(lock, { force: true });
      throw ioError(err, lock, `${what}: writing the lock`);
    }
    fs.closeSync(fd);
    let released = false;
    return {
      path: lock,
      release(): void {
        if (released) return;
        released = true;
        // Only remove it if it is still ours (a crashed-and-broken lock may have been taken over meanwhile).
        if (readText(lock) === content) fs.rmSync(lock, { force: true });
      },
    };
  }
  throw new GradtraceError("E_LOCKED", `${file}: could not take the write lock ${lock} (contended)`);
}

/** Moves a stale lock aside, after checking that what was moved is what was judged stale. */
function breakStale(lock: string, staleText: string, file: string): void {
  const aside = `${lock}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    fs.renameSync(lock, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // someone else broke it first
    throw ioError(err, lock, "breaking a stale lock");
  }
  const moved = readText(aside);
  if (moved === staleText) {
    fs.rmSync(aside, { force: true });
    return;
  }
  // We moved a fresh lock another writer had just taken: put it back (link fails if yet another appeared).
  try {
    fs.linkSync(aside, lock);
  } catch {
    // the lock slot is taken again; that writer wins
  }
  fs.rmSync(aside, { force: true });
  throw lockedError(
    file,
    lock,
    moved === null ? null : parseOwner(moved),
    "it took over a stale lock just now",
  );
}
