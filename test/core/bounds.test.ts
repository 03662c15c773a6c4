import { describe, expect, it } from "vitest";
import { nonconvexBound, regretBound } from "../../src/core/bounds.ts";
import { GradtraceError } from "../../src/core/errors.ts";

describe("regretBound", () => {
  it("matches hand-computed values", () => {
    const b = regretBound(9, { diameter: 2, gradNormSq: 36 });
    expect(b.regret).toBe(6); // 2·sqrt(9)
    expect(b.regretTunedStep).toBeCloseTo(2 * Math.sqrt(18), 14); // R = D = 2
    expect(b.worstCase).toBe(12); // 2·sqrt(36)
    expect(b.ratio).toBe(0.5); // sqrt(κ) with κ = 9/36
    expect(regretBound(8, { radius: 0.5 }).regretTunedStep).toBe(2); // 0.5·sqrt(16)
    expect(regretBound(4).worstCase).toBeNaN();
  });

  it("never claims to hold unless every assumption is vouched for", () => {
    expect(regretBound(1).holds).toBe("unverified");
    expect(regretBound(1, { convex: true, boundedDomain: true }).holds).toBe("unverified");
    expect(regretBound(1, { convex: true, boundedDomain: true, optimisticLearner: true }).holds).toBe("yes");
    expect(regretBound(1, { convex: false, boundedDomain: true, optimisticLearner: true }).holds).toBe("no");
    expect(
      regretBound(1)
        .assumptions.map((a) => a.statement)
        .join(" "),
    ).toMatch(/convex/);
  });

  it("rejects negative inputs", () => {
    expect(() => regretBound(-1)).toThrow(GradtraceError);
    expect(() => regretBound(1, { diameter: Number.NaN })).toThrow(/diameter/);
  });
});

describe("nonconvexBound", () => {
  it("matches 2(f0 − f_inf)/(ηT) + P_T/T", () => {
    const b = nonconvexBound({ pathLength: 50, steps: 100, stepSize: 0.1, initialGap: 3 });
    expect(b.optimisationTerm).toBeCloseTo(0.6, 14); // 2·3/(0.1·100)
    expect(b.pathTerm).toBe(0.5);
    expect(b.value).toBeCloseTo(1.1, 14);
    expect(b.holds).toBe("unverified");
  });

  it("is a true upper bound for gradient descent on a quadratic when the assumptions hold", () => {
    // f(x) = ½ L x², exact gradient steps with the one-step predictor m_t = g_{t−1} (m_0 = 0).
    const L = 2;
    const eta = 0.4;
    let x = 3;
    const f0 = 0.5 * L * x * x;
    let prev = 0;
    let pathLength = 0;
    let sumGradSq = 0;
    const T = 20;
    for (let t = 0; t < T; t++) {
      const g = L * x;
      const m = t === 0 ? g : prev; // direction used: the prediction (first step uses g itself so it moves)
      pathLength += (g - (t === 0 ? g : prev)) ** 2;
      sumGradSq += g * g;
      prev = g;
      x -= eta * m;
    }
    const b = nonconvexBound({
      pathLength,
      steps: T,
      stepSize: eta,
      initialGap: f0,
      smoothness: L,
      smooth: true,
      predictedUpdate: true,
    });
    expect(b.holds).toBe("yes");
    expect(sumGradSq / T).toBeLessThanOrEqual(b.value);
  });

  it("checks the step-size condition when L is given", () => {
    const b = nonconvexBound({
      pathLength: 1,
      steps: 10,
      stepSize: 1,
      initialGap: 1,
      smoothness: 2,
      smooth: true,
    });
    expect(b.assumptions.find((a) => a.statement.includes("1/L"))?.verified).toBe(false);
    expect(b.holds).toBe("no");
    const unknownGap = nonconvexBound({ pathLength: 1, steps: 10, stepSize: 0.1 });
    expect(unknownGap.value).toBeNaN();
    expect(unknownGap.pathTerm).toBe(0.1);
    expect(() => nonconvexBound({ pathLength: 1, steps: 0, stepSize: 0.1 })).toThrow(/steps/);
  });
});
