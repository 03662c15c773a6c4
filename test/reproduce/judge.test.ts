/** @file The predictable-manifolds judge on synthetic records: it must never say "confirmed" (or "partially
 * confirmed") where its own numbers disagree. Each test starts from records that meet every criterion, then breaks
 * one — a window of κ outside [0.5, 1.5], a rank that is not low or still growing, a sketched r* outside its stated
 * bracket, a sketched κ outside its bound, an uninformative bound — and checks the verdict drops accordingly. A
 * fast-check property then compares every verdict with an independent recomputation of its criterion. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { judgePredictableManifolds as judge, type RunRecord } from "../../src/reproduce/index.ts";
import { modelCategory } from "../../src/reproduce/predictable-manifolds/budget.ts";
import { verdictOf } from "../../src/reproduce/predictable-manifolds/judge.ts";

const TRACKER_IDS = ["last", "ema0.5", "ema0.9", "ema0.99", "ema0.5z", "ema0.9z", "ema0.99z"];

/** A run that meets every criterion: κ ≈ 1 in every window, r* = 10 of T = 100 and flat, sketch within bounds. */
function goodRun(model: string, optimizer: "sgd" | "adam", seed: number): RunRecord {
  const kappa: Record<string, number> = { zero: 1, linear: 2, ar2: 0.9, lowrank4w16: 1.1 };
  for (const id of TRACKER_IDS) kappa[id] = 1 + 0.01 * seed;
  return {
    model,
    category: modelCategory(model),
    optimizer,
    seed,
    steps: 101,
    batch: 32,
    fullBatch: false,
    parameters: 1000,
    seconds: { train: 1, analyze: 1, total: 2 },
    finalLoss: 0.1,
    finalMetric: 0.9,
    kappa,
    kappaFloor: 0.01,
    oracleKappa: [kappa.last, 0.5, 0.3],
    windows: {
      size: 13,
      starts: [0, 7, 14],
      kappa: Object.fromEntries(TRACKER_IDS.map((id) => [id, [0.9, 1.0, 1.1]])),
    },
    predictableRank: { "0.1": 10, "0.01": 30 },
    effectiveRank: 12,
    stableRank: 3,
    prefixSteps: [26, 51, 76, 101],
    prefixRank: { "0.1": [8, 10, 10, 10], "0.01": [20, 28, 30, 30] },
    sketched: {
      spec: "sparsejl:1024",
      kappa: { ...kappa, ar2: 0.95 },
      predictableRank: { "0.1": 10, "0.01": 29 },
      errorBound: 0.2,
      kappaBound: 0.5,
      boundedPredictors: ["zero", ...TRACKER_IDS, "linear"],
      rankBracket: { "0.1": [1, 12], "0.01": [2, 40] },
    },
    bounds: { regret: {}, regretWorstCase: 1, nonconvexPathTerm: {}, exactGradient: false },
  };
}

function grid(models = ["cnn", "gpt2", "lowrank"]): RunRecord[] {
  return models.flatMap((m) =>
    (["sgd", "adam"] as const).flatMap((o) => [0, 1, 2].map((s) => goodRun(m, o, s))),
  );
}

const verdicts = (runs: RunRecord[]) => judge(runs).verdicts;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

describe("predictable-manifolds judge", () => {
  it("confirms every claim when every run meets every criterion", () => {
    for (const v of verdicts(grid())) expect(v.verdict, v.claim).toBe("confirmed");
  });

  it("stability over time: κ near 1 at the end point but one window at 3 is not 'confirmed'", () => {
    const runs = grid();
    const bad = runs[0] as Mutable<RunRecord>;
    bad.windows = {
      ...bad.windows,
      kappa: Object.fromEntries(TRACKER_IDS.map((id) => [id, [0.9, 3, 1.1]])),
    };
    const v = verdicts(runs);
    for (const claim of v.slice(0, 3)) {
      expect(claim.verdict, claim.claim).toBe("partially confirmed");
      expect(claim.evidence).toMatch(/cnn\/sgd \S+ .*~/);
    }
  });

  it("κ ≪ 1 or κ > 1.5 is not 'near the zero-predictor baseline'", () => {
    const runs = grid().map((r) => ({ ...r, kappa: { ...r.kappa, last: 0.2 } }));
    expect(verdicts(runs)[0].verdict).toBe("not confirmed");
    const some = grid().map((r) => (r.model === "cnn" ? { ...r, kappa: { ...r.kappa, last: 2.5 } } : r));
    expect(verdicts(some)[0].verdict).toBe("mixed");
  });

  it("one seed out of range fails the cell (criteria hold in every seed, not on average)", () => {
    const runs = grid().map((r) =>
      r.model === "gpt2" && r.seed === 2 ? { ...r, kappa: { ...r.kappa, last: 1.6 } } : r,
    );
    expect(verdicts(runs)[0].verdict).toBe("mixed");
  });

  it("rank: real networks are judged apart from low-rank-by-construction models", () => {
    // Real networks full rank (r* = 60 of 100, growing), construction models low rank: claim 2 is not confirmed on
    // the networks even though the controls pass.
    const runs = grid().map((r) =>
      r.category === "network"
        ? {
            ...r,
            predictableRank: { "0.1": 60, "0.01": 90 },
            prefixRank: { "0.1": [15, 30, 45, 60], "0.01": [20, 45, 70, 90] },
          }
        : r,
    );
    const v = verdicts(runs);
    expect(v[3].claim).toMatch(/real networks/);
    expect(v[3].verdict).toBe("not confirmed");
    expect(v[4].claim).toMatch(/by construction/);
    expect(v[4].verdict).toBe("confirmed");
  });

  it("rank: low at T but still doubling from T/2 to T is at most 'partially confirmed'", () => {
    const runs = grid().map((r) => ({ ...r, prefixRank: { "0.1": [2, 5, 8, 10], "0.01": [5, 15, 25, 30] } }));
    expect(verdicts(runs)[3].verdict).toBe("partially confirmed");
  });

  it("sketch: an r̃* outside its stated bracket, or a κ̃ outside its bound, is not 'confirmed'", () => {
    const outside = grid().map((r, i) =>
      i === 0 ? { ...r, sketched: { ...r.sketched, predictableRank: { "0.1": 13, "0.01": 29 } } } : r,
    );
    expect(verdicts(outside)[5].verdict).toBe("mixed");
    expect(verdicts(outside)[5].evidence).toMatch(/Outside a stated bound: cnn\/sgd/);
    const kappa = grid().map((r) => ({
      ...r,
      sketched: { ...r.sketched, kappa: { ...r.sketched.kappa, last: 1.8 } },
    }));
    expect(verdicts(kappa)[5].verdict).toBe("not confirmed");
    // A fitted predictor's error (no bound applies) does not decide the verdict.
    const fitted = grid().map((r) => ({
      ...r,
      sketched: { ...r.sketched, kappa: { ...r.sketched.kappa, ar2: 5 } },
    }));
    expect(verdicts(fitted)[5].verdict).toBe("confirmed");
  });

  it("sketch: within a bound that cannot tell κ ≈ 1 from κ ≈ 0 is only 'partially confirmed'", () => {
    const runs = grid().map((r) => ({ ...r, sketched: { ...r.sketched, kappaBound: 2.4 } }));
    expect(verdicts(runs)[5].verdict).toBe("partially confirmed");
    expect(verdicts(runs)[5].evidence).toMatch(/bound is uninformative/);
  });

  it("no runs at all: nothing is confirmed", () => {
    const v = verdicts([]);
    expect(v.every((x) => x.verdict === "not confirmed")).toBe(true);
  });

  it("property: 'confirmed' only when every cell meets the whole criterion (independent recomputation)", () => {
    const models = ["cnn", "vit", "lowrank"];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true })),
          {
            minLength: 18,
            maxLength: 18,
          },
        ),
        fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 18, maxLength: 18 }),
        (kappas, ranks) => {
          const runs = grid(models).map((r, i) => {
            const [k, w] = kappas[i];
            const windows = Object.fromEntries(TRACKER_IDS.map((id) => [id, [k, w]]));
            return {
              ...r,
              kappa: { ...r.kappa, ...Object.fromEntries(TRACKER_IDS.map((id) => [id, k])) },
              windows: { ...r.windows, kappa: windows },
              predictableRank: { ...r.predictableRank, "0.1": ranks[i] },
              prefixRank: { ...r.prefixRank, "0.1": [ranks[i], ranks[i], ranks[i], ranks[i]] },
            };
          });
          const v = verdicts(runs);
          const near = (x: number) => x >= 0.5 && x <= 1.5;
          const allStable = runs.every((r) => near(r.kappa.last) && r.windows.kappa.last.every(near));
          const anyNear = runs.some((r) => near(r.kappa.last));
          if (v[0].verdict === "confirmed") expect(allStable).toBe(true);
          if (allStable) expect(v[0].verdict).toBe("confirmed");
          if (!anyNear) expect(v[0].verdict).toBe("not confirmed");
          const networks = runs.filter((r) => r.category === "network");
          const lowRank = networks.every((r) => r.predictableRank["0.1"] <= 25);
          expect(v[3].verdict === "confirmed").toBe(lowRank);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("verdictOf: the scale", () => {
    expect(verdictOf([{ main: true, full: true }])).toBe("confirmed");
    expect(
      verdictOf([
        { main: true, full: true },
        { main: true, full: false },
      ]),
    ).toBe("partially confirmed");
    expect(
      verdictOf([
        { main: true, full: true },
        { main: false, full: false },
      ]),
    ).toBe("mixed");
    expect(verdictOf([{ main: false, full: false }])).toBe("not confirmed");
    expect(verdictOf([])).toBe("not confirmed");
  });
});
