/** @file Unit tests of the server's pure parts against closed forms and brute force: id validation and slugs
 * (fast-check), discovery (symlinks, hidden entries, colliding slugs), fingerprints, the binary heatmap codec
 * (property: decode ∘ encode = float32 rounding, NaN kept, values 4-byte aligned), the rank heatmap read from the
 * result's per-window r*(ε), lab normalisation, the loopback / Host / token checks, and the store's memory
 * eviction reloading from the cache. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { hostAllowed, isLoopbackHost, requestToken, tokenMatches } from "../../src/serve/auth.ts";
import { discover, fingerprint } from "../../src/serve/discover.ts";
import { normaliseLab } from "../../src/serve/lab.ts";
import { RunStore } from "../../src/serve/store.ts";
import { slugify, validateId, validateTensorName } from "../../src/serve/validate.ts";
import { decodeHeatmapBinary, encodeHeatmapBinary, heatmapView } from "../../src/serve/views.ts";
import { fakeEngine, fixtureResult, writeFakeTrace } from "./fixtures.ts";

const tmp: string[] = [];
const mkdtemp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-unit-"));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});

describe("ids and names", () => {
  it("slugify always yields a valid id (any input)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(validateId(slugify(s))).toBe(slugify(s));
      }),
    );
  });

  it.each([
    "",
    "..",
    "../x",
    "a/b",
    "a%2fb",
    "A",
    "a_b",
    "-a",
    "a-",
    "a--b",
    "a\u0000",
    "a b",
    "x".repeat(129),
  ])("refuses %j as an id", (id) => {
    expect(() => validateId(id)).toThrow(/slug/);
  });

  it("accepts tensor names with slashes, dots and brackets, refuses control characters", () => {
    expect(validateTensorName("model/layers.0/attn[q].weight")).toBe("model/layers.0/attn[q].weight");
    for (const bad of ["", "a\u0000b", "a\nb", "\u007f", "x".repeat(513)])
      expect(() => validateTensorName(bad)).toThrow();
  });
});

describe("discovery", () => {
  it("finds gtrace files and trace directories, follows symbolic links (a cycle ends), skips hidden entries", () => {
    const root = mkdtemp();
    const outside = mkdtemp();
    fs.mkdirSync(path.join(root, "a", "b"), { recursive: true });
    fs.writeFileSync(path.join(root, "a", "b", "r.gtrace"), "x");
    fs.mkdirSync(path.join(root, "st"));
    fs.writeFileSync(path.join(root, "st", "step_000001.safetensors"), "");
    fs.mkdirSync(path.join(root, "npy", "step_000001"), { recursive: true });
    fs.mkdirSync(path.join(root, "man"));
    fs.writeFileSync(path.join(root, "man", "trace.json"), "{}");
    fs.mkdirSync(path.join(root, ".cache"));
    fs.writeFileSync(path.join(root, ".cache", "h.gtrace"), "x");
    fs.writeFileSync(path.join(outside, "secret.gtrace"), "x");
    fs.symlinkSync(outside, path.join(root, "link"));
    fs.symlinkSync(path.join(outside, "secret.gtrace"), path.join(root, "linked.gtrace"));
    fs.symlinkSync(root, path.join(root, "a", "up")); // a cycle: walked once
    fs.symlinkSync(path.join(root, "gone"), path.join(root, "dangling.gtrace"));
    // step files named like another tool's (not step_<n>) are not a trace, for discovery as for openTrace
    fs.mkdirSync(path.join(root, "foreign"));
    fs.writeFileSync(path.join(root, "foreign", "weights.safetensors"), "");
    fs.writeFileSync(path.join(root, "nu.lab.json"), "{}");
    fs.writeFileSync(path.join(root, "notes.json"), '{"lr": 0.1}');
    fs.writeFileSync(
      path.join(root, "out.json"),
      JSON.stringify({ param: "nu", values: [0], points: [] }, null, 1),
    );
    const found = discover(root);
    expect(found.runs.map((r) => [r.id, r.relPath, r.isDirectory])).toEqual([
      ["a-b-r-gtrace", "a/b/r.gtrace", false],
      ["link-secret-gtrace", "link/secret.gtrace", false],
      ["linked-gtrace", "linked.gtrace", false],
      ["man", "man", true],
      ["npy", "npy", true],
      ["st", "st", true],
    ]);
    expect(found.labs.map((l) => l.relPath)).toEqual(["nu.lab.json", "out.json"]);
  });

  it("gives colliding slugs distinct ids that do not depend on discovery order", () => {
    const root = mkdtemp();
    for (const name of ["a-b.gtrace", "a_b.gtrace", "a b.gtrace"])
      fs.writeFileSync(path.join(root, name), "x");
    const before = new Map(discover(root).runs.map((r) => [r.relPath, r.id]));
    expect(new Set(before.values()).size).toBe(3);
    for (const id of before.values()) expect(id).toMatch(/^a-b-gtrace-[0-9a-f]{8}$/);
    // Removing one run leaves the others' ids unchanged (they are derived from their own paths).
    fs.rmSync(path.join(root, "a b.gtrace"));
    const after = new Map(discover(root).runs.map((r) => [r.relPath, r.id]));
    expect([...after]).toEqual([...before].filter(([p]) => p !== "a b.gtrace"));
  });

  it("uses the basename as the id when the root itself is one trace", () => {
    const root = mkdtemp();
    const t = path.join(root, "My Run.gtrace");
    fs.writeFileSync(t, "x");
    expect(discover(t).runs.map((r) => r.id)).toEqual(["my-run-gtrace"]);
    fs.mkdirSync(path.join(root, "Grads"));
    fs.writeFileSync(path.join(root, "Grads", "step_1.npz"), "");
    expect(discover(path.join(root, "Grads")).runs.map((r) => [r.id, r.relPath])).toEqual([["grads", "."]]);
  });

  it("fingerprints change when a file grows, a step file appears or the last one grows; null when gone", () => {
    const root = mkdtemp();
    const f = path.join(root, "t.gtrace");
    fs.writeFileSync(f, "abc");
    const f0 = fingerprint(f, false);
    fs.appendFileSync(f, "d");
    expect(fingerprint(f, false)).not.toBe(f0);
    const d = path.join(root, "dir");
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, "step_1.npz"), "a");
    const d0 = fingerprint(d, true);
    fs.writeFileSync(path.join(d, "step_2.npz"), "b");
    const d1 = fingerprint(d, true);
    expect(d1).not.toBe(d0);
    fs.appendFileSync(path.join(d, "step_2.npz"), "more");
    expect(fingerprint(d, true)).not.toBe(d1);
    fs.rmSync(f);
    expect(fingerprint(f, false)).toBeNull();
  });
});

describe("binary heatmap codec", () => {
  it("decode(encode(m)) is m rounded to float32, NaN kept, values 4-byte aligned", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.string({ maxLength: 7 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.oneof(fc.double({ noNaN: false }), fc.constant(Number.NaN)), {
          minLength: 36,
          maxLength: 36,
        }),
        (rows, cols, names, pool) => {
          const values = Float64Array.from({ length: rows * cols }, (_, i) => pool[i]);
          const header = {
            run: "r",
            version: 1,
            metric: "kappa" as const,
            predictor: "ema0.9",
            eps: null,
            rows,
            cols,
            tensors: names.slice(0, rows),
            starts: Array.from({ length: cols }, (_, i) => i),
            span: 1,
            firstStep: Array.from({ length: cols }, (_, i) => 2 * i),
            lastStep: Array.from({ length: cols }, (_, i) => 2 * i),
            columnsTotal: cols,
            columnRange: [0, cols] as [number, number],
            bucketed: false,
            min: null,
            max: null,
          };
          const bytes = encodeHeatmapBinary({ header, values });
          const len = new DataView(bytes.buffer).getUint32(0, true);
          expect((4 + len) % 4).toBe(0);
          const back = decodeHeatmapBinary(bytes);
          expect(back.header).toEqual(header);
          back.values.forEach((v, i) => {
            expect(Object.is(v, Math.fround(values[i])) || (Number.isNaN(v) && Number.isNaN(values[i]))).toBe(
              true,
            );
          });
        },
      ),
    );
  });

  it("pads shorter rows with NaN and reports the finite min / max", () => {
    const r = fixtureResult({ tensors: 2, steps: 6 });
    const tensors = [
      { ...r.tensors[0], gradNorm: [1, 5, 2] },
      { ...r.tensors[1], gradNorm: [3, Number.NaN, -1, 4] },
    ];
    const m = heatmapView({ ...stub(), result: { ...r, tensors } }, "x", 1, { metric: "gradNorm" });
    expect(m.header.cols).toBe(4);
    expect(Array.from(m.values)).toEqual([1, 5, 2, Number.NaN, 3, Number.NaN, -1, 4]);
    expect([m.header.min, m.header.max]).toEqual([-1, 5]);
  });

  it("takes the rank rows from each tensor's windows.predictableRank at the requested ε, NaN kept as missing", () => {
    const r = fixtureResult({ tensors: 2, steps: 12, window: 4, eps: [0.1, 0.01] });
    const rank = (e: number[]) =>
      Object.fromEntries([
        ["0.1", e],
        ["0.01", e.map((x) => 10 * x)],
      ]);
    const tensors = [
      {
        ...r.tensors[0],
        windows: { ...r.tensors[0].windows!, predictableRank: rank([1, 2, Number.NaN, 4, 5]) },
      },
      { ...r.tensors[1], windows: { ...r.tensors[1].windows!, predictableRank: rank([6, 7, 8]) } },
    ];
    const result = { ...r, tensors };
    expect(result.tensors[0].windows.starts.length).toBe(5);
    const m = heatmapView({ ...stub(), result }, "x", 1, { metric: "rank", eps: 0.01 });
    expect([m.header.rows, m.header.cols, m.header.eps]).toEqual([2, 5, 0.01]);
    expect(Array.from(m.values)).toEqual([10, 20, Number.NaN, 40, 50, 60, 70, 80, Number.NaN, Number.NaN]);
    expect([m.header.min, m.header.max]).toEqual([10, 80]);
  });
});

function stub() {
  return { cacheVersion: 1, fingerprint: "f", optionsKey: "{}", analyzedAt: "", stepIndices: [] };
}

describe("lab files", () => {
  it("normalises the column layout, keeping missing values as null", () => {
    const lab = normaliseLab(
      {
        sweep: { name: "alpha", values: [0, 0.5] },
        singularValues: [[2, 1], [3]],
        cosines: { q: [0.5, "x"] },
      },
      "f.json",
    );
    expect(lab).toEqual({
      title: "f.json",
      parameter: "alpha",
      values: [0, 0.5],
      xLabels: null,
      norms: [],
      singularValues: [
        { label: "σ1", y: [2, 3] },
        { label: "σ2", y: [1, null] },
      ],
      cosines: [{ label: "q", y: [0.5, null] }],
    });
  });

  it("flattens nested cosines of the point layout and fills labels missing at some points", () => {
    const lab = normaliseLab(
      {
        parameter: "nu",
        rows: [
          { nu: 0.1, singularValues: [1], cosines: { left: { q: 0.2 } } },
          { nu: 0.2, singularValues: [2], cosines: { left: { q: 0.4, r: 0.9 } } },
        ],
      },
      "g.json",
    );
    expect(lab.values).toEqual([0.1, 0.2]);
    expect(lab.cosines).toEqual([
      { label: "left.q", y: [0.2, 0.4] },
      { label: "left.r", y: [null, 0.9] },
    ]);
  });

  it("reads the JSON of `gradtrace lab --sweep` (means per series and swept value, categorical x)", () => {
    const point = (series: string, x: string, k: number) => ({
      series,
      x,
      seeds: [1],
      mean: {
        sigma1: 10 * k,
        sigma2: k,
        cosResidue1: 0.1 * k,
        cosResidue2: null,
        cosSpike1: 0.5,
        cosSpike2: 0.2,
        s1Norm: 2,
        s2Norm: 3,
        errNorm: 0.1,
      },
      sd: {},
    });
    const lab = normaliseLab(
      {
        param: "activation",
        values: ["relu", "tanh"],
        series: ["independent", "dependent"],
        points: [
          point("independent", "relu", 1),
          point("independent", "tanh", 2),
          point("dependent", "tanh", 4),
        ],
      },
      "act.json",
    );
    expect(lab.parameter).toBe("activation");
    expect(lab.values).toEqual([0, 1]);
    expect(lab.xLabels).toEqual(["relu", "tanh"]);
    expect(lab.singularValues).toEqual([
      { label: "independent: σ1", y: [10, 20] },
      { label: "independent: σ2", y: [1, 2] },
      { label: "dependent: σ1", y: [null, 40] },
      { label: "dependent: σ2", y: [null, 4] },
    ]);
    expect(lab.cosines.find((c) => c.label === "independent: cos(u1, X_B r)")?.y).toEqual([0.1, 0.2]);
    expect(lab.cosines.find((c) => c.label === "independent: cos(u2, X_B r)")?.y).toEqual([null, null]);
    expect(lab.norms.map((c) => c.label)).toEqual([
      "independent: ‖S1‖",
      "independent: ‖S2‖",
      "independent: ‖E‖",
      "dependent: ‖S1‖",
      "dependent: ‖S2‖",
      "dependent: ‖E‖",
    ]);
  });

  it("refuses documents that are not lab results", () => {
    expect(() => normaliseLab([1, 2], "a.json")).toThrow(/object/);
    expect(() => normaliseLab({ points: [{ singularValues: [] }] }, "b.json")).toThrow(/numeric/);
    expect(() => normaliseLab({ foo: 1 }, "c.json")).toThrow(/points/);
  });
});

describe("access checks", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["192.168.1.5", false],
    ["::", false],
    ["127.0.0.1.evil.com", false],
    ["example.com", false],
  ])("isLoopbackHost(%s) = %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });

  it.each([
    ["127.0.0.1:8080", true],
    ["localhost", true],
    ["[::1]:9", true],
    ["evil.com:8080", false],
    ["127.0.0.1.nip.io:80", false],
    ["", false],
  ])("hostAllowed(%j) = %s", (h, expected) => {
    expect(hostAllowed(h || undefined)).toBe(expected);
  });

  it("reads the token from a Bearer header first, then the query, and compares exactly", () => {
    expect(requestToken("Bearer abc", "q")).toBe("abc");
    expect(requestToken("bearer  abc ", undefined)).toBe("abc");
    expect(requestToken("Basic abc", "q")).toBe("q");
    expect(requestToken(undefined, undefined)).toBeNull();
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (a, b) => {
        expect(tokenMatches(a, b)).toBe(a === b);
      }),
    );
    expect(tokenMatches("x", null)).toBe(false);
  });
});

describe("store memory", () => {
  it("evicts parsed results beyond memoryResults and reloads them from the cache, not by re-analyzing", async () => {
    const root = mkdtemp();
    for (const [name, steps] of [
      ["a.gtrace", 10],
      ["b.gtrace", 12],
      ["c.gtrace", 14],
    ] as const) {
      writeFakeTrace(path.join(root, name), steps);
    }
    const engine = fakeEngine();
    const store = new RunStore({ root, engine, memoryResults: 1 });
    try {
      await store.idle();
      expect(engine.calls.length).toBe(3);
      for (const [id, steps] of [
        ["a-gtrace", 10],
        ["b-gtrace", 12],
        ["c-gtrace", 14],
        ["a-gtrace", 10],
      ] as const) {
        const { cached } = await store.result(id);
        expect(cached.result.trace.steps).toBe(steps);
        expect(cached.result.total.kappa).toEqual(fixtureResult({ steps, seed: steps }).total.kappa);
      }
      expect(engine.calls.length).toBe(3);
    } finally {
      store.close();
    }
  });
});
