/** @file The package as a user receives it: `npm pack` of this checkout (its built dist/), installed into a fresh
 * temporary project offline — the dependencies come from npm's cache, where `npm ci` left them, pinned to this
 * repository's lockfile — then used the three ways a user would: (1) a plain-Node ESM script imports the API,
 * writes a trace and analyzes its run directory (κ compared with the in-repo analyze of the same trace);
 * (2) a TypeScript project typechecks against the shipped .d.ts, and a file of deliberate mistakes fails on each
 * of its lines (which it would not if a type were `any`); (3) the installed `gradtrace serve` serves a run page that renders, with charts,
 * in Debian's chromium. No TypeScript loader is installed next to it: everything runs compiled JavaScript. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/analysis/index.ts";
import { checkRunPage, launchChromium } from "../browser/harness.ts";
import { interrupt, REPO, requireBuilt, servedUrl, spawnCli } from "../dist.ts";
import { SMALL_MODEL, writeTrace } from "../serve/traces.ts";

interface LockEntry {
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly [key: string]: unknown;
}

let work: string;
let consumer: string;
let packedFiles: string[];

/** A lockfile for a project depending on the tarball only: the tarball's entry plus the production closure of this
 * repository's lockfile (entries not marked dev), at the same node_modules paths, so `npm ci --offline` installs
 * exactly the locked versions from npm's cache without asking the registry. */
function consumerLock(tarball: string): unknown {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const root = lock.packages[""];
  const packages: Record<string, unknown> = {
    "": { name: "gradtrace-consumer", dependencies: { gradtrace: `file:${tarball}` } },
    "node_modules/gradtrace": {
      version: root.version,
      resolved: `file:${tarball}`,
      license: root.license,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key !== "" && !entry.dev && !entry.devOptional) packages[key] = entry;
  }
  // "devOptional" marks a package the dev tools need *or* an optional production dependency needs (detect-libc: the
  // build's lightningcss, and bullmq's optional msgpackr-extract): keep those some production entry asks for, as
  // optional (until nothing changes: they may need others).
  const wanted = (name: string) =>
    Object.values(packages).some((e) => {
      const deps = e as { dependencies?: object; optionalDependencies?: object };
      return (
        (deps.dependencies && name in deps.dependencies) ||
        (deps.optionalDependencies && name in deps.optionalDependencies)
      );
    });
  for (let added = true; added; ) {
    added = false;
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (!entry.devOptional || key in packages || !wanted(key.slice(key.lastIndexOf("node_modules/") + 13)))
        continue;
      const { devOptional: _, ...rest } = entry;
      packages[key] = { ...rest, optional: true };
      added = true;
    }
  }
  return { name: "gradtrace-consumer", lockfileVersion: 3, requires: true, packages };
}

const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

beforeAll(() => {
  requireBuilt();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "gt-pack-"));
  // --ignore-scripts: dist/ is current (requireBuilt); `prepare` would rebuild it under the feet of other tests.
  const [packed] = JSON.parse(
    run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], REPO),
  ) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed.files.map((f) => f.path);
  const tarball = path.join(work, packed.filename);
  consumer = path.join(work, "consumer");
  fs.mkdirSync(consumer);
  fs.writeFileSync(
    path.join(consumer, "package.json"),
    JSON.stringify({
      name: "gradtrace-consumer",
      private: true,
      type: "module",
      dependencies: { gradtrace: `file:${tarball}` },
    }),
  );
  fs.writeFileSync(path.join(consumer, "package-lock.json"), JSON.stringify(consumerLock(tarball)));
  try {
    run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], consumer);
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(
      `offline install of the tarball failed (npm's cache must hold the dependencies: run \`npm ci\` first): ${e.stderr}`,
    );
  }
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("the tarball", () => {
  it("holds the compiled package, its types, the built page and the bin; not the tests or the build tooling", () => {
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/index.js.map",
      "dist/web/index.html",
      "bin/gradtrace.js",
    ])
      expect(packedFiles, f).toContain(f);
    expect(packedFiles.some((f) => f.startsWith("dist/web/assets/") && f.endsWith(".js"))).toBe(true);
    for (const prefix of ["test/", "bench/", "scripts/", "web/src/", "node_modules/"])
      expect(
        packedFiles.filter((f) => f.startsWith(prefix)),
        prefix,
      ).toEqual([]);
    // installed without a TypeScript loader: nothing of gradtrace may need one
    expect(fs.existsSync(path.join(consumer, "node_modules", "tsx"))).toBe(false);
  });
});

describe("installed into a fresh project", () => {
  it("(1) a plain-Node ESM script imports the API, writes a trace and analyzes its directory", async () => {
    const script = `
      import * as fs from "node:fs";
      import { analyze, createGtraceWriter, GradtraceError } from "gradtrace";
      fs.mkdirSync("run");
      const w = createGtraceWriter("run/trace.gtrace", { tensors: [{ name: "w", shape: [2, 3] }] });
      for (let t = 0; t < 24; t++)
        w.append(t, { w: Float32Array.from({ length: 6 }, (_, i) => Math.cos(0.3 * t + i) + 0.1 * ((t * 7 + i) % 5)) });
      w.close();
      fs.writeFileSync("run/run.json", "{}");
      const result = await analyze("run", { predictors: ["zero", "last", "ema0.9"], bootstrap: false });
      let missing = null;
      try { await analyze("nowhere"); } catch (e) { missing = e instanceof GradtraceError ? e.code : String(e); }
      let internal = null;
      try { await import("gradtrace/dist/trace/open.js"); } catch (e) { internal = e.code; }
      console.log(JSON.stringify({ kappa: result.total.kappa, steps: result.trace.steps, resolved: import.meta.resolve("gradtrace"), missing, internal }));
    `;
    fs.writeFileSync(path.join(consumer, "use.mjs"), script);
    const out = JSON.parse(run(process.execPath, ["use.mjs"], consumer)) as {
      kappa: Record<string, number>;
      steps: number;
      resolved: string;
      missing: string;
      internal: string;
    };
    expect(out.resolved).toBe(
      new URL(`file://${path.join(fs.realpathSync(consumer), "node_modules/gradtrace/dist/index.js")}`).href,
    );
    expect(out.steps).toBe(24);
    const inRepo = await analyze(path.join(consumer, "run", "trace.gtrace"), {
      predictors: ["zero", "last", "ema0.9"],
      bootstrap: false,
    });
    expect(out.kappa).toEqual(inRepo.total.kappa);
    expect(out.kappa.zero).toBe(1);
    expect(out.missing).toBe("E_NOT_FOUND");
    expect(out.internal).toBe("ERR_PACKAGE_PATH_NOT_EXPORTED");
  });

  it("(2) a TypeScript project typechecks against the shipped .d.ts, which catch its deliberate mistakes", () => {
    const check = `
      import {
        analyze, type AnalysisResult, type AnalyzeOptions, GradtraceError, LiveAccumulator, openTrace,
        type PredictorDefinition, resolvePredictor, type RunningServer, startServer, type TraceReader,
      } from "gradtrace";
      const options: AnalyzeOptions = { predictors: ["zero", "last"], eps: [0.1], bootstrap: false };
      export async function lastKappa(source: string | TraceReader): Promise<number> {
        const result: AnalysisResult = await analyze(source, options);
        return result.total.kappa.last;
      }
      export function steps(path: string): readonly number[] {
        const reader = openTrace(path, { format: "gtrace" });
        try { return reader.info.steps; } finally { reader.close(); }
      }
      const acc = new LiveAccumulator({ tensors: [{ name: "w", numel: 3 }], predictors: ["last"] });
      acc.observe({ w: new Float32Array(3) });
      export const observed: number = acc.snapshot().steps;
      export const ema: PredictorDefinition = resolvePredictor("ema0.9");
      export const code = (e: unknown): string | undefined => (e instanceof GradtraceError ? e.code : undefined);
      export const serve = (): Promise<RunningServer> => startServer({ path: "runs", port: 0 });
    `;
    // Each line a mistake the declarations must catch (were a type `any`, its line would pass).
    const mistakes = [
      `void analyze(42); // a path or a reader, not a number`,
      `export const bad: AnalyzeOptions = { predictor: ["zero"] }; // no such option`,
      `export const wrong: string = (await analyze("x")).total.kappa.zero; // κ values are numbers`,
      `openTrace("x", { format: "hdf5" }); // not a trace layout`,
    ];
    fs.writeFileSync(path.join(consumer, "check.ts"), check);
    fs.writeFileSync(
      path.join(consumer, "mistakes.ts"),
      `import { analyze, type AnalyzeOptions, openTrace } from "gradtrace";\n${mistakes.join("\n")}\n`,
    );
    fs.writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ["check.ts", "mistakes.ts"],
      }),
    );
    const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
    /** tsc's diagnostics, one per line; @jax-js/jax's own declarations need WebGPU and ES2025 typings the
     * consumer has no reason to install, so its lines are set aside (ours are checked: skipLibCheck is off). */
    const diagnostics = (): string[] => {
      try {
        run(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], consumer);
        return [];
      } catch (err) {
        return `${(err as { stdout?: string }).stdout ?? ""}`
          .split("\n")
          .filter((l) => /error TS\d+/.test(l) && !l.startsWith("node_modules/@jax-js/"));
      }
    };
    const errors = diagnostics();
    // check.ts is clean; mistakes.ts fails on each of its four lines (2..5) and nowhere else
    expect(
      errors.map((l) => /^(\S+?)\((\d+),/.exec(l)?.slice(1).join(":")),
      errors.join("\n"),
    ).toEqual(["mistakes.ts:2", "mistakes.ts:3", "mistakes.ts:4", "mistakes.ts:5"]);
  });

  describe("(3) the installed gradtrace serve", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it("serves a run page that renders with charts", async () => {
      // A run directory (trace.gtrace + run.json, as `gradtrace train` writes) served through the installed bin.
      const runDir = path.join(consumer, "served");
      fs.mkdirSync(runDir);
      writeTrace(path.join(runDir, "trace.gtrace"), { tensors: SMALL_MODEL, seed: 4 }, 24);
      fs.writeFileSync(path.join(runDir, "run.json"), "{}");
      const bin = path.join(consumer, "node_modules", ".bin", "gradtrace");
      const serve = spawnCli(["serve", ".", "--predictors", "zero,last,ema0.9"], {
        cwd: runDir,
        command: bin,
      });
      try {
        const url = await servedUrl(serve);
        expect(url, serve.err()).toBeDefined();
        const shown = await checkRunPage(browser, url!, "trace-gtrace");
        const expected = await analyze(runDir, { bootstrap: false });
        expect(shown.gradNorm).toEqual(expected.total.gradNorm);
        expect(shown.paintedPixels).toBeGreaterThan(500);
        expect(shown.heatmapRows).toBe(SMALL_MODEL.length);
        // the analysis ran in the compiled worker, not in the fallback (which says so on stderr)
        expect(serve.err()).not.toMatch(/main thread/);
      } finally {
        await interrupt(serve);
      }
    });
  });
});
