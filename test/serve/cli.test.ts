/** @file `gradtrace serve` as a user runs it (the bin, on the built dist/): prints the URL of a server answering
 * the API on loopback and a free port, stops cleanly on SIGINT, and refuses a non-loopback host without a token
 * (exit code 2). */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunsResponse } from "../../src/serve/api-types.ts";
import { BIN, requireBuilt } from "../dist.ts";
import { SMALL_MODEL, writeTrace } from "./traces.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-cli-"));
beforeAll(() => requireBuilt());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function runCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

it("prints a loopback URL on a free port, serves the runs, and exits 0 on SIGINT", async () => {
  writeTrace(path.join(dir, "run.gtrace"), { tensors: SMALL_MODEL, seed: 1 }, 12);
  const cli = runCli(["serve", dir, "-q"]);
  const deadline = Date.now() + 30_000;
  while (!/http:\/\/\S+/.test(cli.out()) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const url = /gradtrace serve: (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(cli.out());
  expect(url, cli.err()).not.toBeNull();
  expect(Number(url![2])).toBeGreaterThan(0);
  const body = (await (await fetch(`${url![1]}api/runs`)).json()) as RunsResponse;
  expect(body.runs.map((r) => r.id)).toEqual(["run-gtrace"]);
  cli.child.kill("SIGINT");
  expect(await cli.exited).toBe(0);
});

it("refuses a non-loopback host without a token with exit code 2 and a one-line message", async () => {
  const cli = runCli(["serve", dir, "--host", "0.0.0.0"]);
  expect(await cli.exited).toBe(2);
  expect(cli.err()).toMatch(
    /^gradtrace: serve --host 0\.0\.0\.0: not a loopback address; refusing .* without --token\n$/,
  );
});
