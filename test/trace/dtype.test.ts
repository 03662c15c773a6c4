import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bf16ToFloat, decodeInto, f16ToFloat, floatToBf16, floatToF16 } from "../../src/trace/dtype.ts";

/** Every finite F16 value, ascending, with its bit pattern (brute-force reference for rounding). */
const finiteF16: { v: number; b: number }[] = [];
for (let b = 0; b < 0x7c00; b++) {
  finiteF16.push({ v: b >> 10 === 0 ? b * 2 ** -24 : (1 + (b & 1023) / 1024) * 2 ** ((b >> 10) - 15), b });
}

function referenceF16(x: number): number {
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = finiteF16.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (finiteF16[mid].v <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - finiteF16[lo].v;
  const dh = finiteF16[hi].v - a;
  const pick = dl < dh ? lo : dh < dl ? hi : finiteF16[lo].b % 2 === 0 ? lo : hi;
  return sign | finiteF16[pick].b;
}

describe("F16", () => {
  it.each([
    [0x0000, 0],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x7c00, Number.POSITIVE_INFINITY],
    [0xfc00, Number.NEGATIVE_INFINITY],
  ])("decodes 0x%s exactly", (bits, value) => {
    expect(f16ToFloat(bits)).toBe(value);
  });
  it("decodes -0 and NaN", () => {
    expect(Object.is(f16ToFloat(0x8000), -0)).toBe(true);
    expect(Number.isNaN(f16ToFloat(0x7e00))).toBe(true);
    expect(Number.isNaN(f16ToFloat(0xfc01))).toBe(true);
  });
  it("encode∘decode is the identity on every non-NaN pattern", () => {
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      if ((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0) continue;
      if (floatToF16(f16ToFloat(b)) !== b) bad.push(b);
    }
    expect(bad).toEqual([]);
  });
  it("rounds to the nearest F16, ties to even, like a brute-force search", () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (x) => {
        expect(floatToF16(x)).toBe(referenceF16(x));
      }),
      { numRuns: 3000 },
    );
    // exact midpoints: 1 + 2^-11 lies between 1 and 1 + 2^-10 → even (1); 1 + 3·2^-11 → 1 + 2^-9
    expect(floatToF16(1 + 2 ** -11)).toBe(0x3c00);
    expect(floatToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToF16(2 ** -25)).toBe(0); // half the smallest subnormal → ties to even zero
    expect(floatToF16(3 * 2 ** -25)).toBe(2);
    expect(floatToF16(65519.99)).toBe(0x7bff);
    expect(floatToF16(65520)).toBe(0x7c00);
    expect(floatToF16(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(floatToF16(-0)).toBe(0x8000);
  });
});

describe("BF16", () => {
  it("decodes every pattern as the float32 with those upper bits", () => {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      u[0] = b << 16;
      const got = bf16ToFloat(b);
      const ok = Number.isNaN(f[0]) ? Number.isNaN(got) : Object.is(got, f[0]);
      if (!ok) bad.push(b);
    }
    expect(bad).toEqual([]);
  });
  it("encodes by round-to-nearest-even of the float32 bits", () => {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        u[0] = bits;
        if (Number.isNaN(f[0])) return;
        const x = f[0];
        const lower = bits >>> 16;
        const rest = bits & 0xffff;
        const up = rest > 0x8000 || (rest === 0x8000 && (lower & 1) === 1);
        const expected = up ? lower + 1 : lower;
        expect(floatToBf16(x)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
    expect(floatToBf16(2 ** -133)).toBe(1); // smallest subnormal
    expect(floatToBf16(Number.POSITIVE_INFINITY)).toBe(0x7f80);
    expect(floatToBf16(-0)).toBe(0x8000);
  });
});

describe("decodeInto", () => {
  it("reads big-endian and unaligned data like DataView", () => {
    const values = [1.5, -2.25, 3e-40, Number.POSITIVE_INFINITY];
    const buf = new Uint8Array(1 + values.length * 8);
    const dv = new DataView(buf.buffer);
    values.forEach((v, i) => {
      dv.setFloat64(1 + i * 8, v, false);
    });
    const out = new Float64Array(values.length);
    decodeInto(buf.subarray(1), "F64", false, values.length, out);
    expect(Array.from(out)).toEqual(values);
    values.forEach((v, i) => {
      dv.setFloat32(1 + i * 4, v, true);
    });
    decodeInto(buf.subarray(1), "F32", true, values.length, out);
    expect(Array.from(out)).toEqual(values.map((v) => Math.fround(v)));
  });
});
