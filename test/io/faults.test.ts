/** @file Disk full, permissions and read-only file systems, injected at the write layer (node:fs is wrapped for this
 * file so any machine can run it; test/io/mounts.test.ts provokes the same errors for real where the machine allows
 * mounts). Every writer — traces (gtrace append and header, npz/safetensors/npy files), reports (--json, --html,
 * --csv), the serve cache and the lab's outputs — must fail with one E_IO error naming the file and the cause (exit
 * code 5 from the CLI), and leave no partial file under the final name: an atomic write's temp file is removed, a
 * gtrace record that could not be written whole is cut off. */
import * as realFs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

/** One injected fault: the first matching call fails with `code` (writes may first write `partialBytes`). */
interface Fault {
  op: "open" | "write" | "fsync" | "mkdir";
  /** Substring of the path (for writes and fsync: the path the descriptor was opened with). */
  match: string;
  code: "ENOSPC" | "EACCES" | "EROFS" | "EIO";
  partialBytes?: number;
  /** Fail only after this many matching calls succeeded. */
  after?: number;
}
const state = vi.hoisted(() => ({ faults: [] as Fault[], fdPaths: new Map<number, string>(), hits: 0 }));

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const fail = (code: string, syscall: string, p: string) =>
    Object.assign(new Error(`${code}: injected, ${syscall} '${p}'`), { code, syscall, path: p });
  const take = (op: Fault["op"], p: string | undefined): Fault | null => {
    if (p === undefined) return null;
    const f = state.faults.find((x) => x.op === op && p.includes(x.match));
    if (!f) return null;
    if ((f.after ?? 0) > 0) {
      f.after = (f.after ?? 0) - 1;
      return null;
    }
    state.faults.splice(state.faults.indexOf(f), 1);
    state.hits++;
    return f;
  };
  const openSync = (p: import("node:fs").PathLike, ...rest: unknown[]): number => {
    const f = take("open", String(p));
    if (f) throw fail(f.code, "open", String(p));
    const fd = (fs.openSync as (...a: unknown[]) => number)(p, ...rest);
    state.fdPaths.set(fd, String(p));
    return fd;
  };
  const writeSync = (fd: number, buf: unknown, ...rest: unknown[]): number => {
    const f = take("write", state.fdPaths.get(fd));
    if (f) {
      if (f.partialBytes && buf instanceof Uint8Array) {
        const [off = 0, , pos] = rest as [number?, number?, number?];
        fs.writeSync(fd, buf, off, Math.min(f.partialBytes, buf.byteLength - off), pos ?? null);
      }
      throw fail(f.code, "write", state.fdPaths.get(fd)!);
    }
    return (fs.writeSync as (...a: unknown[]) => number)(fd, buf, ...rest);
  };
  const fsyncSync = (fd: number): void => {
    const f = take("fsync", state.fdPaths.get(fd));
    if (f) throw fail(f.code, "fsync", state.fdPaths.get(fd)!);
    fs.fsyncSync(fd);
  };
  const mkdirSync = (p: import("node:fs").PathLike, ...rest: unknown[]) => {
    const f = take("mkdir", String(p));
    if (f) throw fail(f.code, "mkdir", String(p));
    return (fs.mkdirSync as (...a: unknown[]) => unknown)(p, ...rest);
  };
  const wrapped = { ...fs, openSync, writeSync, fsyncSync, mkdirSync };
  return { ...wrapped, default: wrapped };
});

const { exitCodeFor } = await import("../../src/core/index.ts");
const { writeFileAtomic } = await import("../../src/io/index.ts");
const { createGtraceWriter, openTrace } = await import("../../src/trace/index.ts");
const { ResultCache } = await import("../../src/serve/cache.ts");
const { runCli, TINY_LAB } = await import("../cli/run.ts");
const { expectError, randomValues } = await import("../trace/helpers.ts");

const CAUSE = {
  ENOSPC: /no space left on the device \(ENOSPC\)/,
  EACCES: /permission denied \(EACCES\)/,
  EROFS: /read-only file system \(EROFS\)/,
  EIO: /input\/output error \(EIO\)/,
} as const;

let root: string;
let trace: string;
beforeAll(() => {
  root = realFs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-faults-"));
  trace = path.join(root, "run.gtrace");
  const w = createGtraceWriter(trace, { tensors: [{ name: "w", shape: [5, 4] }] });
  for (let t = 0; t < 8; t++) w.append(t, { w: randomValues(20, t) });
  w.close();
});
afterAll(() => realFs.rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  expect(state.faults, "an injected fault was never reached").toEqual([]);
  state.faults = [];
});

/** A fresh, empty output directory. */
function outDir(): string {
  return realFs.mkdtempSync(path.join(root, "out-"));
}

it("maps E_IO to exit code 5", () => {
  expect(exitCodeFor("E_IO")).toBe(5);
});

describe.each(["ENOSPC", "EACCES", "EROFS"] as const)("%s", (code) => {
  it("atomic writes: one E_IO naming the file and the cause, nothing left under the final name or beside it", () => {
    const dir = outDir();
    const target = path.join(dir, "report.json");
    // ENOSPC strikes mid-write (half the bytes are out); permissions and read-only refuse the temp file's creation.
    state.faults.push(
      code === "ENOSPC"
        ? { op: "write", match: "report.json", code, partialBytes: 10 }
        : { op: "open", match: "report.json", code },
    );
    const e = expectError(
      () => writeFileAtomic(target, "x".repeat(100_000), { what: "--json" }),
      "E_IO",
      CAUSE[code],
    );
    expect(e.message).toContain(target);
    expect(realFs.readdirSync(dir)).toEqual([]);
  });

  it("gtrace append: E_IO naming file and step; the record that failed is cut off, earlier steps read clean", () => {
    const dir = outDir();
    const file = path.join(dir, "t.gtrace");
    const w = createGtraceWriter(file, { tensors: [{ name: "w", shape: [64] }] });
    w.append(0, { w: randomValues(64, 0) });
    w.append(1, { w: randomValues(64, 1) });
    state.faults.push({ op: "write", match: "t.gtrace", code, partialBytes: 100 });
    expectError(
      () => w.append(2, { w: randomValues(64, 2) }),
      "E_IO",
      new RegExp(`${file}: appending step 2 failed: .*${code}`),
    );
    // The writer is still usable once the cause is gone: the next record goes where the failed one started.
    w.append(3, { w: randomValues(64, 3) });
    w.close();
    const r = openTrace(file);
    expect(r.info.steps).toEqual([0, 1, 3]);
    expect(r.info.problems.filter((p) => p.kind !== "missing-step")).toEqual([]);
    expect(Array.from(r.readTensor(2, "w"))).toEqual(Array.from(randomValues(64, 3)));
    r.close();
  });

  it("gtrace create: the lock or the header cannot be written → E_IO, no trace and no lock left", () => {
    const dir = outDir();
    const file = path.join(dir, "new.gtrace");
    state.faults.push({ op: "open", match: code === "ENOSPC" ? ".tmp" : "new.gtrace.lock", code });
    expectError(
      () => createGtraceWriter(file, { tensors: [{ name: "w", shape: [4] }] }),
      "E_IO",
      CAUSE[code],
    );
    expect(realFs.readdirSync(dir)).toEqual([]);
  });

  it("CLI reports (--json, --html, --csv): exit code 5, one line naming the file and the cause", async () => {
    const dir = outDir();
    for (const [flag, name, fault] of [
      ["--json", "a.json", { op: "open", match: "a.json", code }],
      ["--html", "a.html", { op: "write", match: "a.html", code, partialBytes: 5 }],
      ["--csv", "csv", { op: "mkdir", match: "csv", code }],
    ] as const) {
      state.faults.push({ ...fault });
      const r = await runCli("analyze", trace, flag, path.join(dir, name), "--no-bootstrap", "-q");
      expect(r.code, r.err).toBe(5);
      expect(r.err).toMatch(new RegExp(`^gradtrace: ${path.join(dir, name)}: ${flag}: .*${code}\\)\\n$`));
      expect(realFs.readdirSync(dir)).toEqual([]);
    }
  });

  it("convert: exit code 5 and no partial step file", async () => {
    const dir = outDir();
    const out = path.join(dir, "npz");
    state.faults.push({ op: "write", match: "step_000003.npz", code, partialBytes: 7 });
    const r = await runCli("convert", trace, out, "--to", "npz-dir");
    expect(r.code, r.err).toBe(5);
    expect(r.err).toMatch(CAUSE[code]);
    expect(realFs.readdirSync(out).sort()).toEqual(["step_000000.npz", "step_000001.npz", "step_000002.npz"]);
  });

  it("serve cache: E_IO from the write, neither the result nor its meta file left behind", () => {
    const dir = path.join(outDir(), ".gradtrace-cache");
    const cache = new ResultCache(dir);
    state.faults.push({ op: "open", match: "run1.meta.json", code });
    const full = {
      cacheVersion: 3,
      fingerprint: "f",
      optionsKey: "o",
      analyzedAt: "now",
      stepIndices: [],
      result: {},
    };
    expectError(
      () => cache.write("run1", full as never, { ...full, headline: {} } as never),
      "E_IO",
      CAUSE[code],
    );
    // The full result went first and is complete; the meta file that points at it does not exist, so the cache
    // never serves a half-written pair (the store logs the error and keeps serving its in-memory result).
    expect(realFs.readdirSync(dir)).toEqual(["run1.json"]);
  });

  it("lab outputs (gradtrace lab spiked --json): exit code 5, no file", async () => {
    const dir = outDir();
    state.faults.push({ op: "open", match: "lab.json", code });
    const r = await runCli(...TINY_LAB, "--json", path.join(dir, "lab.json"), "-q");
    expect(r.code, r.err).toBe(5);
    expect(r.err).toMatch(CAUSE[code]);
    expect(realFs.readdirSync(dir)).toEqual([]);
  });
});

it("a failing fsync (EIO) of a gtrace record is an E_IO error and the record is cut off", () => {
  const dir = outDir();
  const file = path.join(dir, "s.gtrace");
  const w = createGtraceWriter(file, { tensors: [{ name: "w", shape: [8] }] });
  w.append(0, { w: randomValues(8, 0) });
  state.faults.push({ op: "fsync", match: "s.gtrace", code: "EIO" });
  expectError(() => w.append(1, { w: randomValues(8, 1) }), "E_IO", CAUSE.EIO);
  w.close();
  const r = openTrace(file);
  expect(r.info.steps).toEqual([0]);
  expect(r.info.problems).toEqual([]);
  r.close();
});
