/** @file One crash trial of the TypeScript gtrace writer (shared by test/crash/crash.test.ts, a handful of trials,
 * and bench/crash.bench.ts, ≥ 100): start a writer process, SIGKILL it at a random moment, then check that
 * - every step it acknowledged (and at most the one after, whose append returned before the acknowledgement) is in
 *   the file, complete and with the values written, loss included;
 * - anything else at the end of the file is one partial record, reported as `truncated-record`, nothing more;
 * - a writer resuming the same file (the dead writer's lock is stale and taken over) cuts off the partial record,
 *   appends more steps, and the reader then sees one clean trace. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createRng } from "../../src/core/rng.ts";
import { createGtraceWriter, openTrace } from "../../src/trace/index.ts";
import { CRASH_TENSORS, crashStepValues } from "./values.ts";

const CHILD = path.resolve(import.meta.dirname, "writerChild.ts");

export interface CrashTrialResult {
  /** Milliseconds between the writer being ready and the kill. */
  readonly killAfterMs: number;
  /** Last step acknowledged by the writer before it died (−1: none). */
  readonly acked: number;
  /** Complete steps found in the file after the kill. */
  readonly recovered: number;
  /** Whether the kill left a partial record (reported as truncated-record and cut off by the resume). */
  readonly partial: boolean;
  /** Bytes the resuming writer cut off. */
  readonly truncatedBytes: number;
  /** Everything that was not as it must be (empty when the trial passed). */
  readonly failures: string[];
}

function expectStep(
  r: ReturnType<typeof openTrace>,
  pos: number,
  step: number,
  numel: number,
  failures: string[],
) {
  const { values, momentum } = crashStepValues(step, numel);
  const a = r.readTensor(pos, "a");
  const b = new Float64Array(16);
  r.readSlice(pos, "b", 0, 16, b);
  if (a.length !== numel || a.some((x, i) => x !== values.a[i]))
    failures.push(`step ${step}: tensor a differs`);
  if (b.some((x, i) => x !== values.b[i])) failures.push(`step ${step}: tensor b differs`);
  const m = r.readState?.(pos, "b", "momentum") ?? null;
  if ((m === null) !== (momentum === null) || m?.some((x, i) => x !== momentum!.b[i]))
    failures.push(`step ${step}: momentum differs`);
  if (r.info.loss[pos] !== step / 10) failures.push(`step ${step}: loss ${r.info.loss[pos]}`);
}

export async function crashTrial(
  dir: string,
  trial: number,
  numel: number,
  maxKillMs: number,
): Promise<CrashTrialResult> {
  const file = path.join(dir, `trial-${trial}.gtrace`);
  const ackFile = path.join(dir, `trial-${trial}.ack`);
  const failures: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, file, ackFile, String(numel)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`writer exited (${code}) before it was ready`)));
  });
  const killAfterMs = Math.floor(createRng(7919 * trial + 1).uniform() * maxKillMs);
  await new Promise((r) => setTimeout(r, killAfterMs));
  child.kill("SIGKILL");
  await exited; // reaped: a zombie would still look alive to the lock's liveness check

  const ackText = fs.existsSync(ackFile) ? fs.readFileSync(ackFile, "utf8").trim() : "";
  const acked = ackText === "" ? -1 : Number(ackText);
  const r = openTrace(file);
  let recovered = 0;
  let partial = false;
  try {
    const steps = r.info.steps;
    recovered = steps.length;
    if (steps.some((s, i) => s !== i)) failures.push(`steps are not 0..n−1: ${steps.join(",")}`);
    if (steps.length < acked + 1 || steps.length > acked + 2)
      failures.push(`${steps.length} steps recovered, the writer acknowledged step ${acked}`);
    steps.forEach((s, pos) => {
      expectStep(r, pos, s, numel, failures);
    });
    const problems = r.info.problems;
    partial = problems.some((p) => p.kind === "truncated-record");
    if (problems.length > 1 || problems.some((p) => p.kind !== "truncated-record"))
      failures.push(`unexpected problems: ${problems.map((p) => `${p.kind}: ${p.message}`).join("; ")}`);
  } finally {
    r.close();
  }

  // Resume on the same file: the partial record goes, three more steps follow.
  const w = createGtraceWriter(file, { tensors: CRASH_TENSORS(numel), resume: true });
  const truncatedBytes = w.resumed?.truncatedBytes ?? 0;
  if (truncatedBytes > 0 !== partial)
    failures.push(`resume cut ${truncatedBytes} bytes, partial record: ${partial}`);
  if ((w.resumed?.lastStep ?? -1) !== recovered - 1)
    failures.push(`resume continues after ${w.resumed?.lastStep}`);
  for (let s = recovered; s < recovered + 3; s++) {
    const { values, momentum } = crashStepValues(s, numel);
    w.append(s, values, { loss: s / 10, ...(momentum ? { momentum } : {}) });
  }
  w.close();
  const back = openTrace(file);
  try {
    if (back.info.steps.length !== recovered + 3 || back.info.problems.length > 0)
      failures.push(
        `after resume: ${back.info.steps.length} steps, problems ${JSON.stringify(back.info.problems)}`,
      );
    back.info.steps.forEach((s, pos) => {
      expectStep(back, pos, s, numel, failures);
    });
  } finally {
    back.close();
  }
  fs.rmSync(file, { force: true });
  fs.rmSync(ackFile, { force: true });
  return { killAfterMs, acked, recovered, partial, truncatedBytes, failures };
}
