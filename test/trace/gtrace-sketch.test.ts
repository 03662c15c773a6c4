/** @file gtrace version 2 and the header's sketch declarations: a sketched trace says so in its own header (so it can
 * be analysed and served while it grows), range-sketch entries (kind 2) round-trip with their own size, files without
 * range sketches stay version 1, and bad declarations are refused with the field named. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { GTRACE_VERSION_RANGE } from "../../src/trace/gtraceFormat.ts";
import {
  convertTrace,
  createGtraceWriter,
  openTrace,
  type RangeSketchInfo,
  type SketchInfo,
} from "../../src/trace/index.ts";
import { expectError, randomValues, tempDir } from "./helpers.ts";

const SKETCH: SketchInfo = {
  kind: "countsketch",
  k: 8,
  seed: 3,
  seeding: "name",
  originalNumel: { w: 12, b: 3 },
};
const RANGE: RangeSketchInfo = { s: 2, seed: 3, seeding: "name", tensors: [{ name: "w", rows: 4, cols: 3 }] };

function write(file: string, { range = true }: { range?: boolean } = {}): void {
  const w = createGtraceWriter(file, {
    tensors: [
      { name: "w", shape: [8] },
      { name: "b", shape: [8] },
    ],
    sketch: SKETCH,
    ...(range ? { rangeSketch: RANGE } : {}),
  });
  for (const s of [0, 1, 2]) {
    w.append(
      s,
      { w: randomValues(8, s), b: randomValues(8, s + 100) },
      {
        momentum: { w: randomValues(8, s + 200) },
        ...(range ? { range: { w: randomValues(8, s + 300) } } : {}),
      },
    );
  }
  w.close();
}

function headerJson(file: string): { version: number; json: Record<string, unknown> } {
  const buf = fs.readFileSync(file);
  const len = buf.readUInt32LE(8);
  return { version: buf.readUInt16LE(6), json: JSON.parse(buf.subarray(16, 16 + len).toString("utf8")) };
}

/** Rewrites a file's header JSON (fixing its CRC), to plant bad declarations. */
function editHeader(file: string, edit: (json: Record<string, unknown>) => void, version?: number): void {
  const buf = fs.readFileSync(file);
  const len = buf.readUInt32LE(8);
  const json = JSON.parse(buf.subarray(16, 16 + len).toString("utf8"));
  edit(json);
  const body = Buffer.from(JSON.stringify(json));
  const head = Buffer.alloc(16);
  buf.copy(head, 0, 0, 16);
  head.writeUInt32LE(body.length, 8);
  head.writeUInt32LE(zlib.crc32(body) >>> 0, 12);
  if (version !== undefined) head.writeUInt16LE(version, 6);
  fs.writeFileSync(file, Buffer.concat([head, body, buf.subarray(16 + len)]));
}

describe("gtrace: sketch and range-sketch declarations", () => {
  it("round-trips sketch info, momentum and range sketches (version 2)", () => {
    const file = path.join(tempDir(), "s.gtrace");
    write(file);
    expect(headerJson(file).version).toBe(GTRACE_VERSION_RANGE);
    const r = openTrace(file);
    try {
      expect(r.info.sketch).toEqual(SKETCH);
      expect(r.info.rangeSketch).toEqual(RANGE);
      expect(Array.from(r.readRangeSketch!(2, "w")!)).toEqual(Array.from(randomValues(8, 302)));
      expect(r.readRangeSketch!(2, "b")).toBeNull();
      expect(Array.from(r.readState!(1, "w", "momentum")!)).toEqual(Array.from(randomValues(8, 201)));
      expect(Array.from(r.readTensor(0, "b"))).toEqual(Array.from(randomValues(8, 100)));
      expect(r.info.problems).toEqual([]);
    } finally {
      r.close();
    }
  });

  it("stays version 1 without range sketches, and converts with its declarations", () => {
    const dir = tempDir();
    const file = path.join(dir, "v1.gtrace");
    write(file, { range: false });
    expect(headerJson(file).version).toBe(1);
    const withRange = path.join(dir, "v2.gtrace");
    write(withRange);
    const src = openTrace(withRange);
    const dst = path.join(dir, "copy.gtrace");
    convertTrace(src, dst, { format: "gtrace" });
    src.close();
    const r = openTrace(dst);
    try {
      expect(r.info.sketch).toEqual(SKETCH);
      expect(r.info.rangeSketch).toEqual(RANGE);
      expect(Array.from(r.readRangeSketch!(1, "w")!)).toEqual(Array.from(randomValues(8, 301)));
    } finally {
      r.close();
    }
  });

  it("refuses bad declarations, naming the field", () => {
    const dir = tempDir();
    const cases: [string, (j: Record<string, unknown>) => void, string, RegExp, number?][] = [
      [
        "seeding",
        (j) => ((j.sketch as Record<string, unknown>).seeding = "order"),
        "E_FORMAT",
        /sketch\.seeding/,
      ],
      ["k", (j) => ((j.sketch as Record<string, unknown>).k = 9), "E_SHAPE", /sketch\.k is 9/],
      ["s", (j) => ((j.sketch as Record<string, unknown>).s = 3), "E_FORMAT", /sketch\.s/],
      [
        "range tensor",
        (j) => (((j.rangeSketch as RangeSketchInfo).tensors[0] as { name: string }).name = "nope"),
        "E_FORMAT",
        /rangeSketch\.tensors\[0\]\.name/,
      ],
      [
        "range size",
        (j) => (((j.rangeSketch as RangeSketchInfo).tensors[0] as { rows: number }).rows = 5),
        "E_SHAPE",
        /is 5 × 3 but the tensor has 12 elements/,
      ],
      ["range in v1", () => {}, "E_FORMAT", /rangeSketch needs gtrace version 2/, 1],
      ["future version", () => {}, "E_UNSUPPORTED", /version 3 \(this reader handles 1 and 2\)/, 3],
    ];
    for (const [what, edit, code, pattern, version] of cases) {
      const file = path.join(dir, `${what.replace(/ /g, "-")}.gtrace`);
      write(file);
      editHeader(file, edit, version);
      expectError(() => openTrace(file), code, pattern);
    }
    // The writer validates the same declarations before writing anything.
    expectError(
      () =>
        createGtraceWriter(path.join(dir, "w.gtrace"), {
          tensors: [{ name: "w", shape: [8] }],
          sketch: { ...SKETCH, k: 4 },
        }),
      "E_SHAPE",
      /sketch\.k is 4/,
    );
    const w = createGtraceWriter(path.join(dir, "x.gtrace"), {
      tensors: [{ name: "w", shape: [8] }],
      sketch: SKETCH,
      rangeSketch: RANGE,
    });
    expectError(
      () => w.append(0, { w: randomValues(8, 0) }, { range: { w: randomValues(7, 0) } }),
      "E_SHAPE",
      /rows × s needs 8/,
    );
    w.close();
  });
});
