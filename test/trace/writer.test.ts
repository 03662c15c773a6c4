/** @file The gtrace writer's file discipline: one writer per file (the advisory lock refuses a second one in this
 * process or another, and is taken over once its holder is dead), and resuming a file a killed run left behind
 * (the partial record cut off and reported, appending continues, the reader sees one clean trace). */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { lockPathFor } from "../../src/io/index.ts";
import { gtraceRecordBytes } from "../../src/trace/gtraceWriter.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { expectError, randomValues, tempDir } from "./helpers.ts";

const SPECS = [
  { name: "w", shape: [4, 3] },
  { name: "b", shape: [3] },
];
const values = (s: number) => ({ w: randomValues(12, s), b: randomValues(3, s + 1000) });

function writeSteps(file: string, steps: number[]): void {
  const w = createGtraceWriter(file, { tensors: SPECS });
  for (const s of steps) w.append(s, values(s), { loss: s });
  w.close();
}

/** Every step of the file reads back as written, and nothing is reported. */
function expectClean(file: string, steps: number[]): void {
  const r = openTrace(file);
  try {
    expect(r.info.steps).toEqual(steps);
    expect(r.info.problems.filter((p) => p.kind !== "missing-step")).toEqual([]);
    steps.forEach((s, pos) => {
      expect(Array.from(r.readTensor(pos, "w"))).toEqual(Array.from(values(s).w));
      expect(Array.from(r.readTensor(pos, "b"))).toEqual(Array.from(values(s).b));
    });
  } finally {
    r.close();
  }
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("one writer per file (advisory lock)", () => {
  it("refuses a second writer in the same process until the first closes, and leaves no lock behind", () => {
    const file = path.join(tempDir(), "a.gtrace");
    const w = createGtraceWriter(file, { tensors: SPECS });
    expect(fs.existsSync(lockPathFor(file))).toBe(true);
    expectError(
      () => createGtraceWriter(file, { tensors: SPECS, force: true }),
      "E_LOCKED",
      new RegExp(`another writer \\(pid ${process.pid} on .*refusing a second writer \\(its holder is alive`),
    );
    expectError(() => createGtraceWriter(file, { tensors: SPECS, resume: true }), "E_LOCKED");
    w.append(0, values(0));
    w.close();
    expect(fs.existsSync(lockPathFor(file))).toBe(false);
    const again = createGtraceWriter(file, { tensors: SPECS, resume: true });
    again.append(1, values(1));
    again.close();
    expectClean(file, [0, 1]);
  });

  it("refuses while another process writes, naming its pid", async () => {
    const file = path.join(tempDir(), "b.gtrace");
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import { createGtraceWriter } from "${path.resolve("src/trace/index.ts")}";
         createGtraceWriter(${JSON.stringify(file)}, { tensors: [{ name: "x", shape: [1] }] });
         process.stdout.write("ready\\n"); setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
        holder.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
      });
      expectError(
        () => createGtraceWriter(file, { tensors: [{ name: "x", shape: [1] }], resume: true }),
        "E_LOCKED",
        new RegExp(`pid ${holder.pid} `),
      );
    } finally {
      holder.kill("SIGKILL");
      await new Promise((r) => holder.once("exit", r));
    }
    // Its holder is dead now: the lock is stale and taken over.
    const w = createGtraceWriter(file, { tensors: [{ name: "x", shape: [1] }], resume: true });
    w.close();
  });

  it("takes over stale locks (dead pid, recycled pid, old empty file) but not fresh or foreign ones", () => {
    const dir = tempDir();
    const file = path.join(dir, "c.gtrace");
    const lock = lockPathFor(file);
    const at = new Date().toISOString();
    const host = os.hostname();
    const stale = [
      JSON.stringify({ pid: deadPid(), host, started: null, at }),
      // Our own pid with another start time: a recycled pid after a reboot.
      JSON.stringify({ pid: process.pid, host, started: "1", at }),
    ];
    for (const text of stale) {
      fs.writeFileSync(lock, text);
      const w = createGtraceWriter(file, { tensors: SPECS, resume: true });
      expect(fs.readFileSync(lock, "utf8")).toContain(`"pid":${process.pid}`);
      w.close();
      expect(fs.existsSync(lock)).toBe(false);
    }
    // An empty lock: a writer between creating and filling it (fresh) — or one that died there (old).
    fs.writeFileSync(lock, "");
    expectError(
      () => createGtraceWriter(file, { tensors: SPECS, resume: true }),
      "E_LOCKED",
      /being written/,
    );
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    createGtraceWriter(file, { tensors: SPECS, resume: true }).close();
    // Another host's writer cannot be checked from here: never broken automatically.
    fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: `${host}-elsewhere`, started: null, at }));
    expectError(
      () => createGtraceWriter(file, { tensors: SPECS, resume: true }),
      "E_LOCKED",
      /held from another host; delete the lock file/,
    );
    expect(fs.readdirSync(dir).filter((f) => f.includes(".stale-"))).toEqual([]);
  });
});

describe("resume", () => {
  it("cuts off the partial last record a killed writer left, reports it, and continues the same file", () => {
    const file = path.join(tempDir(), "r.gtrace");
    writeSteps(file, [0, 1, 2, 3]);
    const full = fs.readFileSync(file);
    const record = gtraceRecordBytes(SPECS);
    for (const cut of [1, 47, 48 + 20, record - 1]) {
      fs.writeFileSync(file, full.subarray(0, full.byteLength - record + cut)); // step 3 only partly written
      const w = createGtraceWriter(file, { tensors: SPECS, resume: true });
      expect(w.resumed).toMatchObject({ steps: 3, lastStep: 2, truncatedBytes: cut });
      expect(w.resumed?.problems.map((p) => p.kind)).toEqual(["truncated-record"]);
      expectError(() => w.append(2, values(2)), "E_ARG", /steps must increase \(previous 2\)/);
      w.append(3, values(3), { loss: 3 });
      w.append(4, values(4), { loss: 4 });
      w.close();
      expectClean(file, [0, 1, 2, 3, 4]);
      fs.writeFileSync(file, full);
    }
  });

  it("creates the file when there is none, and checks the declared tensors of one that exists", () => {
    const dir = tempDir();
    const file = path.join(dir, "new.gtrace");
    const w = createGtraceWriter(file, { tensors: SPECS, resume: true });
    expect(w.resumed).toBeNull();
    w.append(0, values(0));
    w.close();
    expectError(
      () => createGtraceWriter(file, { tensors: [{ name: "w", shape: [3, 4] }, SPECS[1]], resume: true }),
      "E_SHAPE",
      /declares tensors w \[4, 3\] F32, b \[3\] F32; the writer was given w \[3, 4\] F32, b \[3\] F32/,
    );
    expectError(() => createGtraceWriter(file, { tensors: SPECS, resume: true, force: true }), "E_ARG");
    expect(fs.existsSync(lockPathFor(file))).toBe(false);
  });

  it("refuses to append after a complete last record that fails its checksum", () => {
    const file = path.join(tempDir(), "bad.gtrace");
    writeSteps(file, [0, 1, 2]);
    const buf = fs.readFileSync(file);
    buf[buf.byteLength - 2] ^= 0x40;
    fs.writeFileSync(file, buf);
    expectError(
      () => createGtraceWriter(file, { tensors: SPECS, resume: true }),
      "E_CHECKSUM",
      /does not end in a clean cut .*step 2: tensor b fails its checksum/,
    );
    expect(fs.readFileSync(file)).toEqual(buf); // nothing was cut
  });
});
