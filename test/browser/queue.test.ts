/** @file The dashboard's Queue view in a real browser (Debian's chromium through playwright-core), on a real
 * redis-server with a `gradtrace worker`: after a 12-job run through the queue the view shows it with the
 * submitter's numbers (12 / 12, done), its submitter and the worker; the header links to the view only when serve
 * has --queue; with Redis stopped the view says the queue cannot be read (naming it without its password) and
 * recovers by itself when Redis is back. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMany } from "../../src/lab/index.ts";
import type { QueueStatus } from "../../src/parallel/index.ts";
import { traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import {
  HAVE_REDIS,
  NO_REDIS_MESSAGE,
  REDIS_PASSWORD,
  startRedis,
  startWorker,
  type TestRedis,
  type TestWorker,
} from "../parallel/redis.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "./harness.ts";

if (!HAVE_REDIS) console.warn(NO_REDIS_MESSAGE);

const LABEL = "browser test: 12 configurations";

describe.skipIf(!HAVE_REDIS)("the Queue view", () => {
  let redis: TestRedis;
  let worker: TestWorker;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let final: QueueStatus | null = null;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt();
    redis = await startRedis();
    worker = await startWorker(redis.url);
    await runMany(
      Array.from({ length: 12 }, (_, i) => ({ n: 20, d: 10, m: 8, steps: 1, nu: 0.1, seed: 100 + i })),
      { queue: { url: redis.url, pollMs: 200, label: LABEL, onStatus: (s) => (final = s) } },
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-browser-queue-"));
    server = await startServer({
      path: dir,
      webDir: DIST_DIR,
      engine: traceEngine,
      queue: { url: redis.url },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await worker?.kill();
    await redis?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is linked from the header and shows the run with the submitter's numbers, its submitter and the worker", async () => {
    expect(final).toMatchObject({ total: 12, done: 12, running: 0, queued: 0, failed: 0 });
    await page.goto(server.url);
    await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
    await page.waitForSelector("body[data-queue=on]", { timeout: 20_000 });
    await page.locator("#queue-link:not([hidden])").click();
    const row = page.locator("[data-table=queue-runs] tbody tr", { hasText: LABEL });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator("[data-key=progress] .qcount").textContent()).toBe("12 / 12");
    expect(await row.locator("[data-key=progress] .qdetail").textContent()).toBe("0 running, 0 queued");
    expect(await row.locator("[data-key=progress] [role=progressbar]").getAttribute("aria-valuenow")).toBe(
      "12",
    );
    expect(await row.locator("[data-key=state]").textContent()).toBe("done");
    expect(await row.locator("[data-key=submitter]").textContent()).toBe(`${os.hostname()}:${process.pid}`);
    expect(await row.locator("[data-key=updated]").textContent()).toMatch(/^\d+ s ago$/);
    const total = page.locator("[data-table=queue-runs] tfoot tr");
    expect(await total.locator(".qcount").textContent()).toBe("12 / 12");
    const name = /worker (\S+): taking jobs/.exec(worker.log())![1];
    expect(
      await page
        .locator("[data-table=queue-workers] tbody tr")
        .evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.worker)),
    ).toEqual([name]);
    expect(await page.textContent("#app")).toContain(`redis://127.0.0.1:${redis.port}`);
    expect(pageErrors).toEqual([]);
  });

  it("says so while Redis is down, without the password, and recovers by itself", async () => {
    await page.goto(`${server.url}#/queue`);
    await page.locator("[data-table=queue-runs]").waitFor({ timeout: 20_000 });
    await redis.stop();
    try {
      const problem = page.locator(".queue-unreachable:not([hidden])");
      await problem.waitFor({ timeout: 20_000 });
      const text = (await problem.textContent()) ?? "";
      expect(text).toContain(`redis://127.0.0.1:${redis.port}`);
      expect(await page.content()).not.toContain(REDIS_PASSWORD);
      // The last numbers stay, dimmed.
      expect(await page.locator(".queue-content.stale .qcount").first().textContent()).toBe("12 / 12");
    } finally {
      await redis.start();
    }
    // Back (empty: the test Redis keeps nothing across a restart): the message goes, the view reads again.
    await page.locator(".queue-unreachable[hidden]").waitFor({ state: "attached", timeout: 30_000 });
    await page.getByText("No runs in the last 24 hours").waitFor({ timeout: 20_000 });
    expect(pageErrors).toEqual([]);
  });

  it("a server without --queue has no Queue link", async () => {
    const plain = await startServer({ path: dir, webDir: DIST_DIR, engine: traceEngine });
    try {
      await page.goto(plain.url);
      // The page marks the body once /api/server has answered (the link would be revealed then).
      await page.waitForSelector("body[data-queue=off]", { timeout: 20_000 });
      expect(await page.locator("#queue-link").isHidden()).toBe(true);
    } finally {
      await plain.close();
    }
  });
});
