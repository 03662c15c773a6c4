/** @file The dashboard's GaLore advice panel in chromium, on a real trace (a fixed rank-2 subspace tensor and a
 * random one): after "Compute advice" every layer shows a grid of E(r, Δ) whose cells carry exactly the energies
 * advise() computes on the same file, coloured with the dashboard's sequential scale, the advised cell outlined, ✓
 * where E reaches the target; a bad target in the API is refused with 400. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { advise } from "../../src/analysis/index.ts";
import { cssColor } from "../../src/core/index.ts";
import { type AnalysisEngine, traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { createGtraceWriter } from "../../src/trace/index.ts";
import { fromSvd, randomMat, randomOrthonormal } from "../core/linalgTestUtils.ts";
import { fixtureResult } from "../serve/fixtures.ts";
import { DIST_DIR, launchChromium, requireBuilt } from "./harness.ts";

let dir: string;
let file: string;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-advise-"));
  file = path.join(dir, "run.gtrace");
  const w = createGtraceWriter(file, {
    tensors: [
      { name: "fixed.weight", shape: [6, 14] },
      { name: "noise.weight", shape: [5, 9] },
    ],
  });
  const u = randomOrthonormal(6, 2, 1);
  for (let t = 0; t < 24; t++) {
    w.append(t, {
      "fixed.weight": Float32Array.from(
        fromSvd(u, [2 + Math.sin(t), 1], randomOrthonormal(14, 2, 10 + t)).data,
      ),
      "noise.weight": Float32Array.from(randomMat(5, 9, 100 + t).data),
    });
  }
  w.close();
  // The analysis is a fixture (fast); the advice is the real one, on the file.
  const engine: AnalysisEngine = {
    analyze: async () => ({ result: fixtureResult({ tensors: 2, steps: 24 }), stepIndices: [] }),
    advise: traceEngine.advise,
  };
  server = await startServer({ path: dir, engine, webDir: DIST_DIR });
  await server.store.idle();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("draws one E(r, Δ) grid per layer with advise()'s numbers, colours and advice", async () => {
  const expected = await advise(file, { target: 0.7 });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${server.url}#/run/run-gtrace`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 30_000 });
  await page.fill("input[name=advise-target]", "0.7");
  await page.click(".advise-panel button");
  await page.waitForSelector(".advise-tensor", { timeout: 30_000 });
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>(".advise-tensor")].map((fig) => ({
      name: fig.dataset.tensor,
      cells: [...fig.querySelectorAll<HTMLElement>(".advise-cell")].map((c) => ({
        rank: Number(c.dataset.rank),
        interval: Number(c.dataset.interval),
        energy: Number(c.dataset.energy),
        color: c.style.background,
        mark: c.textContent,
        advised: c.classList.contains("advised"),
      })),
    })),
  );
  expect(shown.map((s) => s.name)).toEqual(expected.tensors.map((t) => t.name));
  shown.forEach((s, k) => {
    const t = expected.tensors[k];
    expect(s.cells).toHaveLength(t.ranks.length * t.intervals.length);
    for (const c of s.cells) {
      const i = t.ranks.indexOf(c.rank);
      const j = t.intervals.indexOf(c.interval);
      expect(c.energy).toBe(t.energy[i][j]);
      expect(c.color.replace(/ /g, "")).toBe(cssColor("sequential", t.energy[i][j]));
      expect(c.mark).toBe(t.energy[i][j] >= 0.7 ? "✓" : "");
      expect(c.advised).toBe(
        t.advice.projected && t.advice.rank === c.rank && t.advice.interval === c.interval,
      );
    }
  });
  // The fixed rank-2 subspace: E(2, Δ) = 1 at every interval, as shown.
  const fixed = shown[0].cells.filter((c) => c.rank === 2);
  expect(fixed.length).toBeGreaterThan(0);
  for (const c of fixed) expect(c.energy).toBeCloseTo(1, 6);
  expect(shown.flat().some((s) => s.cells.some((c) => c.advised))).toBe(true);
  expect(await page.textContent(".advise-caveat")).toContain("Song, Ahn & Yun");
  expect(await page.textContent(".advise-snippet")).toContain("update_proj_gap");
  const bad = await fetch(`${server.url}api/runs/run-gtrace/advise?target=2`);
  expect(bad.status).toBe(400);
  await page.close();
});
