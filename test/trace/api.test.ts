import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { bf16ToFloat, floatToBf16 } from "../../src/trace/dtype.ts";
import {
  convertTrace,
  createGtraceWriter,
  openTrace,
  writeNpy,
  writeNpz,
  writeSafetensors,
} from "../../src/trace/index.ts";
import { expectError, randomValues, tempDir } from "./helpers.ts";

const put = (dir: string, step: number, n = 6): void =>
  writeSafetensors(path.join(dir, `step_${step}.safetensors`), {
    g: { dtype: "F32", shape: [n], data: randomValues(n, step) },
  });

describe("argument checks", () => {
  it("rejects bad step positions, names, ranges and closed readers", () => {
    const dir = tempDir();
    put(dir, 0);
    const r = openTrace(dir);
    const out = new Float64Array(6);
    expectError(() => r.readSlice(1, "g", 0, 1, out), "E_ARG", /step position 1 is outside \[0, 1\)/);
    expectError(() => r.readSlice(0, "h", 0, 1, out), "E_NOT_FOUND", /no tensor named "h"/);
    expectError(() => r.readSlice(0, "g", 4, 3, out), "E_ARG", /elements \[4, 7\) are outside tensor g of 6/);
    expectError(
      () => r.readSlice(0, "g", 0, 6, out, 1),
      "E_ARG",
      /output of length 6 cannot hold 6 values at 1/,
    );
    r.close();
    expectError(() => r.readTensor(0, "g"), "E_ARG", /is closed/);
  });
  it("writers refuse to overwrite unless forced", () => {
    const dir = tempDir();
    const t = { dtype: "F32" as const, shape: [2], data: new Float32Array([1, 2]) };
    writeSafetensors(path.join(dir, "a.safetensors"), { t });
    writeNpy(path.join(dir, "a.npy"), t);
    writeNpz(path.join(dir, "a.npz"), { t });
    expectError(
      () => writeSafetensors(path.join(dir, "a.safetensors"), { t }),
      "E_EXISTS",
      /a\.safetensors already exists/,
    );
    expectError(() => writeNpy(path.join(dir, "a.npy"), t), "E_EXISTS");
    expectError(() => writeNpz(path.join(dir, "a.npz"), { t }), "E_EXISTS");
    writeNpy(path.join(dir, "a.npy"), { ...t, data: new Float32Array([3, 4]) }, { force: true });
    expectError(
      () => writeNpy(path.join(dir, "b.npy"), { ...t, dtype: "BF16" }),
      "E_UNSUPPORTED",
      /bfloat16/,
    );
    expectError(
      () => writeNpy(path.join(dir, "c.npy"), { ...t, shape: [3] }),
      "E_SHAPE",
      /needs 3 values, got 2/,
    );
    // no temp files are left behind by atomic writes
    expect(fs.readdirSync(dir).sort()).toEqual(["a.npy", "a.npz", "a.safetensors"]);
  });
  it("names the absurd dimension", () => {
    const dir = tempDir();
    const h = Buffer.from(JSON.stringify({ g: { dtype: "F32", shape: [2 ** 60], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.byteLength));
    fs.writeFileSync(path.join(dir, "step_0.safetensors"), Buffer.concat([len, h, Buffer.alloc(4)]));
    expectError(() => openTrace(dir), "E_FORMAT", /shape\[0\] = 1152921504606847000 exceeds 2\^53/);
  });
});

describe("live directories", () => {
  it("refresh() adds step files written after opening and re-reports gaps", () => {
    const dir = tempDir();
    put(dir, 0);
    put(dir, 1);
    const r = openTrace(dir);
    expect(r.refresh!()).toBe(0);
    put(dir, 2);
    put(dir, 5);
    expect(r.refresh!()).toBe(2);
    expect(r.info.steps).toEqual([0, 1, 2, 5]);
    expect(r.info.problems.map((p) => p.step)).toEqual([3]);
    expect(Array.from(r.readTensor(3, "g"))).toEqual(Array.from(randomValues(6, 5)));
    put(dir, 6, 7);
    expectError(() => r.refresh!(), "E_SHAPE", /tensor g has shape \[7\] at step 6/);
    r.close();
  });
});

describe("manifest over a gtrace file (sketched runs)", () => {
  it("serves the listed steps with sketch info, loss and momentum from the gtrace", () => {
    const dir = tempDir();
    const w = createGtraceWriter(path.join(dir, "trace.gtrace"), { tensors: [{ name: "a", shape: [8] }] });
    for (const s of [0, 1, 2, 3])
      w.append(s, { a: randomValues(8, s) }, { loss: s, momentum: { a: randomValues(8, 50 + s) } });
    w.close();
    fs.writeFileSync(
      path.join(dir, "trace.json"),
      JSON.stringify({
        version: 1,
        steps: [1, 3],
        tensors: [{ name: "a", shape: [8], dtype: "F32" }],
        data: { layout: "gtrace", path: "trace.gtrace" },
        sketch: { kind: "jl", k: 8, seed: 3 },
      }),
    );
    const r = openTrace(dir);
    expect(r.info.format).toBe("manifest");
    expect(r.info.steps).toEqual([1, 3]);
    expect(r.info.sketch).toEqual({ kind: "jl", k: 8, seed: 3 });
    expect(r.info.loss).toEqual([1, 3]);
    expect(Array.from(r.readTensor(1, "a"))).toEqual(Array.from(randomValues(8, 3)));
    expect(Array.from(r.readState!(0, "a", "momentum")!)).toEqual(Array.from(randomValues(8, 51)));
    // stride 2 between the listed steps is the logging stride, not a gap
    expect(r.info.problems).toEqual([]);
    r.close();
  });
});

describe("convertTrace of BF16 into .npz", () => {
  it("stores BF16 tensors as F32 holding the same values", () => {
    const dir = tempDir();
    const src = path.join(dir, "in.gtrace");
    const w = createGtraceWriter(src, { tensors: [{ name: "a", shape: [16], dtype: "BF16" }] });
    w.append(0, { a: randomValues(16, 1) });
    w.close();
    const r = openTrace(src);
    convertTrace(r, path.join(dir, "out"), { format: "npz-dir", compress: true });
    r.close();
    const back = openTrace(path.join(dir, "out"), { tmpDir: dir });
    expect(back.info.tensors[0].dtype).toBe("F32");
    expect(Array.from(back.readTensor(0, "a"))).toEqual(
      Array.from(randomValues(16, 1), (v) => bf16ToFloat(floatToBf16(v))),
    );
    back.close();
  });
});

describe("gtrace zero-filled tail", () => {
  it("reports a zero-filled last record (OS crash after allocation) and keeps earlier steps", () => {
    const file = path.join(tempDir(), "z.gtrace");
    const w = createGtraceWriter(file, { tensors: [{ name: "a", shape: [4] }] });
    w.append(0, { a: new Float32Array([1, 2, 3, 4]) });
    w.close();
    fs.appendFileSync(file, Buffer.alloc(200));
    const r = openTrace(file);
    expect(r.info.steps).toEqual([0]);
    expect(r.info.problems.map((p) => p.kind)).toEqual(["truncated-record"]);
    expect(r.info.problems[0].message).toMatch(/200 zero bytes/);
    r.close();
    fs.appendFileSync(file, Buffer.from("junk after zeros"));
    // Not zeros any more: damage, reported as such (and fatal only under --strict).
    const j = openTrace(file);
    expect(j.info.steps).toEqual([0]);
    expect(j.info.problems.map((p) => p.kind)).toEqual(["corrupt-record"]);
    expect(j.info.problems[0].message).toMatch(
      /record 1 at offset \d+: no record magic \(GREC\); no verifiable record follows in the remaining 216 bytes/,
    );
    j.close();
  });
});
