/** @file Tests of src/core/subspace.ts against constructed subspaces with known answers and brute-force projections. */
import { describe, expect, test } from "vitest";
import { mat } from "../../src/core/matrix.ts";
import { staleProjectorEnergy, subspaceDrift, topLeftSubspace } from "../../src/core/subspace.ts";
import {
  fromSvd,
  naiveMatmul,
  naiveTranspose,
  orthogonalityError,
  pickColumns,
  randomMat,
  randomOrthonormal,
} from "./linalgTestUtils.ts";

describe("topLeftSubspace", () => {
  const u0 = randomOrthonormal(40, 6, 1);
  const g = fromSvd(u0, [9, 5, 3, 0.01, 0.005, 0.001], randomOrthonormal(25, 6, 2)); // out = 40, in = 25

  test.each([
    ["exact", 256],
    ["randomized", 0],
  ])("%s path recovers the top-3 left singular subspace", (_name, exactUpTo) => {
    const u = topLeftSubspace(g, 3, { exactUpTo, seed: 1 });
    expect([u.rows, u.cols]).toEqual([40, 3]);
    expect(orthogonalityError(u)).toBeLessThan(1e-12);
    for (const c of subspaceDrift(u, pickColumns(u0, [0, 1, 2]))) expect(c).toBeGreaterThan(1 - 1e-10);
  });

  test("a wide gradient (out < in) and k above the rank cap", () => {
    const wide = naiveTranspose(g); // 25×40
    const u = topLeftSubspace(wide, 100);
    expect([u.rows, u.cols]).toEqual([25, 25]);
    expect(orthogonalityError(u)).toBeLessThan(1e-12);
  });
});

describe("staleProjectorEnergy", () => {
  const q = randomOrthonormal(12, 5, 3);
  const basis = pickColumns(q, [0, 1]);

  test("1 inside the subspace, 0 orthogonal to it, a²/(a² + b²) for a mixture", () => {
    const x = randomOrthonormal(7, 2, 4);
    const inside = naiveMatmul(basis, randomMat(2, 7, 5));
    expect(staleProjectorEnergy(basis, inside)).toBeCloseTo(1, 13);
    const outside = naiveMatmul(pickColumns(q, [2, 3]), randomMat(2, 7, 6));
    expect(staleProjectorEnergy(basis, outside)).toBeLessThan(1e-28);
    const a = 3;
    const b = 2;
    const mix = fromSvd(pickColumns(q, [0, 4]), [a, b], x);
    expect(staleProjectorEnergy(basis, mix)).toBeCloseTo((a * a) / (a * a + b * b), 13);
  });

  test("matches the brute-force ‖U Uᵀ g‖²/‖g‖² on a random gradient; zero gradient gives 1", () => {
    const g = randomMat(12, 9, 7);
    const proj = naiveMatmul(basis, naiveMatmul(naiveTranspose(basis), g));
    const ref = proj.data.reduce((s, v) => s + v * v, 0) / g.data.reduce((s, v) => s + v * v, 0);
    expect(staleProjectorEnergy(basis, g)).toBeCloseTo(ref, 13);
    expect(staleProjectorEnergy(basis, mat(12, 9))).toBe(1);
  });

  test("rejects a non-orthonormal basis and mismatched shapes", () => {
    expect(() => staleProjectorEnergy(randomMat(12, 2, 1), randomMat(12, 3, 2))).toThrow(/orthonormal/);
    expect(() => staleProjectorEnergy(basis, randomMat(11, 3, 2))).toThrow(/row counts/);
  });
});

describe("subspaceDrift", () => {
  test.each([0, 0.3, 1.2, Math.PI / 2])(
    "rotating one basis vector by θ = %f gives cosines (1, cos θ)",
    (theta) => {
      const q = randomOrthonormal(10, 3, 8);
      const a = pickColumns(q, [0, 1]);
      const b = mat(10, 2);
      for (let i = 0; i < 10; i++) {
        b.data[i * 2] = q.data[i * 3];
        b.data[i * 2 + 1] = Math.cos(theta) * q.data[i * 3 + 1] + Math.sin(theta) * q.data[i * 3 + 2];
      }
      const cos = subspaceDrift(a, b);
      expect(cos[0]).toBeCloseTo(1, 12);
      expect(cos[1]).toBeCloseTo(Math.abs(Math.cos(theta)), 12);
    },
  );
});
