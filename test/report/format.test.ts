import { describe, expect, it } from "vitest";
import { compilePattern, selectTensors } from "../../src/analysis/select.ts";
import { parseBytes, parseNumberList } from "../../src/cli/parse.ts";
import { GradtraceError } from "../../src/core/errors.ts";
import { fmtNum } from "../../src/core/format.ts";
import { csvCell, csvFileName } from "../../src/report/csv.ts";
import { sparkline } from "../../src/report/format.ts";

describe("fmtNum", () => {
  it.each([
    [0, "0"],
    [1, "1"],
    [0.123456, "0.123"],
    [123.456, "123"],
    [12345, "1.23e+4"],
    [0.000123, "1.23e-4"],
    [-2.5, "-2.5"],
    [Number.NaN, "n/a"],
    [Number.POSITIVE_INFINITY, "inf"],
  ])("%s → %s", (x, s) => expect(fmtNum(x)).toBe(s));
});

describe("sparkline", () => {
  it("maps the minimum to ▁ and the maximum to █, one glyph per bucket", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([1, 1, 1], 3)).toBe("▄▄▄");
    expect(sparkline([0, 0, 10, 10], 2)).toBe("▁█");
    expect(sparkline([])).toBe("");
  });
});

describe("CLI value parsers", () => {
  it("parses sizes with units and rejects nonsense", () => {
    expect(parseBytes("--memory")("512M")).toBe(512 * 2 ** 20);
    expect(parseBytes("--memory")("2G")).toBe(2 * 2 ** 30);
    expect(parseBytes("--memory")("1.5gib")).toBe(1.5 * 2 ** 30);
    expect(() => parseBytes("--memory")("lots")).toThrow(/--memory: "lots" is not a size/);
    expect(() => parseBytes("--memory")("10k")).toThrow(/too small/);
  });
  it("parses number lists and names the bad entry", () => {
    expect(parseNumberList("--eps")("0.1, 0.01")).toEqual([0.1, 0.01]);
    expect(() => parseNumberList("--eps")("0.1,x")).toThrow(GradtraceError);
  });
});

describe("tensor selection", () => {
  const names = ["enc.0.weight", "enc.0.bias", "dec.weight", "dec.bias"];
  it("matches globs and /regex/, excludes, and refuses an empty selection", () => {
    expect(selectTensors(names, { include: ["enc.*"] })).toEqual(["enc.0.weight", "enc.0.bias"]);
    expect(selectTensors(names, { include: ["/bias$/"] })).toEqual(["enc.0.bias", "dec.bias"]);
    expect(selectTensors(names, { exclude: ["*.bias"] })).toEqual(["enc.0.weight", "dec.weight"]);
    expect(compilePattern("a?c").test("abc")).toBe(true);
    expect(compilePattern("a.c").test("abc")).toBe(false);
    expect(() => selectTensors(names, { include: ["nope"] })).toThrow(/no tensor matches/);
    expect(() => compilePattern("/(/")).toThrow(/invalid regular expression/);
  });
});

describe("CSV helpers", () => {
  it("quotes cells per RFC 4180 and makes safe file names", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvFileName("layers/0:weight")).toBe("layers_0_weight.csv");
  });
});
