/** @file Corrupt data is found and named, never analyzed and never passed off as NaN gradients: a flipped bit in a
 * middle record's payload and a payload float overwritten with a NaN pattern (checksum not updated) are both
 * excluded as `corrupt-record` problems naming step and tensor, in the exact, Frequent Directions and random-sketch
 * paths, in convert and in live mode; the numbers equal those of the same trace written without that step; a NaN
 * the run really logged (checksum intact) stays a `nonfinite` problem; `strict` turns corruption into E_CHECKSUM. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/analysis/index.ts";
import { CorruptDataError } from "../../src/core/index.ts";
import { createRng } from "../../src/core/rng.ts";
import { LiveRun } from "../../src/serve/live.ts";
import { ENTRY_BYTES, FILE_HEADER_BYTES, RECORD_HEADER_BYTES } from "../../src/trace/gtraceFormat.ts";
import { convertTrace, createGtraceWriter, openTrace, writeNpz } from "../../src/trace/index.ts";
import { expectError } from "../trace/helpers.ts";

const SPECS = [
  { name: "w", shape: [6, 5] },
  { name: "b", shape: [5] },
];
const STEPS = 12;

function stepValues(t: number): Record<string, Float32Array> {
  const rng = createRng(100 + t);
  return {
    w: Float32Array.from({ length: 30 }, (_, i) => Math.cos(0.2 * t + i) + 0.1 * rng.normal()),
    b: Float32Array.from({ length: 5 }, () => rng.normal()),
  };
}

/** Writes steps 0..STEPS-1 except `skip`, with momentum buffers when asked; returns the file. */
function writeTrace(file: string, { skip = -1, momentum = false } = {}): string {
  const w = createGtraceWriter(file, { tensors: SPECS });
  for (let t = 0; t < STEPS; t++) {
    if (t === skip) continue;
    const v = stepValues(t);
    w.append(t, v, {
      loss: 1 / (t + 1),
      ...(momentum ? { momentum: { w: v.w.map((x) => 0.9 * x), b: v.b.map((x) => 0.9 * x) } } : {}),
    });
  }
  w.close();
  return file;
}

/** Byte offset of payload float `index` (counted across the record's entries in table order: w, b, then momentum
 * buffers) of record `k` in a trace of STEPS equal records with `entries` entries each. */
function payloadOffset(file: string, k: number, index: number, entries = SPECS.length): number {
  const buf = fs.readFileSync(file);
  const start = FILE_HEADER_BYTES + buf.readUInt32LE(8);
  const record = (buf.byteLength - start) / STEPS;
  return start + k * record + RECORD_HEADER_BYTES + entries * ENTRY_BYTES + 4 * index;
}

function patch(file: string, at: number, edit: (buf: Buffer) => void): void {
  const buf = fs.readFileSync(file);
  edit(buf.subarray(at));
  fs.writeFileSync(file, buf);
}

const OPTS = { predictors: ["zero", "last", "ema0.9"], bootstrap: false } as const;

async function analyzeFile(file: string, extra: Record<string, unknown> = {}) {
  const r = openTrace(file);
  try {
    return await analyze(r, { ...OPTS, ...extra });
  } finally {
    r.close();
  }
}

describe("corrupt records are excluded and reported as corruption", () => {
  // Shared by every test here (tempDir() would be emptied after the first one).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gradtrace-corrupt-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const clean = writeTrace(path.join(dir, "clean.gtrace"));
  const without5 = writeTrace(path.join(dir, "without5.gtrace"), { skip: 5 });
  const without7 = writeTrace(path.join(dir, "without7.gtrace"), { skip: 7 });

  const flipped = path.join(dir, "flipped.gtrace");
  fs.copyFileSync(clean, flipped);
  patch(flipped, payloadOffset(clean, 5, 11), (b) => {
    b[2] ^= 0x10; // one bit of a mantissa in the middle of record 5
  });
  const nanned = path.join(dir, "nanned.gtrace");
  fs.copyFileSync(clean, nanned);
  patch(nanned, payloadOffset(clean, 7, 30 + 3), (b) => {
    b.writeUInt32LE(0x7fc00000, 0); // a quiet NaN where a float was; the checksum is left as it was
  });

  for (const [label, extra] of [
    ["exact", {}],
    ["Frequent Directions", { sketch: "fd:8" }],
    ["random sketch", { sketch: "countsketch:16", sketchCheckSteps: 0 }],
  ] as const) {
    it(`${label}: a flipped bit in a middle record → corrupt-record at that step and tensor, same numbers as without it`, async () => {
      const got = await analyzeFile(flipped, extra);
      const ref = await analyzeFile(without5, extra);
      expect(got.trace.problems).toEqual([
        expect.objectContaining({
          kind: "corrupt-record",
          step: 5,
          tensor: "w",
          message: expect.stringMatching(/step 5, tensor w: payload fails its CRC-32 check.*step 5 excluded/),
        }),
      ]);
      expect(got.trace.excludedSteps).toEqual({ nonfinite: 0, corrupt: 1 });
      expect(got.trace.steps).toBe(STEPS - 1);
      for (const id of OPTS.predictors) expect(got.total.kappa[id]).toBeCloseTo(ref.total.kappa[id], 12);
      expect(got.total.gradNorm.length).toBe(ref.total.gradNorm.length);
      got.total.gradNorm.forEach((g, i) => {
        expect(g).toBeCloseTo(ref.total.gradNorm[i], 12);
      });
    });
  }

  it("a payload float overwritten with a NaN pattern is corruption, not a NaN gradient", async () => {
    for (const extra of [{}, { sketch: "countsketch:16", sketchCheckSteps: 0 }]) {
      const got = await analyzeFile(nanned, extra);
      const ref = await analyzeFile(without7, extra);
      expect(got.trace.problems.map((p) => [p.kind, p.step, p.tensor])).toEqual([["corrupt-record", 7, "b"]]);
      expect(got.trace.problems.some((p) => /NaN/.test(p.message))).toBe(false);
      expect(got.trace.excludedSteps).toEqual({ nonfinite: 0, corrupt: 1 });
      expect(got.total.kappa.last).toBeCloseTo(ref.total.kappa.last, 12);
    }
  });

  it("a NaN the run logged (checksum intact) stays a nonfinite problem", async () => {
    const logged = path.join(dir, "logged-nan.gtrace");
    const w = createGtraceWriter(logged, { tensors: SPECS });
    for (let t = 0; t < STEPS; t++) {
      const v = stepValues(t);
      if (t === 7) v.b[3] = Number.NaN;
      w.append(t, v);
    }
    w.close();
    const got = await analyzeFile(logged);
    expect(got.trace.problems.map((p) => [p.kind, p.step])).toEqual([["nonfinite", 7]]);
    expect(got.trace.excludedSteps).toEqual({ nonfinite: 1, corrupt: 0 });
  });

  it("strict: corruption is an E_CHECKSUM error naming step and tensor", async () => {
    const r = openTrace(flipped);
    await expect(analyze(r, { ...OPTS, strict: true })).rejects.toMatchObject({
      code: "E_CHECKSUM",
      step: 5,
      tensor: "w",
    });
    r.close();
  });

  it("every read of a corrupt (step, tensor) fails, whole or partial, before handing out data", () => {
    const r = openTrace(flipped);
    try {
      const out = new Float64Array(30).fill(42);
      // The first partial read verifies the whole payload: even elements far from the flipped one are refused.
      const e = expectError(() => r.readSlice(5, "w", 0, 2, out), "E_CHECKSUM", /step 5, tensor w/);
      expect(e).toBeInstanceOf(CorruptDataError);
      expect(Array.from(out.subarray(0, 2))).toEqual([42, 42]);
      expectError(() => r.readSlice(5, "w", 20, 3, out), "E_CHECKSUM", /step 5, tensor w/);
      expectError(() => r.readTensor(5, "w"), "E_CHECKSUM", /step 5, tensor w/);
      // The other tensor of that record and the other records are intact.
      expect(Array.from(r.readTensor(5, "b"))).toEqual(Array.from(stepValues(5).b));
      r.readSlice(4, "w", 0, 30, out);
      expect(Array.from(out)).toEqual(Array.from(stepValues(4).w));
    } finally {
      r.close();
    }
  });

  it("a corrupt momentum buffer excludes its step from the momentum-matched analysis", async () => {
    const mom = writeTrace(path.join(dir, "mom.gtrace"), { momentum: true });
    const momWithout = writeTrace(path.join(dir, "mom-without4.gtrace"), { momentum: true, skip: 4 });
    // Record 4's entries: w, b, then the momentum of w (after the 35 gradient floats) and of b.
    const at = payloadOffset(mom, 4, 35 + 3, 2 * SPECS.length);
    patch(mom, at, (b) => {
      b[0] ^= 0x01;
    });
    const opts = { predictors: ["zero", "last", "momentum"] };
    const got = await analyzeFile(mom, opts);
    const ref = await analyzeFile(momWithout, opts);
    expect(got.trace.problems.map((p) => [p.kind, p.step, p.tensor])).toEqual([["corrupt-record", 4, "w"]]);
    expect(got.total.kappa.momentum).toBeCloseTo(ref.total.kappa.momentum, 12);
  });

  it("convert leaves the corrupt step out (never re-checksums it) and reports it; strict refuses", () => {
    const r = openTrace(flipped);
    const out = path.join(dir, "converted.gtrace");
    const { steps, skipped } = convertTrace(r, out, { format: "gtrace" });
    expect(steps).toBe(STEPS - 1);
    expect(skipped.map((p) => [p.kind, p.step, p.tensor])).toEqual([["corrupt-record", 5, "w"]]);
    const back = openTrace(out);
    expect(back.info.steps).not.toContain(5);
    expect(back.info.problems.filter((p) => p.kind !== "missing-step")).toEqual([]);
    back.close();
    expectError(
      () => convertTrace(r, path.join(dir, "strict"), { format: "npz-dir", strict: true }),
      "E_CHECKSUM",
      /step 5, tensor w/,
    );
    r.close();
  });

  it("live mode skips the corrupt step and says so", async () => {
    const live = new LiveRun({ absPath: flipped, analyzeOptions: { predictors: ["zero", "last"] } });
    try {
      const update = await live.advance();
      expect(update?.steps).toBe(STEPS - 1);
      expect(update?.stepIndices).not.toContain(5);
      expect(update?.corruptSteps).toEqual([5]);
    } finally {
      live.close();
    }
  });

  it("npz: a stored member failing its zip CRC is corrupt data of that step and tensor", async () => {
    const npz = path.join(dir, "npz");
    fs.mkdirSync(npz);
    for (let t = 0; t < 6; t++) {
      const v = stepValues(t);
      writeNpz(path.join(npz, `step_${t}.npz`), {
        w: { dtype: "F32", shape: [6, 5], data: v.w },
        b: { dtype: "F32", shape: [5], data: v.b },
      });
    }
    const file = path.join(npz, "step_3.npz");
    const buf = fs.readFileSync(file);
    // The last 4 bytes of member b.npy's payload (b is stored first: zip order follows insertion, w then b).
    const at = buf.indexOf(Buffer.from("PK\x01\x02")) - 4;
    buf[at] ^= 0x20;
    fs.writeFileSync(file, buf);
    const got = await analyzeFile(npz);
    expect(got.trace.problems.map((p) => [p.kind, p.step, p.tensor])).toEqual([["corrupt-record", 3, "b"]]);
    expect(got.trace.steps).toBe(5);
  });
});
