import { describe, expect, it } from "vitest";
import { createRng, deriveSeed } from "../../src/core/rng.ts";

describe("createRng", () => {
  it("is reproducible from its seed and differs across seeds", () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xa = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.uint32())).not.toEqual(xa);
  });
  it("draws normals with mean 0 and variance 1", () => {
    const r = createRng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01);
  });
  it("draws uniforms in [0,1) with mean 1/2", () => {
    const r = createRng(1);
    let s = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 100_000 - 0.5)).toBeLessThan(0.005);
  });
  it("derives distinct seeds for distinct parts", () => {
    expect(deriveSeed(1, 2, 3)).not.toBe(deriveSeed(1, 3, 2));
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
  });
});
