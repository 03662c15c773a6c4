import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bf16ToFloat, f16ToFloat, floatToBf16, floatToF16 } from "../../src/trace/dtype.ts";
import {
  convertTrace,
  createGtraceWriter,
  type DType,
  locateTrace,
  openTrace,
  type TraceFormat,
  type TraceReader,
  writeNpy,
  writeNpz,
  writeSafetensors,
} from "../../src/trace/index.ts";
import { randomValues, tempDir } from "./helpers.ts";

const TENSORS = [
  { name: "fc1.weight", shape: [7, 5] },
  { name: "fc1.bias", shape: [5] },
  { name: "scale", shape: [] as number[] },
];
const STEPS = [0, 1, 2, 3, 5];

/** What a value becomes after storage as `dtype` (reference: the scalar converters, not the readers). */
function stored(x: number, dtype: DType): number {
  if (dtype === "F16") return f16ToFloat(floatToF16(x));
  if (dtype === "BF16") return bf16ToFloat(floatToBf16(x));
  if (dtype === "F32") return Math.fround(x);
  return x;
}

function stepData(step: number): Record<string, Float64Array> {
  return Object.fromEntries(
    TENSORS.map((t, i) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      return [t.name, Float64Array.from(randomValues(n, 100 * step + i), (v) => v * 1.000001)];
    }),
  );
}

type Layout = "safetensors-dir" | "npz-dir" | "npz-dir-deflated" | "npy-dir" | "gtrace";

function writeLayout(layout: Layout, root: string, dtype: DType): string {
  const target = path.join(root, layout === "gtrace" ? "run.gtrace" : layout);
  if (layout === "gtrace") {
    const w = createGtraceWriter(target, {
      tensors: TENSORS.map((t) => ({ ...t, dtype })),
      meta: { model: "mlp" },
    });
    for (const s of STEPS) w.append(s, stepData(s), { loss: 1 / (s + 1), lr: 0.1 });
    w.close();
    return target;
  }
  fs.mkdirSync(target);
  for (const s of STEPS) {
    const data = stepData(s);
    const tensors = Object.fromEntries(
      TENSORS.map((t) => [t.name, { dtype, shape: t.shape, data: data[t.name] }]),
    );
    const name = `step_${String(s).padStart(layout === "npy-dir" ? 3 : 6, "0")}`;
    if (layout === "safetensors-dir") {
      writeSafetensors(path.join(target, `${name}.safetensors`), tensors, {
        loss: String(1 / (s + 1)),
        lr: "0.1",
      });
    } else if (layout === "npy-dir") {
      fs.mkdirSync(path.join(target, name));
      for (const [n, t] of Object.entries(tensors)) writeNpy(path.join(target, name, `${n}.npy`), t);
      writeNpy(path.join(target, name, "__loss__.npy"), {
        dtype: "F64",
        shape: [],
        data: new Float64Array([1 / (s + 1)]),
      });
    } else {
      writeNpz(
        path.join(target, `${name}.npz`),
        { ...tensors, __lr__: { dtype: "F64", shape: [], data: new Float64Array([0.1]) } },
        { compress: layout === "npz-dir-deflated" },
      );
    }
  }
  return target;
}

function checkReader(r: TraceReader, dtype: DType): void {
  expect(r.info.steps).toEqual(STEPS);
  // npy-dir has no intrinsic tensor order (it lists files by name), so compare as sorted lists
  const byName = (a: unknown[], b: unknown[]): number => String(a[0]).localeCompare(String(b[0]));
  expect(r.info.tensors.map((t) => [t.name, t.shape, t.numel]).sort(byName)).toEqual(
    TENSORS.map((t) => [t.name, t.shape, t.shape.reduce((a, b) => a * b, 1)]).sort(byName),
  );
  // 3 → 5 is a gap at logging stride 1
  expect(r.info.problems.filter((p) => p.kind === "missing-step").map((p) => p.step)).toEqual([4]);
  STEPS.forEach((s, pos) => {
    const data = stepData(s);
    for (const t of TENSORS) {
      const expected = Array.from(data[t.name], (v) => stored(v, dtype));
      const whole = r.readTensor(pos, t.name);
      expect(Array.from(whole)).toEqual(expected.map(Math.fround));
      const out = new Float64Array(expected.length + 3);
      r.readSlice(pos, t.name, 0, expected.length, out, 3);
      expect(Array.from(out.subarray(3))).toEqual(expected);
    }
  });
}

describe.each(["safetensors-dir", "npz-dir", "npz-dir-deflated", "npy-dir", "gtrace"] as Layout[])(
  "%s round trip",
  (layout) => {
    const dtypes: DType[] = layout.startsWith("np") ? ["F64", "F32", "F16"] : ["F64", "F32", "F16", "BF16"];
    it.each(dtypes)("preserves %s values, steps, loss and lr", (dtype) => {
      const root = tempDir();
      const target = writeLayout(layout, root, dtype);
      const expectedFormat = (layout === "npz-dir-deflated" ? "npz-dir" : layout) as TraceFormat;
      expect(locateTrace(target).format).toBe(expectedFormat);
      const r = openTrace(target, { tmpDir: root });
      try {
        expect(r.info.format).toBe(expectedFormat);
        checkReader(r, dtype);
        if (layout !== "npz-dir" && layout !== "npz-dir-deflated")
          expect(r.info.loss).toEqual(STEPS.map((s) => 1 / (s + 1)));
        if (
          layout === "npz-dir" ||
          layout === "npz-dir-deflated" ||
          layout === "gtrace" ||
          layout === "safetensors-dir"
        ) {
          expect(r.info.lr).toEqual(STEPS.map(() => 0.1));
        }
        const bytesPer = { F64: 8, F32: 4, F16: 2, BF16: 2 }[dtype];
        expect(r.info.payloadBytes).toBe(STEPS.length * (35 + 5 + 1) * bytesPer);
      } finally {
        r.close();
      }
      // the deflated layout's cache directory is removed on close
      expect(fs.readdirSync(root).filter((n) => n.startsWith("gradtrace-cache-"))).toEqual([]);
    });
  },
);

describe("readSlice", () => {
  it.each(["safetensors-dir", "npz-dir-deflated", "gtrace"] as Layout[])(
    "at random offsets equals the slice of readTensor (%s)",
    (layout) => {
      const root = tempDir();
      const r = openTrace(writeLayout(layout, root, "F32"), { tmpDir: root });
      try {
        fc.assert(
          fc.property(fc.nat(STEPS.length - 1), fc.nat(34), fc.nat(35), (pos, a, len) => {
            const count = Math.min(len, 35 - a);
            const whole = r.readTensor(pos, "fc1.weight");
            const out = new Float64Array(count);
            r.readSlice(pos, "fc1.weight", a, count, out);
            expect(Array.from(out)).toEqual(Array.from(whole.subarray(a, a + count)));
          }),
          { numRuns: 60 },
        );
      } finally {
        r.close();
      }
    },
  );
});

describe("convertTrace", () => {
  const targets: TraceFormat[] = ["safetensors-dir", "npz-dir", "npy-dir", "gtrace", "manifest"];
  it.each(targets)("gtrace → %s → reads back the same values, loss and lr", (format) => {
    const root = tempDir();
    const src = openTrace(writeLayout("gtrace", root, "F64"), { tmpDir: root });
    const dst = path.join(root, `out-${format}`);
    try {
      convertTrace(src, dst, { format });
      expect(() => convertTrace(src, dst, { format })).toThrow(/already exists/);
    } finally {
      src.close();
    }
    const r = openTrace(dst);
    try {
      expect(r.info.format).toBe(format);
      checkReader(r, "F64");
      expect(r.info.loss).toEqual(STEPS.map((s) => 1 / (s + 1)));
      expect(r.info.lr).toEqual(STEPS.map(() => 0.1));
    } finally {
      r.close();
    }
  });
});

describe("round trip property", () => {
  const dtypeArb = fc.constantFrom<DType>("F64", "F32", "F16", "BF16");
  const specArb = fc.array(
    fc.record({ shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), dtype: dtypeArb }),
    {
      minLength: 1,
      maxLength: 4,
    },
  );
  it("any shapes (empty ones included) and dtypes survive gtrace, safetensors and npz (stored/deflated)", () => {
    fc.assert(
      fc.property(specArb, fc.integer({ min: 1, max: 3 }), fc.nat(1000), (specs, nSteps, seed) => {
        const root = tempDir();
        const tensors = specs.map((s, i) => ({ name: `t${i}`, shape: s.shape, dtype: s.dtype }));
        const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
        const values = (step: number, i: number): Float64Array =>
          Float64Array.from(randomValues(numel(tensors[i].shape), seed + 10 * step + i), (v) => v * 3.7);
        const w = createGtraceWriter(path.join(root, "p.gtrace"), { tensors });
        for (const dir of ["st", "npz", "npzd"]) fs.mkdirSync(path.join(root, dir));
        for (let s = 0; s < nSteps; s++) {
          w.append(s, Object.fromEntries(tensors.map((t, i) => [t.name, values(s, i)])));
          const files = Object.fromEntries(
            tensors.map((t, i) => [t.name, { dtype: t.dtype, shape: t.shape, data: values(s, i) }]),
          );
          writeSafetensors(path.join(root, "st", `step_${s}.safetensors`), files);
          const npyFiles = Object.fromEntries(
            tensors.map((t, i) => [
              t.name,
              { dtype: t.dtype === "BF16" ? ("F32" as const) : t.dtype, shape: t.shape, data: values(s, i) },
            ]),
          );
          writeNpz(path.join(root, "npz", `step_${s}.npz`), npyFiles);
          writeNpz(path.join(root, "npzd", `step_${s}.npz`), npyFiles, { compress: true });
        }
        w.close();
        for (const target of ["p.gtrace", "st", "npz", "npzd"]) {
          const r = openTrace(path.join(root, target), { tmpDir: root });
          try {
            expect(r.info.steps).toEqual(Array.from({ length: nSteps }, (_, s) => s));
            for (let s = 0; s < nSteps; s++) {
              tensors.forEach((t, i) => {
                const dtype = target.startsWith("npz") && t.dtype === "BF16" ? "F32" : t.dtype;
                const want = Array.from(values(s, i), (v) => stored(v, dtype));
                const out = new Float64Array(want.length);
                r.readSlice(s, t.name, 0, want.length, out);
                expect(Array.from(out)).toEqual(want);
              });
            }
          } finally {
            r.close();
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});
