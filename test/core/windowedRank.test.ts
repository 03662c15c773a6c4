/** @file Tests of src/core/windowedRank.ts: r*(ε) per window against brute force (the window's explicit increments,
 * ml-matrix's SVD, r*(ε) by its definition), against increments with known singular values, the undefined
 * (< 2 steps) and all-zero windows, a fast-check invariant, and the argument checks. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GradtraceError } from "../../src/core/errors.ts";
import { mat } from "../../src/core/matrix.ts";
import { createRng } from "../../src/core/rng.ts";
import { windowedPredictableRank } from "../../src/core/windowedRank.ts";
import { gramOf } from "./predictorsReference.ts";
import { bruteWindowRank, rankByDefinition } from "./rankReference.ts";

describe("windowedPredictableRank", () => {
  it("equals r*(ε) of each window's explicit increments (ml-matrix SVD) on a low-rank drift plus noise", () => {
    const rng = createRng(11);
    const n = 36;
    const p = 25;
    const basis = Array.from({ length: 3 }, () => Float64Array.from({ length: p }, () => rng.normal()));
    const g = Array.from({ length: n }, (_, t) => {
      const v = Float64Array.from({ length: p }, () => 0.02 * rng.normal());
      basis.forEach((b, r) => {
        const c = Math.cos(0.2 * t * (r + 1)) * (3 - r);
        for (let i = 0; i < p; i++) v[i] += c * b[i];
      });
      return v;
    });
    const k = gramOf(g);
    const size = 10;
    const starts = [0, 5, 10, 15, 20, 25];
    const eps = [0.5, 0.1, 0.01, 1e-4];
    const out = windowedPredictableRank(k, { starts, size, eps });
    expect(Object.keys(out)).toEqual(eps.map(String));
    for (const e of eps) {
      expect(out[String(e)]).toEqual(starts.map((s) => bruteWindowRank(g, s, size, e)));
    }
    // Not trivially constant: the noise floor shows at ε = 1e-4, the rank-3 signal at ε = 0.01.
    expect(Math.max(...out["0.01"])).toBeLessThanOrEqual(3);
    expect(Math.min(...out["0.0001"])).toBeGreaterThan(3);
  });

  it("equals r*(ε) of each window's increments, built with known singular values", () => {
    // Increments h_t = σ_t e_{t mod p}: inside a window shorter than p they are orthogonal, so the window's
    // increment matrix has exactly the singular values |σ_t|.
    const rng = createRng(3);
    const n = 30;
    const p = 40;
    const sigma = Array.from({ length: n }, () => Math.exp(3 * rng.normal()));
    const g: Float64Array[] = [Float64Array.from({ length: p }, () => rng.normal())];
    for (let t = 1; t < n; t++) {
      const next = Float64Array.from(g[t - 1]);
      next[t % p] += sigma[t];
      g.push(next);
    }
    const k = gramOf(g);
    const starts = [0, 4, 8, 12, 16, 20, 22];
    const size = 8;
    const eps = [0.5, 0.1, 0.01];
    const out = windowedPredictableRank(k, { starts, size, eps });
    for (const e of eps) {
      expect(out[String(e)]).toEqual(starts.map((s) => rankByDefinition(sigma.slice(s + 1, s + size), e)));
    }
  });

  it("is NaN for windows of fewer than two steps and 0 for a constant sequence", () => {
    const k = mat(3, 3, Float64Array.from([4, 4, 4, 4, 4, 4, 4, 4, 4]));
    expect(windowedPredictableRank(k, { starts: [0, 1], size: 2, eps: [0.1] })).toEqual({
      "0.1": [0, 0],
    });
    expect(windowedPredictableRank(k, { starts: [0, 2], size: 1, eps: [0.1] })).toEqual({
      "0.1": [Number.NaN, Number.NaN],
    });
  });

  it("is at most min(size − 1, p) and never grows with ε (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        (seed, size, p) => {
          const rng = createRng(seed);
          const n = size + 5;
          const g = Array.from({ length: n }, () => Float64Array.from({ length: p }, () => rng.normal()));
          const eps = [0.5, 0.1, 0.01, 0];
          const out = windowedPredictableRank(gramOf(g), { starts: [0, 3, 5], size, eps });
          for (let w = 0; w < 3; w++) {
            const ranks = eps.map((e) => out[String(e)][w]);
            for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1]);
            expect(ranks[ranks.length - 1]).toBeLessThanOrEqual(Math.min(size - 1, p));
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("refuses windows outside K, a non-integer size and a non-square K", () => {
    const k = mat(5, 5);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof GradtraceError ? err.code : "other";
      }
      return "none";
    };
    expect(code(() => windowedPredictableRank(k, { starts: [2], size: 4, eps: [0.1] }))).toBe("E_ARG");
    expect(code(() => windowedPredictableRank(k, { starts: [-1], size: 2, eps: [0.1] }))).toBe("E_ARG");
    expect(code(() => windowedPredictableRank(k, { starts: [0], size: 2.5, eps: [0.1] }))).toBe("E_ARG");
    expect(code(() => windowedPredictableRank(mat(2, 3), { starts: [], size: 2, eps: [0.1] }))).toBe(
      "E_SHAPE",
    );
  });
});
