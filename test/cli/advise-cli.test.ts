/** @file `gradtrace advise` end to end on the demo's trace (a CNN trained on MNIST digits by `gradtrace demo`,
 * shortened): the JSON it writes equals the library call's result, follows the documented shape, and the table,
 * caveat, snippet and HTML heatmaps are there; bad flags and existing outputs are refused. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advise } from "../../src/analysis/index.ts";
import { createRng, mat, matmul, rangeSketchOmega } from "../../src/core/index.ts";
import { createGtraceWriter } from "../../src/trace/index.ts";
import { runCli } from "./run.ts";

const run = runCli;

describe("gradtrace advise (CLI) on the demo trace", () => {
  let dir: string;
  let demo: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-advise-"));
    demo = path.join(dir, "demo");
    const r = await run("demo", "--steps", "24", "--out", demo);
    expect(r.code, r.err).toBe(0);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("JSON equals the library call; table, caveat, snippet and HTML heatmaps are written", async () => {
    const json = path.join(dir, "advice.json");
    const html = path.join(dir, "advice.html");
    const args = ["--target", "0.7", "--ranks", "1,2,4,8", "--intervals", "1,5,12,24", "--min-interval", "5"];
    const r = await run("advise", demo, ...args, "--json", json, "--html", html);
    expect(r.code, r.err).toBe(0);
    const written = JSON.parse(fs.readFileSync(json, "utf8"));
    const lib = await advise(demo, {
      target: 0.7,
      ranks: [1, 2, 4, 8],
      intervals: [1, 5, 12, 24],
      minInterval: 5,
    });
    expect(written).toEqual(JSON.parse(JSON.stringify(lib)));
    // The documented shape: tensors[] with name, ranks, intervals, energy (ranks × intervals in [0, 1]), advice.
    expect(written.tensors.map((t: { name: string }) => t.name)).toEqual([
      "conv1.weight",
      "conv2.weight",
      "fc1.weight",
      "fc2.weight",
    ]);
    for (const t of written.tensors) {
      expect(t.energy).toHaveLength(t.ranks.length);
      for (const row of t.energy) {
        expect(row).toHaveLength(t.intervals.length);
        for (const e of row) expect(e >= 0 && e <= 1).toBe(true);
      }
      expect(Object.keys(t.advice)).toEqual(expect.arrayContaining(["rank", "interval", "energy"]));
      if (t.advice.projected) {
        const i = t.ranks.indexOf(t.advice.rank);
        const j = t.intervals.indexOf(t.advice.interval);
        expect(t.energy[i][j]).toBe(t.advice.energy);
        expect(t.advice.energy).toBeGreaterThanOrEqual(0.7);
        expect(t.advice.interval).toBeGreaterThanOrEqual(5);
      }
      // The demo trains with Adam and logs its first moment: the progress share is there.
      expect(t.progressShare).toHaveLength(t.ranks.length);
    }
    expect(r.out).toMatch(/^GaLore advice/);
    expect(r.out).toContain("fc1.weight");
    expect(r.out).toContain("Song, Ahn & Yun");
    expect(r.out).toContain("GaLoreAdamW");
    expect(r.out).toMatch(/uniform setting of equal memory: r = \d+/);
    const page = fs.readFileSync(html, "utf8");
    expect(page.match(/<figure class="advise-tensor"/g)).toHaveLength(4);
    expect(page).toContain("update_proj_gap");
  }, 120_000);

  it("refuses an existing output, a bad target and a sketched-only trace with specific errors", async () => {
    const json = path.join(dir, "exists.json");
    fs.writeFileSync(json, "{}");
    const exists = await run("advise", demo, "--json", json);
    expect(exists.code).toBe(4);
    expect(exists.err).toMatch(/--json: .*exists\.json already exists \(pass --force/);
    const bad = await run("advise", demo, "--target", "1.5");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--target: "1\.5" must be a number in \(0, 1\]/);
    const few = await run("advise", demo, "--intervals", "500");
    expect(few.code).toBe(2);
    expect(few.err).toMatch(/every interval exceeds the 24 steps/);
  });

  it("runs on a sketched-only trace from its range sketches, each E with its stated error", async () => {
    // What a large run logs: JL sketches of every tensor (no full gradient) plus range sketches Y = G·Ω.
    const file = path.join(dir, "sketched.gtrace");
    const rows = 12;
    const cols = 40;
    const s = 16;
    const omega = rangeSketchOmega(4, "w", cols, s);
    const w = createGtraceWriter(file, {
      tensors: [{ name: "w", shape: [8] }],
      sketch: { kind: "jl", k: 8, seed: 4, seeding: "name", originalNumel: { w: rows * cols } },
      rangeSketch: { s, seed: 4, seeding: "name", tensors: [{ name: "w", rows, cols }] },
    });
    const rng = createRng(9);
    const u = Float64Array.from({ length: rows * 2 }, () => rng.normal());
    for (let t = 0; t < 20; t++) {
      const g = mat(rows, cols);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++)
          g.data[i * cols + j] =
            u[i * 2] * Math.sin(j + t * 0.1) + 0.5 * u[i * 2 + 1] * Math.cos(j) + 0.02 * rng.normal();
      w.append(t, { w: new Float32Array(8) }, { range: { w: Float32Array.from(matmul(g, omega).data) } });
    }
    w.close();
    const json = path.join(dir, "sketched.json");
    const r = await run("advise", file, "--intervals", "1,5,20", "--min-interval", "5", "--json", json);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(fs.readFileSync(json, "utf8"));
    expect(res.intervalMethod).toBe("sketch-error");
    expect(res.tensors).toHaveLength(1);
    const t = res.tensors[0];
    expect(t.source).toBe("rangeSketch");
    // Ranks stop below min(shorter side, s − 1).
    expect(t.ranks).toEqual([1, 2, 4, 8]);
    // A rank-2 signal: rank 2 keeps nearly everything at every interval.
    for (const e of t.energy[1]) expect(e).toBeGreaterThan(0.95);
    t.energyError.flat().forEach((e: number) => {
      expect(e).toBeGreaterThanOrEqual(0);
    });
    expect(r.out).toContain("range sketches' stated error");
    // The full-gradient source is refused with a specific message on this trace.
    const forced = await run("advise", file, "--source", "gradients");
    expect(forced.code).toBe(1);
    expect(forced.err).toMatch(/holds sketched gradients only; source "gradients" needs full gradients/);
  });
});
