/** @file The dashboard says when a run's data failed its checksums: a trace with one corrupt payload shows a
 * "corrupt data" mark in the overview's status column and a badge on the run page, and its problems list the
 * corrupt step as such — while a clean run shows neither. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { SMALL_MODEL, writeTrace } from "../serve/traces.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "./harness.ts";

let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-browser-corrupt-"));
  writeTrace(path.join(dir, "clean.gtrace"), { tensors: SMALL_MODEL, seed: 1 }, 20);
  const bad = path.join(dir, "bad.gtrace");
  writeTrace(bad, { tensors: SMALL_MODEL, seed: 2 }, 20);
  // Flip a bit in the last payload byte of the 11th of 20 equal records (step 10, the last tensor).
  const buf = fs.readFileSync(bad);
  const start = 16 + buf.readUInt32LE(8);
  const record = (buf.byteLength - start) / 20;
  buf[start + 11 * record - 1] ^= 0x04;
  fs.writeFileSync(bad, buf);
  server = await startServer({ path: dir, webDir: DIST_DIR, engine: traceEngine });
  await server.store.idle();
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("marks the corrupt run in the overview and on its page, and lists the corrupt step as corruption", async () => {
  await page.goto(`${server.url}#/`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
  const status = (id: string) => page.locator(`[data-table=runs] tr[data-key="${id}"] td[data-key=status]`);
  expect(await status("bad-gtrace").getAttribute("data-corrupt")).toBe("1");
  expect(await status("bad-gtrace").textContent()).toMatch(/corrupt data \(1 step excluded\)/);
  expect(await status("clean-gtrace").getAttribute("data-corrupt")).toBeNull();

  await page.goto(`${server.url}#/run/bad-gtrace`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
  const badge = page.locator(".badge.corrupt");
  expect(await badge.getAttribute("data-corrupt")).toBe("1");
  expect(await badge.textContent()).toMatch(/1 step failed a checksum and was excluded/);
  const item = page.locator('ul.problems li[data-kind="corrupt-record"]');
  expect(await item.count()).toBe(1);
  expect(await item.textContent()).toMatch(/step 10, tensor fc\/out\.weight: payload fails its CRC-32 check/);
  expect(await page.locator('ul.problems li[data-kind="nonfinite"]').count()).toBe(0);

  await page.goto(`${server.url}#/run/clean-gtrace`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
  expect(await page.locator(".badge.corrupt").count()).toBe(0);
}, 120_000);
