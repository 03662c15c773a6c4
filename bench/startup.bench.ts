/** @file Start-up time of the installed command and of the library import: `gradtrace --version`, `--help`,
 * `analyze --help` (loads the analyze command's module, hence the analysis layer) and `import("gradtrace")`, each a
 * fresh `node` process running the compiled package (bin/gradtrace.js → dist/), against a bare `node -e 0` measured
 * interleaved in the same run (median of 21 runs; 7 with GRADTRACE_BENCH_QUICK=1). Target: --version and --help
 * under 300 ms. GRADTRACE_STARTUP_COMPARE=<path to another bin/gradtrace.js> adds the same rows for that checkout
 * (e.g. the tsx-based bin before the package was compiled) so a before/after comparison shares one run. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./types.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(REPO, "bin", "gradtrace.js");

interface Probe {
  readonly name: string;
  readonly args: readonly string[];
  readonly target?: string;
}

function timeOnce(args: readonly string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], cwd: REPO });
  const ms = performance.now() - start;
  if (r.status !== 0)
    throw new Error(`startup.bench: node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function run(): Promise<BenchRow[]> {
  if (!fs.existsSync(path.join(REPO, "dist", "cli", "index.js"))) {
    throw new Error("startup.bench: dist/ is not built (npm run build)");
  }
  const runs = process.env.GRADTRACE_BENCH_QUICK === "1" ? 7 : 21;
  const probes: Probe[] = [
    { name: "gradtrace --version", args: [BIN, "--version"], target: "< 300 ms" },
    { name: "gradtrace --help", args: [BIN, "--help"], target: "< 300 ms" },
    { name: "gradtrace analyze --help", args: [BIN, "analyze", "--help"] },
    {
      name: 'import("gradtrace") (the whole library)',
      args: [
        "--input-type=module",
        "-e",
        `await import(${JSON.stringify(path.join(REPO, "dist", "index.js"))})`,
      ],
    },
  ];
  const compare = process.env.GRADTRACE_STARTUP_COMPARE;
  if (compare) {
    probes.push(
      { name: `${compare} --version`, args: [compare, "--version"] },
      { name: `${compare} --help`, args: [compare, "--help"] },
    );
  }
  const reference: number[] = [];
  const samples = probes.map((): number[] => []);
  // Warm the file-system cache once, then interleave so load changes on a shared machine hit every row alike.
  for (const p of probes) timeOnce(p.args);
  for (let i = 0; i < runs; i++) {
    reference.push(timeOnce(["-e", "0"]));
    probes.forEach((p, j) => {
      samples[j].push(timeOnce(p.args));
    });
  }
  const ref = median(reference);
  return [
    {
      name: "node -e 0 (bare Node start, reference)",
      value: ref,
      unit: "ms",
      note: `median of ${runs}; min ${Math.min(...reference).toFixed(0)} ms`,
    },
    ...probes.map((p, j): BenchRow => {
      const value = median(samples[j]);
      return {
        name: p.name,
        value,
        unit: "ms",
        ratio: value / ref,
        reference: "node -e 0 (× bare start)",
        ...(p.target ? { target: p.target } : {}),
        note: `+${(value - ref).toFixed(0)} ms over bare node; min ${Math.min(...samples[j]).toFixed(0)} ms`,
      };
    }),
  ];
}
