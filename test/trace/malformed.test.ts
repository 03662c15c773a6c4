import * as fs from "node:fs";
import * as path from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { openTrace, writeNpz, writeSafetensors } from "../../src/trace/index.ts";
import type { LocatedReader } from "../../src/trace/located.ts";
import { encodeNpy } from "../../src/trace/npy.ts";
import { expectError, tempDir } from "./helpers.ts";

/** A safetensors file with an arbitrary header (object or raw text) and data buffer. */
function craftSafetensors(file: string, header: unknown, data: Uint8Array, lengthOverride?: bigint): void {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const h = Buffer.from(text, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(h.byteLength));
  fs.writeFileSync(file, Buffer.concat([len, h, data]));
}

function stepDir(): string {
  const dir = path.join(tempDir(), "run");
  fs.mkdirSync(dir);
  return dir;
}

const ok = { dtype: "F32", shape: [2], data_offsets: [0, 8] };

describe("safetensors headers", () => {
  it.each([
    ["a file shorter than the length field", null, "E_TRUNCATED", /too short/],
    ["a lying header length", { override: 1_000_000n }, "E_TRUNCATED", /header length field says 1000000/],
    ["a non-JSON header", { header: "{not json" }, "E_FORMAT", /not valid JSON/],
    ["a JSON array header", { header: "[1,2]" }, "E_FORMAT", /must be a JSON object/],
    [
      "an unknown dtype",
      { header: { g: { ...ok, dtype: "F33" } } },
      "E_FORMAT",
      /tensor g: field dtype must be one of/,
    ],
    ["an integer dtype", { header: { g: { ...ok, dtype: "I64" } } }, "E_UNSUPPORTED", /dtype I64/],
    [
      "a 2^60-element shape",
      { header: { g: { ...ok, shape: [2 ** 30, 2 ** 30] } } },
      "E_FORMAT",
      /more than 2\^53/,
    ],
    [
      "a negative dimension",
      { header: { g: { ...ok, shape: [-2] } } },
      "E_FORMAT",
      /shape\[0\] must be a non-negative integer/,
    ],
    [
      "offsets past the buffer",
      { header: { g: { ...ok, data_offsets: [0, 80] } } },
      "E_TRUNCATED",
      /data_offsets end 80/,
    ],
    [
      "reversed offsets",
      { header: { g: { ...ok, data_offsets: [8, 0] } } },
      "E_FORMAT",
      /end before they begin/,
    ],
    [
      "offsets not matching the shape",
      { header: { g: { ...ok, shape: [3] } } },
      "E_FORMAT",
      /span 8 bytes but shape \[3\] of F32 needs 12/,
    ],
    [
      "overlapping tensors",
      { header: { g: ok, h: { dtype: "F32", shape: [1], data_offsets: [4, 8] } } },
      "E_FORMAT",
      /tensors g and h overlap/,
    ],
    ["non-string metadata", { header: { g: ok, __metadata__: { loss: 1 } } }, "E_FORMAT", /__metadata__/],
    [
      "non-numeric loss",
      { header: { g: ok, __metadata__: { loss: "high" } } },
      "E_FORMAT",
      /__metadata__.loss must be a number/,
    ],
  ] as const)("rejects %s", (_label, spec, code, pattern) => {
    const dir = stepDir();
    const file = path.join(dir, "step_0.safetensors");
    if (spec === null) fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    else {
      const s = spec as { header?: unknown; override?: bigint };
      craftSafetensors(file, s.header ?? { g: ok }, new Uint8Array(8), s.override);
    }
    const e = expectError(() => openTrace(dir), code, pattern);
    expect(e.message).toContain("step_0.safetensors");
  });

  it("rejects a file cut inside its data buffer", () => {
    const dir = stepDir();
    const file = path.join(dir, "step_0.safetensors");
    writeSafetensors(file, { g: { dtype: "F32", shape: [100], data: new Float32Array(100) } });
    fs.truncateSync(file, fs.statSync(file).size - 1);
    expectError(
      () => openTrace(dir),
      "E_TRUNCATED",
      /data_offsets end 400 lies beyond the 399-byte data buffer/,
    );
  });
});

describe("per-step directories", () => {
  const put = (dir: string, step: string, tensors: Record<string, number[]>): void => {
    writeSafetensors(
      path.join(dir, `${step}.safetensors`),
      Object.fromEntries(
        Object.entries(tensors).map(([n, shape]) => [
          n,
          { dtype: "F32" as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) },
        ]),
      ),
    );
  };
  it("names tensor, step and file when a shape changes", () => {
    const dir = stepDir();
    put(dir, "step_0", { a: [2, 3], b: [4] });
    put(dir, "step_1", { a: [2, 3], b: [4] });
    put(dir, "step_2", { a: [3, 2], b: [4] });
    expectError(
      () => openTrace(dir),
      "E_SHAPE",
      /tensor a has shape \[3, 2\] at step 2 \(.*step_2\.safetensors\) but \[2, 3\] at step 0/,
    );
  });
  it("names the tensors missing from a step", () => {
    const dir = stepDir();
    put(dir, "step_0", { a: [2], b: [4], c: [1] });
    put(dir, "step_1", { a: [2] });
    expectError(() => openTrace(dir), "E_FORMAT", /step 1 .*step_1\.safetensors\) lacks tensor\(s\) b, c/);
  });
  it("orders steps numerically and refuses two files for one step", () => {
    const dir = stepDir();
    for (const s of [9, 10, 100, 2]) put(dir, `step_${s}`, { a: [1] });
    const r = openTrace(dir);
    expect(r.info.steps).toEqual([2, 9, 10, 100]);
    r.close();
    put(dir, "step_0009", { a: [1] });
    expectError(() => openTrace(dir), "E_FORMAT", /step 9 appears twice/);
  });
  it("says what it expected in an empty or foreign directory", () => {
    const dir = stepDir();
    fs.writeFileSync(path.join(dir, "notes.txt"), "hi");
    expectError(() => openTrace(dir), "E_FORMAT", /no trace found/);
    expectError(() => openTrace(path.join(dir, "absent")), "E_NOT_FOUND", /absent/);
    expectError(() => openTrace(dir, { format: "npz-dir" }), "E_NOT_FOUND", /no step_<n>\.npz/);
  });
  it("keeps open file descriptors bounded on a many-step directory", () => {
    const dir = stepDir();
    for (let s = 0; s < 150; s++) put(dir, `step_${s}`, { a: [3] });
    const r = openTrace(dir) as LocatedReader;
    const out = new Float64Array(3);
    for (let pos = 0; pos < 150; pos++) r.readSlice(pos, "a", 0, 3, out);
    expect(r.openFds).toBeLessThanOrEqual(64);
    r.close();
    expect(r.openFds).toBe(0);
  });
});

function npyBytes(dict: string, payload: Uint8Array, version = 1): Buffer {
  const pre = version === 1 ? 10 : 12;
  let text = dict;
  text += `${" ".repeat((64 - ((pre + text.length + 1) % 64)) % 64)}\n`;
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(text.length, 8);
  else head.writeUInt32LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, "latin1"), payload]);
}

describe(".npy", () => {
  const write = (dir: string, name: string, bytes: Uint8Array): void => {
    fs.mkdirSync(path.join(dir, "step_0"), { recursive: true });
    fs.writeFileSync(path.join(dir, "step_0", name), bytes);
  };
  it("reads big-endian, Fortran-ordered v2/v3 files as C order", () => {
    const dir = stepDir();
    // 2×3 matrix [[1,2,3],[4,5,6]] stored column-major, big-endian f4
    const colMajor = [1, 4, 2, 5, 3, 6];
    const payload = Buffer.alloc(24);
    colMajor.forEach((v, i) => {
      payload.writeFloatBE(v, i * 4);
    });
    write(dir, "m.npy", npyBytes("{'descr': '>f4', 'fortran_order': True, 'shape': (2, 3), }", payload, 2));
    const le = Buffer.alloc(16);
    [0.5, -1.5].forEach((v, i) => {
      le.writeDoubleLE(v, i * 8);
    });
    write(dir, "v.npy", npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", le, 3));
    const r = openTrace(dir, { tmpDir: dir });
    expect(Array.from(r.readTensor(0, "m"))).toEqual([1, 2, 3, 4, 5, 6]);
    const out = new Float64Array(3);
    r.readSlice(0, "m", 2, 3, out);
    expect(Array.from(out)).toEqual([3, 4, 5]);
    expect(Array.from(r.readTensor(0, "v"))).toEqual([0.5, -1.5]);
    r.close();
  });
  it.each([
    ["bad magic", Buffer.from("NOTNUMPY------"), "E_FORMAT", /bad magic/],
    [
      "version 4",
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 4),
      "E_UNSUPPORTED",
      /version 4/,
    ],
    [
      "an integer dtype",
      npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)),
      "E_UNSUPPORTED",
      /'?"<i4"'? is not f2, f4 or f8/,
    ],
    [
      "a bfloat16 void dtype",
      npyBytes("{'descr': '<V2', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(2)),
      "E_UNSUPPORTED",
      /bfloat16/,
    ],
    [
      "a 2^60 shape",
      npyBytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1152921504606846976,), }",
        new Uint8Array(4),
      ),
      "E_FORMAT",
      /shape\[0\]/,
    ],
    [
      "a truncated payload",
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new Uint8Array(39)),
      "E_TRUNCATED",
      /needs 40 bytes of data, file has 39/,
    ],
    ["a garbage dict", npyBytes("hello", new Uint8Array(0)), "E_FORMAT", /must be a dict/],
    [
      "a lying header length",
      Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0xff, 0xff]), Buffer.alloc(10)]),
      "E_TRUNCATED",
      /header declares 65545 bytes/,
    ],
  ] as const)("rejects %s", (_label, bytes, code, pattern) => {
    const dir = stepDir();
    write(dir, "g.npy", bytes);
    expectError(() => openTrace(dir), code, pattern);
  });
});

describe(".npz", () => {
  const member = (values: number[]): Uint8Array => {
    const chunks = encodeNpy({ dtype: "F32", shape: [values.length], data: Float32Array.from(values) });
    return Buffer.concat(chunks);
  };
  /** Offset of the first central directory entry of a zip held in `buf`. */
  const centralEntry = (buf: Buffer): number => buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));

  it("addresses stored members in place and inflates deflated ones into a cache", () => {
    for (const compress of [false, true]) {
      const dir = stepDir();
      writeNpz(
        path.join(dir, "step_0.npz"),
        { g: { dtype: "F32", shape: [3], data: Float32Array.from([1, 2, 3]) } },
        { compress },
      );
      const r = openTrace(dir, { tmpDir: dir }) as LocatedReader;
      expect(Array.from(r.readTensor(0, "g"))).toEqual([1, 2, 3]);
      expect(r.cacheBytes).toBe(compress ? 12 : 0);
      r.close();
    }
  });
  it("refuses a member that claims gigabytes from a few bytes", () => {
    const dir = stepDir();
    const file = path.join(dir, "step_0.npz");
    const zip = Buffer.from(zipSync({ "g.npy": member(new Array(1000).fill(0)) }, { level: 9 }));
    zip.writeUInt32LE(0xfffffff0, centralEntry(zip) + 24);
    fs.writeFileSync(file, zip);
    expectError(() => openTrace(dir), "E_FORMAT", /declares 4294967280 bytes from \d+ compressed.*zip bomb/);
  });
  it("stops inflating a member that expands past its declared size", () => {
    const dir = stepDir();
    const file = path.join(dir, "step_0.npz");
    // The npy header says 4 floats; 4 MB of zeros follow in the deflated stream.
    const honest = member([1, 2, 3, 4]);
    const body = new Uint8Array(4 << 20);
    body.set(honest);
    const zip = Buffer.from(zipSync({ "g.npy": body }, { level: 1 }));
    zip.writeUInt32LE(honest.byteLength, centralEntry(zip) + 24);
    fs.writeFileSync(file, zip);
    const r = openTrace(dir, { tmpDir: dir });
    // Damaged data of one (step, tensor): a CorruptDataError the analysis can exclude, raised on every access.
    const e = expectError(() => r.readTensor(0, "g"), "E_CHECKSUM", /inflates beyond its declared 144 bytes/);
    expect(e).toMatchObject({ step: 0, tensor: "g" });
    expectError(() => r.readSlice(0, "g", 0, 1, new Float64Array(1)), "E_CHECKSUM", /step 0, tensor g/);
    r.close();
  });
  it.each([
    ["not a zip", () => Buffer.from("plain text, not a zip archive at all"), "E_FORMAT", /not a zip archive/],
    [
      "a member size that disagrees with its npy header",
      () => {
        const zip = Buffer.from(zipSync({ "g.npy": member([1, 2]) }, { level: 0 }));
        const at = centralEntry(zip);
        zip.writeUInt32LE(zip.readUInt32LE(at + 20) - 4, at + 20);
        zip.writeUInt32LE(zip.readUInt32LE(at + 24) - 4, at + 24);
        return zip;
      },
      "E_FORMAT",
      /declares 132 bytes but its \.npy header .* implies 136/,
    ],
    [
      "a local header offset outside the file",
      () => {
        const zip = Buffer.from(zipSync({ "g.npy": member([1]) }, { level: 0 }));
        zip.writeUInt32LE(1e8, centralEntry(zip) + 42);
        return zip;
      },
      "E_FORMAT",
      /local header offset 100000000 is outside/,
    ],
    [
      "a truncated archive",
      () => {
        const zip = Buffer.from(zipSync({ "g.npy": member([1, 2, 3]) }, { level: 0 }));
        return zip.subarray(0, 40);
      },
      "E_FORMAT",
      /not a zip archive/,
    ],
  ] as const)("rejects %s", (_label, make, code, pattern) => {
    const dir = stepDir();
    fs.writeFileSync(path.join(dir, "step_0.npz"), make());
    expectError(() => openTrace(dir), code, pattern);
  });
});

describe("trace.json manifests", () => {
  const base = {
    version: 1,
    steps: [0, 1],
    tensors: [{ name: "g", shape: [4], dtype: "F32" }],
    data: { layout: "raw", path: "raw" },
  };
  const writeRaw = (dir: string, steps: number[], n = 4): void => {
    fs.mkdirSync(path.join(dir, "raw"), { recursive: true });
    for (const s of steps)
      fs.writeFileSync(
        path.join(dir, "raw", `step_${s}.bin`),
        Buffer.from(Float32Array.from({ length: n }, (_, i) => s * 10 + i).buffer),
      );
  };
  it.each([
    ["a bad step", { ...base, steps: [0, -1] }, /field steps\[1\] must be a non-negative integer/],
    ["unsorted steps", { ...base, steps: [1, 0] }, /field steps\[1\] must be greater than steps\[0\]/],
    [
      "a bad dtype",
      { ...base, tensors: [{ name: "g", shape: [4], dtype: "float" }] },
      /field tensors\[0\]\.dtype must be one of/,
    ],
    [
      "a bad shape",
      { ...base, tensors: [{ name: "g", shape: [4.5], dtype: "F32" }] },
      /field tensors\[0\]\.shape must be/,
    ],
    [
      "an unknown layout",
      { ...base, data: { layout: "hdf5", path: "x" } },
      /field data\.layout must be one of/,
    ],
    [
      "loss of the wrong length",
      { ...base, loss: [1] },
      /field loss must be an array with one entry per step \(2\)/,
    ],
    ["a bad sketch kind", { ...base, sketch: { kind: "pca", k: 4, seed: 1 } }, /field sketch\.kind/],
    ["a missing version", { ...base, version: undefined }, /field version must be 1/],
  ])("rejects %s with the field named", (_label, manifest, pattern) => {
    const dir = stepDir();
    writeRaw(dir, [0, 1]);
    fs.writeFileSync(path.join(dir, "trace.json"), JSON.stringify(manifest));
    const e = expectError(() => openTrace(dir), "E_FORMAT", pattern);
    expect(e.message).toMatch(/^.*trace\.json: field/);
  });
  it("exposes sketch parameters and checks k against the stored length", () => {
    const dir = stepDir();
    writeRaw(dir, [0, 2, 3]);
    fs.writeFileSync(
      path.join(dir, "trace.json"),
      JSON.stringify({
        ...base,
        steps: [0, 2, 3],
        loss: [1, null, 0.5],
        sketch: { kind: "countsketch", k: 4, seed: 9, originalNumel: { g: 1000 } },
      }),
    );
    const r = openTrace(dir);
    expect(r.info.sketch).toEqual({ kind: "countsketch", k: 4, seed: 9, originalNumel: { g: 1000 } });
    expect(r.info.loss).toEqual([1, null, 0.5]);
    expect(Array.from(r.readTensor(1, "g"))).toEqual([20, 21, 22, 23]);
    expect(r.info.problems.map((p) => p.step)).toEqual([1]);
    r.close();
    fs.writeFileSync(
      path.join(dir, "trace.json"),
      JSON.stringify({ ...base, sketch: { kind: "jl", k: 8, seed: 1 } }),
    );
    expectError(() => openTrace(dir), "E_SHAPE", /tensors\[0\] \(g\) has 4 elements but sketch\.k is 8/);
  });
  it("names a listed step that has no data, and a raw file of the wrong size", () => {
    const dir = stepDir();
    writeRaw(dir, [0]);
    fs.writeFileSync(path.join(dir, "trace.json"), JSON.stringify(base));
    expectError(() => openTrace(dir), "E_NOT_FOUND", /steps\[1\] = 1 has no file/);
    writeRaw(dir, [1], 5);
    expectError(
      () => openTrace(dir),
      "E_FORMAT",
      /step_1\.bin: 20 bytes, the manifest's tensors need exactly 16/,
    );
  });
});
