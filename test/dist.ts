/** @file The built package as tests and benchmarks use it: paths into dist/ and the bin, and a check that dist/ is
 * current. Nothing here builds: `npm run build` (run by `prepare` on `npm ci`, and by `npm test`'s pretest when
 * dist/ is older than its sources) does; a test on a stale dist/ would pass or fail on old code, so it refuses. */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { distStaleness } from "../scripts/distFreshness.ts";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The `gradtrace` command of this checkout (runs dist/). */
export const BIN = path.join(REPO, "bin", "gradtrace.js");
/** The built dashboard page. */
export const WEB_DIST = path.join(REPO, "dist", "web");

/** Throws, saying what to run, unless dist/ is complete and newer than every source it is built from. */
export function requireBuilt(): void {
  const stale = distStaleness(REPO);
  if (stale !== null) {
    throw new Error(`dist/ is not current (${stale}): run \`npm run build\` (npm test does it when needed)`);
  }
}

/** A `gradtrace` process started by a test: its output so far and its exit. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  out(): string;
  err(): string;
  /** Whether the process could not be started at all. */
  failed(): boolean;
}

/** Starts `command args` (by default this checkout's bin under the current Node) with its output captured. */
export function spawnCli(args: readonly string[], { cwd, command }: { cwd?: string; command?: string } = {}) {
  const child = command
    ? spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr!.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  let failed = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    // A process that cannot start (missing file or folder) has no exit: report it as stderr and no exit code.
    child.on("error", (err) => {
      failed = true;
      stderr += `${err.message}\n`;
      resolve(null);
    });
  });
  return { child, exited, out: () => stdout, err: () => stderr, failed: () => failed } satisfies CliProcess;
}

/** The URL a `gradtrace serve` process prints once it listens (undefined if it exits or stays silent first). */
export async function servedUrl(cli: CliProcess, timeoutMs = 60_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  const pattern = /gradtrace serve: (http:\/\/127\.0\.0\.1:\d+\/)/;
  while (!pattern.test(cli.out()) && cli.child.exitCode === null && !cli.failed() && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  return pattern.exec(cli.out())?.[1];
}

/** Interrupts a process like Ctrl-C and waits for it to exit; its exit code. */
export async function interrupt(cli: CliProcess): Promise<number | null> {
  if (cli.child.exitCode === null && cli.child.signalCode === null && !cli.failed()) cli.child.kill("SIGINT");
  return cli.exited;
}
