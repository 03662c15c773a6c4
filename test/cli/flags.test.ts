/** @file CLI flags follow the library: every flag default equals the library's default constant for the option it
 * sets (analyze, serve, lab spiked, train, reproduce), the help text states the library's defaults, and the
 * renamed flags keep their old names as aliases (`--include` / `--tensors`, `--batch-size` / `--batch`,
 * `--warmup-steps` / `--warmup`) with identical effect. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_ANALYZE_OPTIONS, DEFAULT_WINDOW } from "../../src/analysis/index.ts";
import { buildProgram, main } from "../../src/cli/main.ts";
import { bytesText } from "../../src/cli/parse.ts";
import { DEFAULT_PREDICTORS } from "../../src/core/index.ts";
import {
  DEFAULT_JOBS,
  DEFAULT_SPIKED_CONFIG,
  DEFAULT_SWEEP_OPTIONS,
  DEFAULT_TRAIN_OPTIONS,
} from "../../src/lab/index.ts";
import { DEFAULT_SERVE_OPTIONS } from "../../src/serve/index.ts";
import { SMALL_MODEL, writeTrace } from "../serve/traces.ts";

async function command(...names: string[]): Promise<Command> {
  let c: Command = await buildProgram();
  for (const n of names) c = c.commands.find((x) => x.name() === n)!;
  return c;
}

/** The values of a command's options when none is given, by attribute name (camelCase). */
function defaults(c: Command): Record<string, unknown> {
  c.parseOptions([]);
  return c.opts();
}

describe("flag defaults come from the library", () => {
  it("lab spiked: every flag that sets a SpikedConfig field defaults to DEFAULT_SPIKED_CONFIG", async () => {
    const d = defaults(await command("lab", "spiked"));
    const fields = Object.keys(DEFAULT_SPIKED_CONFIG).filter((k) => k !== "analyzeSteps");
    for (const key of fields) {
      const expected = DEFAULT_SPIKED_CONFIG[key as keyof typeof DEFAULT_SPIKED_CONFIG];
      const list = ["activation", "scaling", "weights"].includes(key);
      expect(d[key], key).toEqual(list ? [expected] : expected);
    }
    expect(d.seeds).toBe(DEFAULT_SWEEP_OPTIONS.seeds);
    expect(d.jobs).toBe(DEFAULT_SWEEP_OPTIONS.jobs);
  });

  it("analyze, serve, train, reproduce: defaults and help text from the library's constants", async () => {
    const analyze = await command("analyze");
    const a = defaults(analyze);
    expect(a.seed).toBe(DEFAULT_ANALYZE_OPTIONS.seed);
    expect(a.gramKernel).toBe(DEFAULT_ANALYZE_OPTIONS.gramKernel);
    expect(a.bootstrap).toBe(DEFAULT_ANALYZE_OPTIONS.bootstrap);
    expect(a.matrix).toBe(DEFAULT_ANALYZE_OPTIONS.matrixGeometry);
    expect(a.strict).toBe(DEFAULT_ANALYZE_OPTIONS.strict);
    const help = analyze.helpInformation().replace(/\s+/g, " ");
    expect(help).toContain(`(default ${DEFAULT_ANALYZE_OPTIONS.eps.join(",")})`);
    expect(help).toContain(`(default ${bytesText(DEFAULT_ANALYZE_OPTIONS.memoryBytes)})`);
    expect(help).toContain(
      `(default ⌈T/${DEFAULT_WINDOW.perSteps}⌉, ${DEFAULT_WINDOW.min}..${DEFAULT_WINDOW.max})`,
    );
    expect(help).toContain(`default ${DEFAULT_PREDICTORS.join(",")}`);
    const s = defaults(await command("serve"));
    expect({ host: s.host, port: s.port }).toEqual(DEFAULT_SERVE_OPTIONS);
    expect(defaults(await command("train")).seed).toBe(DEFAULT_TRAIN_OPTIONS.seed);
    expect(defaults(await command("reproduce")).jobs).toBe(DEFAULT_JOBS);
    expect(bytesText(256 * 2 ** 20)).toBe("256M");
    expect(bytesText(2 * 2 ** 30)).toBe("2G");
  });
});

describe("renamed flags keep their old names", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-flags-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function analyzeJson(...flags: string[]): Promise<{ tensors: { name: string; kappa: unknown }[] }> {
    const out = path.join(dir, `${flags.join("_").replace(/[^a-z0-9_]/gi, "")}.json`);
    const quiet = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const code = await main([
        "node",
        "gradtrace",
        "analyze",
        path.join(dir, "t.gtrace"),
        "--json",
        out,
        "-q",
        ...flags,
      ]);
      expect(code).toBe(0);
    } finally {
      quiet.mockRestore();
    }
    return JSON.parse(fs.readFileSync(out, "utf8"));
  }

  it("--include and its alias --tensors select the same tensors with the same results", async () => {
    writeTrace(path.join(dir, "t.gtrace"), { tensors: SMALL_MODEL, seed: 3 }, 10);
    const a = await analyzeJson("--include", "conv1.*", "--no-bootstrap");
    const b = await analyzeJson("--tensors", "conv1.*", "--no-bootstrap");
    expect(a.tensors.map((t) => t.name)).toEqual(["conv1.weight", "conv1.bias"]);
    expect(b.tensors).toEqual(a.tensors);
  });

  it("train: --batch-size / --batch and --warmup-steps / --warmup parse to the same values", async () => {
    const parse = async (...args: string[]) => {
      const c = await command("train");
      c.parseOptions(args);
      return c.opts();
    };
    const a = await parse("--batch-size", "8", "--warmup-steps", "3");
    const b = await parse("--batch", "8", "--warmup", "3");
    expect([a.batchSize, a.warmupSteps]).toEqual([8, 3]);
    expect([b.batch, b.warmup]).toEqual([8, 3]);
  });
});
