/** @file The heatmap's row filter and ordering (web/src/rows.ts, pure code run here in Node): against a
 * brute-force reference and as fast-check properties — the rows shown are exactly the matching ones, each with its
 * own values, in the requested order, rows without values last. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nameMatcher, ROW_ORDERS, selectRows } from "../../web/src/rows.ts";

describe("nameMatcher", () => {
  it.each([
    ["conv", "model.Conv1.weight", true],
    ["conv", "fc.weight", false],
    ["/^fc\\./", "fc.weight", true],
    ["/^fc\\./", "x.fc.weight", false],
    ["/WEIGHT$/i", "fc.weight", true],
    ["/([/", "a/([/b", true], // invalid expression: plain text
    ["", "anything", true],
  ])("%j matches %j: %s", (filter, name, expected) => {
    expect(nameMatcher(filter)(name)).toBe(expected);
  });
});

const rowMean = (v: Float32Array, r: number, cols: number) => {
  const xs = Array.from(v.subarray(r * cols, (r + 1) * cols)).filter((x) => !Number.isNaN(x));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
};

describe("selectRows", () => {
  it("filters, orders and copies rows (properties)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(...ROW_ORDERS),
        fc.constantFrom("", "a", "/[02468]$/"),
        fc.array(fc.oneof(fc.float({ noNaN: true, min: -5, max: 5 }), fc.constant(Number.NaN)), {
          minLength: 60,
          maxLength: 60,
        }),
        (rows, cols, order, filter, pool) => {
          const names = Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? `a${i}` : `b${i}`));
          const values = Float32Array.from({ length: rows * cols }, (_, i) => pool[i]);
          const sel = selectRows(names, values, cols, { filter, order });
          const match = nameMatcher(filter);
          expect([...sel.indices].sort((x, y) => x - y)).toEqual(
            names.map((_, i) => i).filter((i) => match(names[i])),
          );
          sel.indices.forEach((src, k) => {
            expect(sel.names[k]).toBe(names[src]);
            expect(Array.from(sel.values.subarray(k * cols, (k + 1) * cols))).toEqual(
              Array.from(values.subarray(src * cols, (src + 1) * cols)),
            );
          });
          if (order === "trace") expect(sel.indices).toEqual([...sel.indices].sort((x, y) => x - y));
          if (order === "mean-desc" || order === "mean-asc") {
            const keys = sel.indices.map((i) => rowMean(values, i, cols));
            const firstNaN = keys.findIndex(Number.isNaN);
            if (firstNaN >= 0) expect(keys.slice(firstNaN).every(Number.isNaN)).toBe(true);
            const finite = firstNaN >= 0 ? keys.slice(0, firstNaN) : keys;
            for (let k = 1; k < finite.length; k++) {
              if (order === "mean-desc") expect(finite[k]).toBeLessThanOrEqual(finite[k - 1] + 1e-6);
              else expect(finite[k]).toBeGreaterThanOrEqual(finite[k - 1] - 1e-6);
            }
          }
        },
      ),
    );
  });

  it("orders by maximum with ties in trace order", () => {
    const values = Float32Array.from([1, 5, 3, 3, Number.NaN, Number.NaN, 5, 0]);
    expect(selectRows(["a", "b", "c", "d"], values, 2, { order: "max-desc" }).names).toEqual([
      "a",
      "d",
      "b",
      "c",
    ]);
  });
});
