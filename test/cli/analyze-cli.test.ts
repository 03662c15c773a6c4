import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fmtNum } from "../../src/core/format.ts";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter } from "../../src/trace/index.ts";
import { runCli } from "./run.ts";

const run = runCli;

describe("gradtrace analyze (CLI)", () => {
  let dir: string;
  let trace: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-cli-"));
    trace = path.join(dir, "run.gtrace");
    const w = createGtraceWriter(trace, {
      tensors: [
        { name: "layer.weight", shape: [4, 6] },
        { name: "layer.bias", shape: [4] },
      ],
    });
    const rng = createRng(2);
    const base = Float32Array.from({ length: 24 }, () => rng.normal());
    for (let t = 0; t < 30; t++) {
      w.append(t, {
        "layer.weight": base.map((x) => x + 0.1 * rng.normal()),
        "layer.bias": Float32Array.from({ length: 4 }, () => (t % 2 ? 1 : -1) + 0.01 * rng.normal()),
      });
    }
    w.close();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("prints the table and summary, writes JSON/HTML/CSV, and the JSON follows the schema", async () => {
    const json = path.join(dir, "out.json");
    const html = path.join(dir, "out.html");
    const csv = path.join(dir, "csv");
    const r = await run(
      "analyze",
      trace,
      "--json",
      json,
      "--html",
      html,
      "--csv",
      csv,
      "--predictors",
      "zero,last,ema0.9",
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/κ last/);
    expect(r.out).toMatch(/layer\.weight/);
    const result = JSON.parse(fs.readFileSync(json, "utf8"));
    // The plain-language reading names the predictor with the smallest κ and its value.
    const best = ["last", "ema0.9"].sort((a, b) => result.total.kappa[a] - result.total.kappa[b])[0];
    expect(result.summary).toContain(
      `best predictor of the whole-model gradient is ${best}, κ = ${fmtNum(result.total.kappa[best])}`,
    );
    expect(r.out).toContain(result.summary);
    expect(result.schemaVersion).toBe(2);
    expect(result.trace.steps).toBe(30);
    expect(result.total.kappa.zero).toBe(1);
    // The bias flips sign every step: the one-step predictor is far worse than zero (κ → 4).
    const bias = result.tensors.find((t: { name: string }) => t.name === "layer.bias");
    expect(bias.kappa.last).toBeGreaterThan(3.5);
    expect(Object.keys(bias.predictableRank)).toEqual(["0.1", "0.05", "0.01"]);
    const page = fs.readFileSync(html, "utf8");
    expect(page).toMatch(/<svg[\s\S]*layer\.weight/);
    // The report's total row shows the same κ as the JSON (3 significant digits), and no script or external asset.
    const totalRow = /<tr class="total" data-tensor="total">(.*?)<\/tr>/.exec(page)![1];
    expect(totalRow).toContain(`<td>${fmtNum(result.total.kappa.last)} <small>`);
    // The oracle's κ sits beside the predictors' in the table and the HTML (rank 4; rank 0 would be κ(last)).
    expect(r.out).toMatch(/κ oracle4/);
    expect(totalRow).toContain(`<td>${fmtNum(result.total.oracleKappa[4])}</td>`);
    expect(result.total.oracleKappa[0]).toBeCloseTo(result.total.kappa.last, 10);
    expect(page).toContain("oracle κ of the best rank-k increment predictor");
    expect(page).not.toMatch(/<script|src="http|href="http/);
    const lines = fs.readFileSync(path.join(csv, "total.csv"), "utf8").trim().split("\n");
    expect(lines[0]).toBe("step,gradNormSq,error_zero,error_last,error_ema0.9");
    expect(lines).toHaveLength(31);
  });

  it("--burn-in B leaves the first B steps out of the sums; a burn-in that leaves < 2 steps is refused", async () => {
    const json = path.join(dir, "burn.json");
    const r = await run(
      "analyze",
      trace,
      "--burn-in",
      "5",
      "--json",
      json,
      "-q",
      "--no-bootstrap",
      "-p",
      "zero,last",
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(fs.readFileSync(json, "utf8"));
    expect(result.options.burnIn).toBe(5);
    expect(result.total.kappaFloor).toBe(0);
    expect(result.total.windows.starts[0]).toBe(5);
    expect(result.summary).toMatch(/first 5 left out by the burn-in/);
    const bad = await run("analyze", trace, "--burn-in", "29", "-q");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/burn-in 29/);
    expect((await run("analyze", trace, "--burn-in", "-1", "-q")).code).toBe(2);
  });

  it("refuses to overwrite an output without --force, leaving the file untouched", async () => {
    const json = path.join(dir, "keep.json");
    fs.writeFileSync(json, "mine");
    const r = await run("analyze", trace, "--json", json);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/keep\.json already exists/);
    expect(fs.readFileSync(json, "utf8")).toBe("mine");
    expect((await run("analyze", trace, "--json", json, "--force", "--quiet")).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(json, "utf8")).schemaVersion).toBe(2);
  });

  it("reports bad input with one line and a specific exit code, never a stack trace", async () => {
    const missing = await run("analyze", path.join(dir, "nope"));
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^gradtrace: .*nope/);
    expect(missing.err).not.toMatch(/\n\s+at /);
    const badPred = await run("analyze", trace, "--predictors", "last,banana");
    expect(badPred.code).toBe(2);
    expect(badPred.err).toMatch(/banana/);
    const badEps = await run("analyze", trace, "--eps", "1.5");
    expect(badEps.code).toBe(2);
    const garbage = path.join(dir, "garbage.gtrace");
    fs.writeFileSync(garbage, "not a trace at all");
    const g = await run("analyze", garbage, "--format", "gtrace");
    expect(g.code).toBe(3);
    expect(g.err).toMatch(/garbage\.gtrace/);
  });

  it("convert: rewrites the trace in another layout with identical analysis, and refuses to overwrite", async () => {
    const out = path.join(dir, "converted");
    const c = await run("convert", trace, out, "--to", "npz-dir", "--compress");
    expect(c.code).toBe(0);
    expect(fs.readdirSync(out).filter((f) => f.endsWith(".npz"))).toHaveLength(30);
    const a = path.join(dir, "a.json");
    const b = path.join(dir, "b.json");
    expect((await run("analyze", trace, "--json", a, "-q", "--no-bootstrap")).code).toBe(0);
    expect((await run("analyze", out, "--json", b, "-q", "--no-bootstrap")).code).toBe(0);
    const ka = JSON.parse(fs.readFileSync(a, "utf8")).total.kappa;
    const kb = JSON.parse(fs.readFileSync(b, "utf8")).total.kappa;
    for (const id of Object.keys(ka)) expect(kb[id]).toBeCloseTo(ka[id], 12);
    const again = await run("convert", trace, out, "--to", "npz-dir");
    expect(again.code).toBe(4);
    expect((await run("convert", trace, out, "--to", "zip")).code).toBe(2);
  });

  it("analyze and convert take a run directory (train's trace.gtrace + run.json) and symlinked step files", async () => {
    const runDir = path.join(dir, "runs", "r1");
    fs.mkdirSync(runDir, { recursive: true });
    fs.copyFileSync(trace, path.join(runDir, "trace.gtrace"));
    fs.writeFileSync(path.join(runDir, "run.json"), "{}");
    const kappa = async (target: string): Promise<Record<string, number>> => {
      const out = path.join(dir, `k-${path.basename(target)}.json`);
      const r = await run("analyze", target, "--json", out, "-q", "--no-bootstrap", "--force");
      expect(r.code, r.err).toBe(0);
      return JSON.parse(fs.readFileSync(out, "utf8")).total.kappa;
    };
    const direct = await kappa(trace);
    expect(await kappa(runDir)).toEqual(direct);
    const st = path.join(dir, "st");
    const c = await run("convert", runDir, st, "--to", "safetensors-dir");
    expect(c.code, c.err).toBe(0);
    const links = path.join(dir, "links");
    fs.mkdirSync(links);
    for (const f of fs.readdirSync(st)) fs.symlinkSync(path.join(st, f), path.join(links, f));
    const linked = await kappa(links);
    for (const id of Object.keys(direct)) expect(linked[id]).toBeCloseTo(direct[id], 12);
    // A directory of run directories is for `serve`; analyze says what it expected.
    const runs = await run("analyze", path.join(dir, "runs"));
    expect(runs.code).toBe(3);
    expect(runs.err).toMatch(
      /runs: no trace found \(expected a \.gtrace file.*\); its sub-directories r1 hold traces/,
    );
  });
});
