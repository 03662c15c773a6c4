/** @file The same failures as test/io/faults.test.ts, provoked for real where the machine allows it (root with mount
 * rights, e.g. this development machine; skipped elsewhere, where the injected versions still run): a 128 KiB tmpfs
 * that fills up (ENOSPC), a read-only bind mount (EROFS), and a directory the process may not write — root ignores
 * permission bits, so that check runs the CLI as the unprivileged user 65534 (EACCES). */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/index.ts";
import { writeFileAtomic } from "../../src/io/index.ts";
import { RunStore, traceEngine } from "../../src/serve/index.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { runCli, TINY_LAB } from "../cli/run.ts";
import { expectError, randomValues } from "../trace/helpers.ts";

const BIN = path.resolve(import.meta.dirname, "../../bin/gradtrace.js");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-mounts-"));
const full = path.join(root, "full");
const src = path.join(root, "src");
const ro = path.join(root, "ro");
const mounted: string[] = [];

function mount(args: string[]): boolean {
  try {
    execFileSync("mount", args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const isRoot = process.getuid?.() === 0;
fs.mkdirSync(full);
fs.mkdirSync(src);
fs.mkdirSync(ro);
const canMount = isRoot && mount(["-t", "tmpfs", "-o", "size=128k", "tmpfs", full]) && mounted.push(full) > 0;
const canBind =
  canMount && mount(["--bind", src, ro]) && mounted.push(ro) > 0 && mount(["-o", "remount,bind,ro", ro]);

afterAll(() => {
  for (const m of mounted.reverse()) {
    try {
      execFileSync("umount", [m], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

function writeTrace(file: string, steps = 6, numel = 20): void {
  const w = createGtraceWriter(file, { tensors: [{ name: "w", shape: [numel] }] });
  for (let t = 0; t < steps; t++) w.append(t, { w: randomValues(numel, t) });
  w.close();
}

/** Fills the tmpfs until at most `leave` bytes are free; returns the filler file. */
function fill(leave: number): string {
  const filler = path.join(full, "filler");
  const fd = fs.openSync(filler, "w");
  const chunk = new Uint8Array(1024);
  try {
    while (fs.statfsSync(full).bavail * fs.statfsSync(full).bsize > leave) fs.writeSync(fd, chunk);
  } catch {
    // full
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

const trace = path.join(src, "run.gtrace");
beforeAll(() => writeTrace(trace, 12));

describe.skipIf(!canMount)("a full disk (128 KiB tmpfs)", () => {
  it("atomic write of a report: E_IO ENOSPC naming the file, nothing left", () => {
    const target = path.join(full, "big.json");
    expectError(
      () => writeFileAtomic(target, "x".repeat(1 << 20), { what: "--json" }),
      "E_IO",
      /big\.json: --json: atomic write failed: no space left on the device \(ENOSPC\)/,
    );
    expect(fs.readdirSync(full)).toEqual([]);
  });

  it("gtrace writer: appends until the disk is full, the failing record is cut off, appending resumes once there is room", () => {
    const file = path.join(full, "t.gtrace");
    const filler = path.join(full, "room");
    fs.writeFileSync(filler, new Uint8Array(32 << 10));
    const w = createGtraceWriter(file, { tensors: [{ name: "w", shape: [2048] }] });
    let step = 0;
    let err: unknown = null;
    for (; step < 100; step++) {
      try {
        w.append(step, { w: randomValues(2048, step) });
      } catch (e) {
        err = e;
        break;
      }
    }
    expect(err).toBeInstanceOf(GradtraceError);
    expect((err as GradtraceError).code).toBe("E_IO");
    expect((err as GradtraceError).message).toMatch(
      new RegExp(`${file}: appending step ${step} failed: no space left on the device \\(ENOSPC\\)`),
    );
    const r = openTrace(file);
    expect(r.info.steps.length).toBe(step);
    expect(r.info.problems).toEqual([]);
    r.close();
    fs.rmSync(filler);
    w.append(step, { w: randomValues(2048, step) });
    w.close();
    const back = openTrace(file);
    expect(back.info.steps.length).toBe(step + 1);
    expect(Array.from(back.readTensor(step, "w"))).toEqual(Array.from(randomValues(2048, step)));
    back.close();
    fs.rmSync(file);
  });

  it("analyze --json, lab --json and convert: exit code 5, one line, no partial output", async () => {
    const filler = fill(4096);
    try {
      const json = path.join(full, "out.json");
      const a = await runCli("analyze", trace, "--json", json, "--no-bootstrap", "-q");
      expect(a.code, a.err).toBe(5);
      expect(a.err).toMatch(
        /^gradtrace: .*out\.json: --json: atomic write failed: no space left on the device \(ENOSPC\)\n$/,
      );
      const lab = await runCli(...TINY_LAB, "--json", path.join(full, "lab.json"), "-q");
      expect(lab.code, lab.err).toBe(5);
      const conv = await runCli("convert", trace, path.join(full, "copy.gtrace"), "--to", "gtrace");
      expect(conv.code, conv.err).toBe(5);
      expect(conv.err).toMatch(/ENOSPC/);
      expect(fs.readdirSync(full)).toEqual(["filler"]);
    } finally {
      fs.rmSync(filler);
    }
  });

  it("serve: a cache write that fails is logged, the result is still served, no cache file is half written", async () => {
    const filler = fill(1024);
    const logs: string[] = [];
    const store = new RunStore({
      root: src,
      engine: traceEngine,
      cacheDir: path.join(full, "cache"),
      log: (m) => logs.push(m),
    });
    try {
      const { cached } = await store.result("run-gtrace");
      expect(cached.result.trace.steps).toBe(12);
      expect(logs.join("\n")).toMatch(
        /cache write for run-gtrace failed: .*no space left on the device \(ENOSPC\)/,
      );
      const left = fs.existsSync(path.join(full, "cache")) ? fs.readdirSync(path.join(full, "cache")) : [];
      expect(left.filter((f) => !f.endsWith(".json"))).toEqual([]);
      expect(left).not.toContain("run-gtrace.meta.json");
    } finally {
      store.close();
      fs.rmSync(filler);
    }
  });
});

describe.skipIf(!canBind)("a read-only file system (bind mount)", () => {
  it("reads work; writing a report or appending to the trace is E_IO EROFS", async () => {
    const inRo = path.join(ro, "run.gtrace");
    const r = openTrace(inRo);
    expect(r.info.steps.length).toBe(12);
    r.close();
    const html = await runCli(
      "analyze",
      inRo,
      "--html",
      path.join(ro, "report.html"),
      "--no-bootstrap",
      "-q",
    );
    expect(html.code, html.err).toBe(5);
    expect(html.err).toMatch(/report\.html: --html: atomic write failed: read-only file system \(EROFS\)/);
    expectError(
      () => createGtraceWriter(inRo, { tensors: [{ name: "w", shape: [20] }], resume: true }),
      "E_IO",
      /run\.gtrace\.lock: createGtraceWriter: creating the lock failed: read-only file system \(EROFS\)/,
    );
    expect(fs.readdirSync(ro)).toEqual(["run.gtrace"]);
  });
});

describe.skipIf(!isRoot)("permission denied (the CLI run as user 65534)", () => {
  it("analyze --json and convert into a directory it may not write: exit code 5, EACCES named", () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-eacces-"));
    try {
      fs.chmodSync(shared, 0o755); // root's directory: others may read, not write
      const t = path.join(shared, "run.gtrace");
      fs.copyFileSync(trace, t);
      fs.chmodSync(t, 0o644);
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [BIN, ...args], {
          uid: 65534,
          gid: 65534,
          env: { ...process.env, HOME: os.tmpdir() },
          encoding: "utf8",
        });
      const a = run("analyze", t, "--json", path.join(shared, "out.json"), "--no-bootstrap", "-q");
      expect(a.status, a.stderr).toBe(5);
      expect(a.stderr).toMatch(/out\.json: --json: atomic write failed: permission denied \(EACCES\)/);
      const c = run("convert", t, path.join(shared, "copy.gtrace"), "--to", "gtrace");
      expect(c.status, c.stderr).toBe(5);
      expect(c.stderr).toMatch(
        /copy\.gtrace\.lock: createGtraceWriter: creating the lock failed: permission denied \(EACCES\)/,
      );
      expect(fs.readdirSync(shared)).toEqual(["run.gtrace"]);
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });
});
