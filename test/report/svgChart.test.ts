/** @file The SVG chart renderer: tick algorithms against hand-computed tables, and the drawn coordinates against the
 * affine / log maps computed by hand for a fixed panel geometry (320×230 px, margins left 56, right 12, top 26,
 * bottom 40: plot area x ∈ [56, 308], y ∈ [26, 190]). */
import { describe, expect, it } from "vitest";
import { formatTick } from "../../src/core/format.ts";
import { escapeXml, logTicks, niceTicks, PALETTE, renderSvgChart } from "../../src/report/svgChart.ts";

describe("ticks", () => {
  it.each([
    [0, 1, 5, [0, 0.2, 0.4, 0.6, 0.8, 1]],
    [0.03, 0.47, 5, [0.1, 0.2, 0.3, 0.4]],
    [-3, 7, 5, [-2, 0, 2, 4, 6]],
    [0, 0.45, 5, [0, 0.1, 0.2, 0.3, 0.4]],
    [2, 2, 5, [2]],
  ])("niceTicks(%d, %d, %d)", (lo, hi, count, want) => {
    expect(niceTicks(lo, hi, count)).toEqual(want);
  });
  it.each([
    [0.5, 2000, [1, 10, 100, 1000]],
    [2, 30, [2, 5, 10, 20]],
    [0.001, 1e6, [0.001, 0.01, 0.1, 1, 10, 100, 1000, 10000, 100000, 1000000]],
  ])("logTicks(%d, %d)", (lo, hi, want) => {
    expect(logTicks(lo, hi)).toEqual(want);
  });
  it("formatTick and escapeXml", () => {
    expect(formatTick(0.30000000000000004)).toBe("0.3");
    expect(formatTick(123456)).toBe("1.2e5");
    expect(formatTick(0.0002)).toBe("2.0e-4");
    expect(escapeXml(`a<b & "c">`)).toBe("a&lt;b &amp; &quot;c&quot;&gt;");
  });
});

describe("renderSvgChart", () => {
  const one = (extra: object, series: object[]) =>
    renderSvgChart({
      panels: [{ title: "t", xDomain: [0, 1], yDomain: [0, 1], series, ...extra } as never],
      legend: false,
    });

  it("maps data linearly onto the plot area", () => {
    const svg = one({}, [{ name: "s", x: [0, 0.5, 1], y: [0, 0.5, 1] }]);
    expect(svg).toContain('d="M56 190L182 108L308 26"');
    expect(svg).toContain('<circle cx="182" cy="108" r="2.5"');
  });

  it("maps y logarithmically with logY", () => {
    const svg = one({ logY: true, yDomain: [1, 100] }, [{ name: "s", x: [0, 1], y: [10, 100] }]);
    expect(svg).toContain('d="M56 108L308 26"');
  });

  it("breaks a line at non-finite points and skips non-positive values on a log axis", () => {
    const svg = one({}, [{ name: "s", x: [0, 0.5, 1], y: [0, Number.NaN, 1] }]);
    expect(svg).toContain('d="M56 190M308 26"');
    const logSvg = one({ logY: true, yDomain: [1, 100] }, [{ name: "s", x: [0, 0.5, 1], y: [10, -1, 100] }]);
    expect(logSvg).toContain('d="M56 108M308 26"');
  });

  it("draws error bars y ± err with caps", () => {
    const svg = one({}, [{ name: "s", x: [0.5], y: [0.5], yErr: [0.25] }]);
    // y = 0.75 → 190 − 0.75·164 = 67; y = 0.25 → 149.
    expect(svg).toContain('d="M182 67L182 149M179 67L185 67M179 149L185 149"');
  });

  it("gives a series name the same colour in every panel and lists each name once in the legend", () => {
    const svg = renderSvgChart({
      panels: [
        {
          title: "a",
          series: [
            { name: "relu", x: [0, 1], y: [1, 2] },
            { name: "tanh", x: [0, 1], y: [2, 3] },
          ],
        },
        { title: "b", series: [{ name: "tanh", x: [0, 1], y: [5, 4] }] },
      ],
    });
    const tanhPaths = svg.match(new RegExp(`<path d="[^"]*" fill="none" stroke="${PALETTE[1]}"`, "g")) ?? [];
    expect(tanhPaths.length).toBe(2);
    expect(svg.match(/>tanh<\/text>/g)?.length).toBe(1);
    expect(svg.match(/>relu<\/text>/g)?.length).toBe(1);
  });

  it("lays panels out in a grid and sizes the figure", () => {
    const panel = { title: "p", series: [{ name: "s", x: [0, 1], y: [0, 1] }] };
    const svg = renderSvgChart({ panels: [panel, panel, panel, panel], columns: 2, legend: false });
    expect(svg).toMatch(/^<svg [^>]*width="640" height="460"/);
    expect(svg.match(/<g>/g)?.length).toBe(4);
  });

  it("uses category names as x ticks and shows 'no data' for an empty panel", () => {
    const svg = renderSvgChart({
      panels: [
        { title: "c", xCategories: ["relu", "tanh"], series: [{ name: "s", x: [0, 1], y: [1, 2] }] },
        { title: "empty", series: [] },
      ],
      legend: false,
    });
    expect(svg).toContain(">relu</text>");
    expect(svg).toContain(">tanh</text>");
    expect(svg).toContain(">no data</text>");
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it("escapes titles and labels", () => {
    const svg = renderSvgChart({ title: "a<b", panels: [{ title: "x&y", series: [] }] });
    expect(svg).toContain("a&lt;b");
    expect(svg).toContain("x&amp;y");
  });
});
