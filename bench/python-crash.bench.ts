/** @file Crash safety of the Python .gtrace writer (python/gradtrace_log/gtrace.py), tested by killing it: each
 * trial starts test/python/crash_writer.py on a fresh file (random record size, fsync policy and write chunk), sends
 * SIGKILL at a random moment (sometimes before the header exists), then checks with the TypeScript reader that
 * - every record the writer reported complete is readable with the right contents (nothing complete is lost),
 * - the steps are contiguous and at most one more (complete but unreported) record exists,
 * - a partial record, when the file has one, is reported as a problem (and only then),
 * and finally resumes appending on the same file (mode "resume" truncates the partial record) and checks the whole
 * file again. `npm run bench -- python-crash` runs ≥ 100 trials (GRADTRACE_CRASH_TRIALS to change);
 * test/python/crash.test.ts runs a handful in CI. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { createRng } from "../src/core/index.ts";
import { openTrace } from "../src/trace/index.ts";
import type { BenchRow } from "./types.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env.GRADTRACE_PYTHON ?? "/usr/bin/python3";

export interface CrashStats {
  trials: number;
  /** Trials where the kill left a partial record (reported as a problem). */
  partial: number;
  /** Trials killed between records (file ends on a record boundary). */
  clean: number;
  /** Trials killed before the header was linked into place (no file; nothing was reported). */
  beforeHeader: number;
  /** Complete records found beyond the last one the writer reported (killed after the write, before the print). */
  unreported: number;
  resumed: number;
  /** Records checked byte for byte across all trials (before and after resuming). */
  recordsChecked: number;
}

interface Writer {
  reported: number;
  resumedFrom?: number;
  done: Promise<number | null>;
  kill(): void;
  firstOk: Promise<void>;
}

function startWriter(args: string[]): Writer {
  const child = spawn(PYTHON, [path.join(repo, "test/python/crash_writer.py"), ...args], {
    env: { ...process.env, PYTHONPATH: path.join(repo, "python") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let buffered = "";
  let stderr = "";
  let resolveFirst: () => void = () => {};
  const w: Writer = {
    reported: -1,
    firstOk: new Promise<void>((r) => {
      resolveFirst = r;
    }),
    done: new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        resolveFirst();
        if (signal === null && code !== 0) reject(new Error(`crash_writer exited ${code}: ${stderr}`));
        else resolve(code);
      });
    }),
    kill: () => child.kill("SIGKILL"),
  };
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on("data", (d: Buffer) => {
    buffered += d.toString();
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      const [what, value] = line.split(" ");
      if (what === "ok") {
        w.reported = Number(value);
        resolveFirst();
      } else if (what === "resumed") w.resumedFrom = Number(value);
      nl = buffered.indexOf("\n");
    }
  });
  return w;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Checks the file: contiguous steps 0..n−1 with the writer's contents; returns n and whether a tail problem exists. */
function check(file: string, numel: number): { steps: number; problem: boolean } {
  const r = openTrace(file);
  try {
    const { steps, problems } = r.info;
    steps.forEach((s, i) => {
      if (s !== i) throw new Error(`${file}: step ${s} at position ${i} (expected contiguous steps from 0)`);
      const x = r.readTensor(i, "w");
      for (const j of [0, 1, numel >> 1, numel - 1]) {
        const want = Math.fround(s + j / numel);
        if (x[j] !== want) throw new Error(`${file}: step ${s} value ${j} is ${x[j]}, wrote ${want}`);
      }
      if (r.info.loss[i] !== s) throw new Error(`${file}: step ${s} loss ${r.info.loss[i]}`);
    });
    const tail = problems.filter((p) => p.kind === "truncated-record" || p.kind === "corrupt-record");
    if (tail.length > 1 || problems.length !== tail.length)
      throw new Error(`${file}: unexpected problems ${JSON.stringify(problems)}`);
    return { steps: steps.length, problem: tail.length === 1 };
  } finally {
    r.close();
  }
}

export async function crashTrials(trials: number, seed = 1): Promise<CrashStats> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-crash-"));
  const rng = createRng(seed);
  const stats: CrashStats = {
    trials,
    partial: 0,
    clean: 0,
    beforeHeader: 0,
    unreported: 0,
    resumed: 0,
    recordsChecked: 0,
  };
  try {
    for (let t = 0; t < trials; t++) {
      const file = path.join(dir, `t${t}.gtrace`);
      const numel = [1024, 65536, 262144][rng.int(3)];
      const fsync = ["record", "close", "none"][rng.int(3)];
      const chunk = String([4096, 65536, 1 << 20][rng.int(3)]);
      const w = startWriter([file, "create", "0", "1000000", String(numel), fsync, chunk]);
      if (rng.uniform() < 0.1) {
        await sleep(rng.int(150)); // possibly before the header exists
      } else {
        await w.firstOk;
        await sleep(rng.int(400));
      }
      w.kill();
      await w.done;
      const recordBytes = 48 + 16 + 4 * numel;
      if (!fs.existsSync(file)) {
        if (w.reported >= 0) throw new Error(`${file}: missing although step ${w.reported} was reported`);
        stats.beforeHeader++;
        continue;
      }
      const { steps, problem } = check(file, numel);
      if (steps < w.reported + 1 || steps > w.reported + 2)
        throw new Error(`${file}: ${steps} readable records, writer reported up to step ${w.reported}`);
      stats.unreported += steps - (w.reported + 1);
      const buf = fs.readFileSync(file);
      const headerEnd = 16 + buf.readUInt32LE(8);
      const partial = buf.length > headerEnd + steps * recordBytes;
      if (partial !== problem)
        throw new Error(`${file}: partial tail ${partial} but problem reported ${problem}`);
      if (partial) stats.partial++;
      else stats.clean++;
      stats.recordsChecked += steps;
      // Resume on the same file: the partial record is truncated away and steps continue.
      const r = startWriter([file, "resume", String(steps), "3", String(numel), fsync, chunk]);
      const code = await r.done;
      if (code !== 0 || r.resumedFrom !== steps - 1 || r.reported !== steps + 2)
        throw new Error(`${file}: resume reported ${r.resumedFrom}/${r.reported}, exit ${code}`);
      const after = check(file, numel);
      if (after.steps !== steps + 3 || after.problem)
        throw new Error(`${file}: after resume ${JSON.stringify(after)}`);
      stats.recordsChecked += after.steps;
      stats.resumed++;
      fs.rmSync(file);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return stats;
}

export async function run(): Promise<BenchRow[]> {
  const quick = process.env.GRADTRACE_BENCH_QUICK === "1";
  const trials = Number(process.env.GRADTRACE_CRASH_TRIALS ?? (quick ? 10 : 100));
  const t0 = performance.now();
  const s = await crashTrials(trials);
  const secs = (performance.now() - t0) / 1000;
  const killed = s.partial + s.clean;
  return [
    {
      name: `python writer SIGKILL trials (${s.trials}; ${s.beforeHeader} before the header)`,
      value: killed,
      unit: "files checked",
      note: `every reported record recovered in all; partial record reported ${s.partial}×, clean boundary ${s.clean}×, unreported complete record ${s.unreported}×; resumed ${s.resumed}/${killed}; ${s.recordsChecked} records verified; ${secs.toFixed(0)} s`,
    },
  ];
}
