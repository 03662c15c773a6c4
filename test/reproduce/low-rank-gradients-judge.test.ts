/** @file The judge of the low-rank-gradients reproduction on hand-made records: for every claim, records that meet
 * its criterion give "confirmed", and records that violate it (in one case or in all) never do. The verdict rule
 * itself (holds / fails / inconclusive cases → verdict) is checked on its four outcomes. */
import { describe, expect, it } from "vitest";
import {
  GEN_BASE,
  judgeLowRankGradients,
  verdictFromCases,
} from "../../src/reproduce/low-rank-gradients/judge.ts";
import {
  PLANS,
  REG_LEVELS,
  REGULARISERS,
  WEIGHTS_SERIES,
} from "../../src/reproduce/low-rank-gradients/plan.ts";
import type {
  GroupName,
  LowRankRecords,
  RunRecord,
  StepSummary,
} from "../../src/reproduce/low-rank-gradients/records.ts";

const SEEDS = [0, 1, 2];

function step(over: Partial<StepSummary> = {}): StepSummary {
  return {
    step: 0,
    dataLoss: 0.5,
    testLoss: null,
    sv: [1, 0.2, 0.15, 0.14, 0.13, 0.125, 0.12, 0.115, 0.11, 0.1],
    outliers: 1,
    bulkEdge: 0.14,
    bulkSpacing: 1.4,
    cosResidue: [0.99, 0.05],
    cosSpike: [0.05, 0.1],
    cosAMu: 0.99,
    cosLeftFactors: 0.8,
    s1Norm: 1,
    s2Norm: 0.2,
    errNorm: 0.15,
    s1NormTotal: 1,
    s2NormTotal: 0.2,
    errNormTotal: 0.15,
    regNorm: 0,
    regFrobeniusNorm: 0,
    frobeniusNorm: 1.4,
    dataFrobeniusNorm: 1.4,
    stableRank: 2,
    effectiveRank: null,
    top2Energy: 0.55,
    energyInSpan: 0.55,
    muMean: 0.5,
    ...over,
  };
}

function run(
  key: Record<string, string | number>,
  seed: number,
  steps: StepSummary[],
  extra: Partial<RunRecord> = {},
): RunRecord {
  return { key, seed, lr: 1, testBaseline: null, divergedAt: null, seconds: 0, steps, ...extra };
}

/** Records on which every claim holds: the tests below break one claim at a time. */
function goodRecords(): LowRankRecords {
  const groups = Object.fromEntries(
    (
      [
        "fig1",
        "nScaling",
        "fig2",
        "scaling",
        "regularisers",
        "generalisation",
        "training",
        "mnist",
      ] as GroupName[]
    ).map((g) => [g, { base: {}, runs: [] as RunRecord[] }]),
  ) as LowRankRecords["groups"];
  for (const w of WEIGHTS_SERIES) {
    for (const seed of SEEDS) {
      groups.fig1.runs.push(run({ series: w.label, nu: 0.1 }, seed, [step()]));
      groups.fig1.runs.push(
        run({ series: w.label, nu: 0.35 }, seed, [
          step({ outliers: 2, cosResidue: [0.3, 0.93], cosSpike: [0.94, 0.3], s2Norm: 1.5 }),
        ]),
      );
    }
  }
  for (const n of [100, 200, 400]) {
    for (const seed of SEEDS) {
      groups.nScaling.runs.push(
        run({ n, nu: 0.125 }, seed, [step({ errNorm: 0.3 * (100 / n) ** 0.5 * (1 + 0.01 * seed) })]),
      );
    }
  }
  const prominence: Record<string, number> = { relu: 1, tanh: 1.5, sigmoid: 2, gelu: 1.2, softplus: 1.4 };
  for (const norm of ["mean1", "none"]) {
    for (const [act, k] of Object.entries(prominence)) {
      for (const seed of SEEDS) {
        const jitter = 1 + 0.01 * seed;
        groups.fig2.runs.push(
          run({ alpha: 0.555556, bulkNormalise: norm, activation: act }, seed, [
            step({ s1Norm: k * jitter, errNorm: 0.2, dataFrobeniusNorm: 2 }),
          ]),
        );
      }
    }
  }
  for (const nu of [0.1, 0.3]) {
    for (const seed of SEEDS) {
      const jitter = 1 + 0.02 * seed;
      groups.scaling.runs.push(run({ scaling: "ntk", nu }, seed, [step({ s2Norm: 0.2 * jitter })]));
      groups.scaling.runs.push(run({ scaling: "mf", nu }, seed, [step({ s2Norm: 0.5 * jitter })]));
    }
  }
  // Each regulariser changes its own component by −40% and the other by −2% (with λ∇R inside G).
  for (const weights of ["independent", "dependent"]) {
    for (const seed of SEEDS) {
      const jitter = 1 + 0.01 * seed;
      const base = [step(), step({ step: 10 })];
      groups.regularisers.runs.push(
        run({ weights, regulariser: "none", level: "0", strength: 0 }, seed, base),
      );
      for (const reg of REGULARISERS) {
        const targetS1 = reg === "weightDecay";
        const changed = (s: StepSummary) =>
          step({
            step: s.step,
            s1NormTotal: s.s1NormTotal * (targetS1 ? 0.6 * jitter : 0.98),
            s2NormTotal: s.s2NormTotal * (targetS1 ? 0.98 : 0.6 * jitter),
            regFrobeniusNorm: 1.4,
          });
        for (const { level } of REG_LEVELS) {
          groups.regularisers.runs.push(
            run({ weights, regulariser: reg, level, strength: 0.1 }, seed, base.map(changed)),
          );
        }
      }
    }
  }
  // Held-out error falls as the alignment with X_Bᵀr rises, along every sweep.
  const genKeys: Record<string, string | number>[] = [
    ...[0, 0.125, 0.25, 0.35].map((nu) => ({ ...GEN_BASE, nu })),
    ...["tanh", "sigmoid", "gelu"].map((activation) => ({ ...GEN_BASE, activation })),
    ...["below", "near"].map((weightDecay) => ({ ...GEN_BASE, weightDecay })),
    { ...GEN_BASE, scaling: "mf" },
  ];
  genKeys.forEach((key, i) => {
    for (const seed of SEEDS) {
      const align = 0.3 + 0.05 * i + 0.01 * seed;
      const steps = [0, 5, 10].map((s) => step({ step: s, cosResidue: [align, 0.1], testLoss: 1 - align }));
      groups.generalisation.runs.push(run(key, seed, steps, { testBaseline: 1 }));
    }
  });
  for (const seed of SEEDS) {
    const ranks = [1.5, 1.6, 4, 4.2];
    groups.training.runs.push(
      run(
        { nu: 0.125 },
        seed,
        ranks.map((r, i) => step({ step: i, stableRank: r })),
      ),
    );
  }
  return {
    experiment: "low-rank-gradients",
    budget: "smoke",
    plan: PLANS.smoke,
    calibration: [],
    groups,
    seconds: 0,
  };
}

const verdictOf = (rec: LowRankRecords, claimStart: string) => {
  const v = judgeLowRankGradients(rec, { resamples: 200 }).filter((x) => x.claim.startsWith(claimStart));
  expect(v.length).toBeGreaterThan(0);
  return v;
};

/** Replaces matching runs' steps. */
function mutate(
  rec: LowRankRecords,
  group: GroupName,
  match: (r: RunRecord) => boolean,
  f: (s: StepSummary, r: RunRecord) => Partial<StepSummary>,
) {
  const g = rec.groups[group];
  rec.groups[group] = {
    ...g,
    runs: g.runs.map((r) => (match(r) ? { ...r, steps: r.steps.map((s) => ({ ...s, ...f(s, r) })) } : r)),
  };
}

describe("verdictFromCases", () => {
  const c = (outcome: "holds" | "fails" | "inconclusive") => ({ label: "", outcome, detail: "" });
  it("maps holds / fails / inconclusive to the four verdicts", () => {
    expect(verdictFromCases([c("holds"), c("holds")])).toBe("confirmed");
    expect(verdictFromCases([c("holds"), c("inconclusive")])).toBe("partially confirmed");
    expect(verdictFromCases([c("holds"), c("fails"), c("inconclusive")])).toBe("mixed");
    expect(verdictFromCases([c("inconclusive"), c("fails")])).toBe("not confirmed");
    expect(verdictFromCases([])).toBe("not confirmed");
  });
});

describe("judgeLowRankGradients", () => {
  it("confirms every claim on records that meet every criterion, and names a criterion for each", () => {
    const verdicts = judgeLowRankGradients(goodRecords(), { resamples: 200 });
    expect(verdicts.length).toBe(17);
    for (const v of verdicts) {
      expect(v.verdict, v.claim).toBe("confirmed");
      expect(v.criterion.length).toBeGreaterThan(40);
      expect(v.cases.every((c) => c.outcome === "holds")).toBe(true);
    }
  });

  it("Figure 1 rank one: a second outlier in one seed, or v1 off X_Bᵀr, is not confirmed", () => {
    const a = goodRecords();
    mutate(
      a,
      "fig1",
      (r) => r.key.nu === 0.1 && r.seed === 1,
      () => ({ outliers: 2 }),
    );
    for (const v of verdictOf(a, "Figure 1"))
      if (v.claim.includes("ν < 1/4")) expect(v.verdict).not.toBe("confirmed");
    const b = goodRecords();
    mutate(
      b,
      "fig1",
      (r) => r.key.nu === 0.1,
      () => ({ cosResidue: [0.5, 0.1] }),
    );
    for (const v of verdictOf(b, "Figure 1"))
      if (v.claim.includes("ν < 1/4")) expect(v.verdict).toBe("not confirmed");
  });

  it("Figure 1 rank two: one outlier (the dependent-W measurement) is not confirmed and says it disagrees with the caption", () => {
    const a = goodRecords();
    mutate(
      a,
      "fig1",
      (r) => r.key.nu === 0.35 && String(r.key.series).startsWith("dependent"),
      () => ({
        outliers: 1,
        cosResidue: [0.3, 0.05],
        cosLeftFactors: 0.999,
      }),
    );
    for (const v of verdictOf(a, "Figure 1")) {
      if (!v.claim.includes("1/4 ≤ ν")) continue;
      if (v.claim.includes("(dependent")) {
        expect(v.verdict).toBe("not confirmed");
        expect(v.evidence).toContain("disagrees with the paper's caption");
      } else expect(v.verdict).toBe("confirmed");
    }
    const b = goodRecords();
    mutate(
      b,
      "fig1",
      (r) => r.key.nu === 0.35,
      () => ({ cosSpike: [0.3, 0.3] }),
    );
    for (const v of verdictOf(b, "Figure 1"))
      if (v.claim.includes("1/4 ≤ ν")) expect(v.verdict).toBe("not confirmed");
  });

  it("‖E‖/‖S1‖ growing with n is not confirmed", () => {
    const a = goodRecords();
    mutate(
      a,
      "nScaling",
      () => true,
      (_s, r) => ({ errNorm: 0.1 * (Number(r.key.n) / 100) ** 0.3 * (1 + 0.01 * r.seed) }),
    );
    expect(verdictOf(a, "E is small")[0].verdict).toBe("not confirmed");
  });

  it("Figure 2: ReLU not the least prominent against one activation is not confirmed", () => {
    const a = goodRecords();
    mutate(
      a,
      "fig2",
      (r) => r.key.activation === "gelu",
      (s) => ({ s1Norm: s.s1Norm * 0.5 }),
    );
    for (const v of verdictOf(a, "Figure 2")) {
      expect(v.verdict).toBe("mixed");
      expect(v.cases.filter((c) => c.outcome === "fails").map((c) => c.label)).toEqual([
        "gelu (operator)",
        "gelu (frobenius)",
      ]);
    }
  });

  it("scaling: the same balance (within 10%) under mean-field and NTK is not confirmed", () => {
    const a = goodRecords();
    mutate(
      a,
      "scaling",
      (r) => r.key.scaling === "mf",
      (_s, r) => ({ s2Norm: 0.2 * (1 + 0.02 * r.seed) * 1.03 }),
    );
    const v = verdictOf(a, "The scaling regime")[0];
    expect(v.verdict).toBe("not confirmed");
    expect(v.cases.every((c) => c.outcome === "fails")).toBe(true);
  });

  it("regularisers: acting on the other component is not confirmed, acting in one setting only is at best mixed", () => {
    const a = goodRecords();
    mutate(
      a,
      "regularisers",
      (r) => r.key.regulariser === "weightDecay",
      (_, r) => ({
        s1NormTotal: 1,
        s2NormTotal: 0.2 * 0.3 * (1 + 0.01 * r.seed),
      }),
    );
    expect(verdictOf(a, "Regularisers selectively modulate the components: weight decay")[0].verdict).toBe(
      "not confirmed",
    );
    const b = goodRecords();
    mutate(
      b,
      "regularisers",
      (r) => r.key.regulariser === "inputNoise" && r.key.weights === "dependent",
      (_s, r) => ({
        s1NormTotal: 0.5 * (1 + 0.01 * r.seed),
        s2NormTotal: 0.2,
      }),
    );
    const v = verdictOf(b, "Regularisers selectively modulate the components: input noise")[0];
    expect(v.verdict).toBe("mixed");
  });

  it("regularisers: a diverged run is left out, not counted as evidence", () => {
    const a = goodRecords();
    a.groups.regularisers = {
      ...a.groups.regularisers,
      runs: a.groups.regularisers.runs.map((r) =>
        r.key.regulariser === "jacobianPenalty" ? { ...r, divergedAt: 3 } : r,
      ),
    };
    const v = verdictOf(a, "Regularisers selectively modulate the components: Jacobian")[0];
    expect(v.verdict).toBe("not confirmed");
    expect(v.evidence).toContain("diverged and are left out");
  });

  it("training: a gradual or absent change of the stable rank is not a phase transition", () => {
    const a = goodRecords();
    mutate(
      a,
      "training",
      () => true,
      (s) => ({ stableRank: 1.5 + 0.1 * s.step }),
    );
    expect(verdictOf(a, "During training")[0].verdict).toBe("not confirmed");
  });

  it("generalisation: held-out error rising with the alignment is not confirmed (the relation is reported whatever its sign)", () => {
    const a = goodRecords();
    mutate(
      a,
      "generalisation",
      () => true,
      (s) => ({ testLoss: s.cosResidue[0] }),
    );
    const v = verdictOf(a, "Gradient alignment")[0];
    expect(v.verdict).toBe("not confirmed");
    expect(v.cases[0].outcome).toBe("fails");
    expect(v.cases[0].detail).toMatch(/ρ 1 /);
  });
});
