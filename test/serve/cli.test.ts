/** @file `gradtrace serve` as a user runs it (the bin, on the built dist/): prints the URL of a server answering
 * the API on loopback and a free port, stops cleanly on SIGINT, and refuses a non-loopback host without a token
 * (exit code 2). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunsResponse } from "../../src/serve/api-types.ts";
import { interrupt, requireBuilt, servedUrl, spawnCli } from "../dist.ts";
import { SMALL_MODEL, writeTrace } from "./traces.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-serve-cli-"));
beforeAll(() => requireBuilt());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("prints a loopback URL on a free port, serves the runs, and exits 0 on SIGINT", async () => {
  writeTrace(path.join(dir, "run.gtrace"), { tensors: SMALL_MODEL, seed: 1 }, 12);
  const cli = spawnCli(["serve", dir, "-q"]);
  const url = await servedUrl(cli);
  expect(url, cli.err()).toBeDefined();
  expect(Number(new URL(url!).port)).toBeGreaterThan(0);
  const body = (await (await fetch(`${url}api/runs`)).json()) as RunsResponse;
  expect(body.runs.map((r) => r.id)).toEqual(["run-gtrace"]);
  expect(await interrupt(cli)).toBe(0);
});

it("refuses a non-loopback host without a token with exit code 2 and a one-line message", async () => {
  const cli = spawnCli(["serve", dir, "--host", "0.0.0.0"]);
  expect(await cli.exited).toBe(2);
  expect(cli.err()).toMatch(
    /^gradtrace: serve --host 0\.0\.0\.0: not a loopback address; refusing .* without --token\n$/,
  );
});
