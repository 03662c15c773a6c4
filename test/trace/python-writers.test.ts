/** @file The traces examples/pytorch_logger.py writes (test/fixtures/python-writers, made by its make.py with numpy)
 * read back exactly as numpy saw them, in every layout it writes: the .gtrace of `GtraceWriter` (F32 and F16
 * tensors, momentum, loss, lr — and every payload's checksum verifies), safetensors and npz directories. These are
 * also seeds of the fuzz suite. */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { openTrace } from "../../src/trace/index.ts";

const DIR = path.resolve(import.meta.dirname, "../fixtures/python-writers");
const expected = JSON.parse(fs.readFileSync(path.join(DIR, "expected.json"), "utf8")) as Record<
  string,
  Record<string, number[]>
>;
const STEPS = [0, 2, 4, 6];

describe("traces written by examples/pytorch_logger.py", () => {
  it.each(["trace.gtrace", "safetensors", "npz-stored", "npz-deflated"])("%s", (name) => {
    const r = openTrace(path.join(DIR, name));
    try {
      expect(r.info.steps).toEqual(STEPS);
      expect(r.info.problems).toEqual([]);
      STEPS.forEach((step, pos) => {
        expect(Array.from(r.readTensor(pos, "fc.weight"))).toEqual(expected[String(step)]["fc.weight"]);
        // The gtrace stores fc.bias as F16: the values are numpy's float16 roundings.
        const bias = name === "trace.gtrace" ? expected.f16[String(step)] : expected[String(step)]["fc.bias"];
        expect(Array.from(r.readTensor(pos, "fc.bias"))).toEqual(bias);
      });
      if (name !== "npz-deflated") {
        expect(r.info.loss).toEqual(STEPS.map((s) => 1 / (s + 1)));
        expect(r.info.lr).toEqual(STEPS.map(() => 0.1));
      }
      if (name === "trace.gtrace") {
        const m = r.readState!(1, "fc.weight", "momentum")!;
        expect(Array.from(m)).toEqual(
          expected["2"]["fc.weight"].map((x) => Math.fround(Math.fround(0.9) * x)), // numpy multiplies in float32,
        );
      }
    } finally {
      r.close();
    }
  });
});
