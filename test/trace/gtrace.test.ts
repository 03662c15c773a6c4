import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ENTRY_BYTES, RECORD_HEADER_BYTES } from "../../src/trace/gtraceFormat.ts";
import { gtraceRecordBytes } from "../../src/trace/gtraceWriter.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { expectError, randomValues, tempDir } from "./helpers.ts";

const SPECS = [
  { name: "w", shape: [4, 3] },
  { name: "b", shape: [3] },
];

function writeRun(file: string, steps: number[], { momentum = false } = {}): void {
  const w = createGtraceWriter(file, { tensors: SPECS, meta: { seed: 1 } });
  for (const s of steps) {
    w.append(
      s,
      { w: randomValues(12, s), b: randomValues(3, s + 1000) },
      { loss: s * 0.5, ...(momentum ? { momentum: { w: randomValues(12, s + 7) } } : {}) },
    );
  }
  w.close();
}

describe("gtrace", () => {
  it("stores optimizer momentum, readable through readState", () => {
    const file = path.join(tempDir(), "m.gtrace");
    writeRun(file, [0, 1, 2], { momentum: true });
    const r = openTrace(file);
    try {
      expect(Array.from(r.readState!(1, "w", "momentum")!)).toEqual(Array.from(randomValues(12, 8)));
      expect(r.readState!(1, "b", "momentum")).toBeNull();
      expect(Array.from(r.readTensor(2, "b"))).toEqual(Array.from(randomValues(3, 1002)));
      expect(r.info.loss).toEqual([0, 0.5, 1]);
      expect(r.info.lr).toEqual([null, null, null]);
    } finally {
      r.close();
    }
  });

  it("reports and skips a truncated last record, at every cut point", () => {
    const dir = tempDir();
    const file = path.join(dir, "t.gtrace");
    writeRun(file, [0, 1, 2]);
    const full = fs.readFileSync(file);
    const record = gtraceRecordBytes(SPECS);
    const lastStart = full.byteLength - record;
    for (const cut of [1, 20, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + ENTRY_BYTES + 3, record - 1]) {
      fs.writeFileSync(file, full.subarray(0, lastStart + cut));
      const r = openTrace(file);
      try {
        expect(r.info.steps).toEqual([0, 1]);
        expect(r.info.problems).toHaveLength(1);
        expect(r.info.problems[0].kind).toBe("truncated-record");
        expect(r.info.problems[0].message).toContain("record 2");
        expect(Array.from(r.readTensor(1, "w"))).toEqual(Array.from(randomValues(12, 1)));
      } finally {
        r.close();
      }
    }
  });

  it("skips a last record whose payload checksum fails, and a middle record whose header fails", () => {
    const file = path.join(tempDir(), "c.gtrace");
    writeRun(file, [0, 1, 2]);
    const full = fs.readFileSync(file);
    const record = gtraceRecordBytes(SPECS);
    const bad = Buffer.from(full);
    bad[full.byteLength - 5] ^= 0xff; // a payload byte of the last record
    fs.writeFileSync(file, bad);
    const r = openTrace(file);
    expect(r.info.steps).toEqual([0, 1]);
    expect(r.info.problems.map((p) => [p.kind, p.step, p.tensor])).toEqual([["corrupt-record", 2, "b"]]);
    r.close();

    // The middle record's entry table is damaged: its header checksum fails, the next record verifies.
    const mid = Buffer.from(full);
    mid[full.byteLength - 2 * record + RECORD_HEADER_BYTES + 1] ^= 0x01;
    fs.writeFileSync(file, mid);
    const m = openTrace(file);
    expect(m.info.steps).toEqual([0, 2]);
    // (steps 0 and 2 alone look like a stride of 2, so no missing-step entry: the corrupt record names itself)
    expect(m.info.problems.map((p) => p.kind)).toEqual(["corrupt-record"]);
    const corrupt = m.info.problems.find((p) => p.kind === "corrupt-record")!;
    expect(corrupt.message).toMatch(
      /record 1 at offset \d+: step field 1: record header fails its checksum; skipped/,
    );
    expect(Array.from(m.readTensor(1, "w"))).toEqual(Array.from(randomValues(12, 2)));
    m.close();

    const payloadMid = Buffer.from(full);
    payloadMid[full.byteLength - record - 3] ^= 0x10; // payload of record 1
    fs.writeFileSync(file, payloadMid);
    const lazy = openTrace(file); // default verify: "last" at open, the rest on first read
    expectError(() => lazy.readTensor(1, "b"), "E_CHECKSUM", /step 1, tensor b/);
    expectError(() => lazy.readSlice(1, "b", 0, 1, new Float64Array(1)), "E_CHECKSUM", /step 1, tensor b/);
    expect(Array.from(lazy.readTensor(1, "w"))).toEqual(Array.from(randomValues(12, 1)));
    lazy.close();
    const all = openTrace(file, { verify: "all" });
    expect(all.info.steps).toEqual([0, 2]);
    expect(all.info.problems.find((p) => p.kind === "corrupt-record")).toMatchObject({
      step: 1,
      tensor: "b",
    });
    all.close();
  });

  it("refresh() picks up appended steps and a record completed after a partial read", () => {
    const file = path.join(tempDir(), "live.gtrace");
    const w = createGtraceWriter(file, { tensors: SPECS, fsync: "none" });
    w.append(0, { w: randomValues(12, 0), b: randomValues(3, 0) });
    const r = openTrace(file);
    expect(r.info.steps).toEqual([0]);
    expect(r.refresh!()).toBe(0);
    w.append(10, { w: randomValues(12, 10), b: randomValues(3, 10) });
    w.append(20, { w: randomValues(12, 20), b: randomValues(3, 20) });
    expect(r.refresh!()).toBe(2);
    expect(r.info.steps).toEqual([0, 10, 20]);
    expect(Array.from(r.readTensor(2, "w"))).toEqual(Array.from(randomValues(12, 20)));
    // Simulate a writer caught mid-record: half a record on disk, then the rest.
    const before = fs.readFileSync(file);
    w.append(30, { w: randomValues(12, 30), b: randomValues(3, 30) });
    w.close();
    const after = fs.readFileSync(file);
    fs.writeFileSync(file, after.subarray(0, before.byteLength + 30));
    expect(r.refresh!()).toBe(0);
    expect(r.info.problems.map((p) => p.kind)).toEqual(["truncated-record"]);
    fs.writeFileSync(file, after);
    expect(r.refresh!()).toBe(1);
    expect(r.info.steps).toEqual([0, 10, 20, 30]);
    expect(r.info.problems).toEqual([]);
    r.close();
  });

  it("reports missing steps but keeps every present step", () => {
    const file = path.join(tempDir(), "gap.gtrace");
    writeRun(file, [0, 10, 20, 50, 60]);
    const r = openTrace(file);
    expect(r.info.steps).toEqual([0, 10, 20, 50, 60]);
    expect(r.info.problems).toHaveLength(1);
    expect(r.info.problems[0]).toMatchObject({ kind: "missing-step", step: 30 });
    expect(r.info.problems[0].message).toMatch(/30\.\.40/);
    r.close();
  });

  it("validates appends: shapes, names, increasing steps, no overwrite", () => {
    const file = path.join(tempDir(), "v.gtrace");
    const w = createGtraceWriter(file, { tensors: SPECS });
    expectError(
      () => w.append(0, { w: new Float32Array(11), b: new Float32Array(3) }),
      "E_SHAPE",
      /tensor w has 11 values/,
    );
    expectError(() => w.append(0, { w: new Float32Array(12) }), "E_ARG", /tensor b missing/);
    expectError(
      () => w.append(0, { w: new Float32Array(12), b: new Float32Array(3), c: new Float32Array(1) }),
      "E_ARG",
      /c was not declared/,
    );
    w.append(5, { w: new Float32Array(12), b: new Float32Array(3) });
    expectError(
      () => w.append(5, { w: new Float32Array(12), b: new Float32Array(3) }),
      "E_ARG",
      /steps must increase/,
    );
    w.close();
    expectError(() => createGtraceWriter(file, { tensors: SPECS }), "E_EXISTS", /already exists/);
    // failed appends left nothing behind
    const r = openTrace(file);
    expect(r.info.steps).toEqual([5]);
    expect(r.info.problems).toEqual([]);
    r.close();
  });

  it("rejects a bad header: magic, version, lying JSON length", () => {
    const dir = tempDir();
    const file = path.join(dir, "h.gtrace");
    writeRun(file, [0]);
    const full = fs.readFileSync(file);
    const other = path.join(dir, "x.gtrace");
    const bad = Buffer.from(full);
    bad[7] = 9;
    fs.writeFileSync(other, bad);
    expectError(() => openTrace(other, { format: "gtrace" }), "E_UNSUPPORTED", /version/);
    const lying = Buffer.from(full);
    lying.writeUInt32LE(1e9, 8);
    fs.writeFileSync(other, lying);
    expectError(() => openTrace(other), "E_TRUNCATED", /header JSON of 1000000000 bytes/);
    const flipped = Buffer.from(full);
    flipped[20] ^= 1;
    fs.writeFileSync(other, flipped);
    expectError(() => openTrace(other), "E_CHECKSUM", /header JSON/);
    fs.writeFileSync(other, Buffer.from("NOTGTRACE-------"));
    expectError(() => openTrace(other, { format: "gtrace" }), "E_FORMAT", /magic/);
  });
});
