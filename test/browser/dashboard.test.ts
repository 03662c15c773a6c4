/** @file The dashboard in a real browser (Debian's chromium through playwright-core) on generated gtrace traces
 * analyzed by the real engine: the overview, heatmap (hidden table, canvas pixels and hover tooltip) and per-tensor
 * charts show the numbers of a direct analyze() of the same traces; the page is not blank; exports produce the
 * right files; pan / zoom change the view; live mode updates the page without a reload while a writer appends. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HeatmapJson } from "../../src/serve/api-types.ts";
import { traceEngine } from "../../src/serve/engine.ts";
import { type RunningServer, startServer } from "../../src/serve/server.ts";
import { lut, scaleFor, toUnit, unpack } from "../../web/src/colormap.ts";
import { rawGet } from "../serve/http.ts";
import { analyzeFile, SMALL_MODEL, writeTrace } from "../serve/traces.ts";
import { DIST_DIR, downloadFrom, downloadLines, launchChromium, requireBuilt } from "./harness.ts";

let dir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
let live: ReturnType<typeof writeTrace>;
const pageErrors: string[] = [];

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

async function open(hash: string): Promise<void> {
  await page.goto(`${server.url}${hash}`);
  await page.waitForSelector("body[data-state=ready]", { timeout: 20_000 });
}

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-browser-"));
  fs.mkdirSync(path.join(dir, "adam"));
  writeTrace(path.join(dir, "adam", "seed1.gtrace"), { tensors: SMALL_MODEL, seed: 1 }, 40);
  writeTrace(path.join(dir, "adam", "seed2.gtrace"), { tensors: SMALL_MODEL, seed: 2 }, 32);
  live = writeTrace(path.join(dir, "live.gtrace"), { tensors: SMALL_MODEL, seed: 3 }, 16, { keepOpen: true });
  fs.writeFileSync(
    path.join(dir, "spike.lab.json"),
    JSON.stringify({
      title: "spike sweep",
      sweep: { parameter: "nu", values: [0, 0.125, 0.25, 0.375] },
      singularValues: [
        [5, 1, 0.5],
        [6, 1.5, 0.5],
        [7, 4, 0.6],
        [8, 6, 0.7],
      ],
      cosines: { u1·q: [0.1, 0.2, 0.7, 0.9], "u1·X_B r": [0.95, 0.9, 0.6, 0.4] },
    }),
  );
  // In-thread engine: the worker path is covered by test/serve (and would add a worker start per server here).
  server = await startServer({ path: dir, webDir: DIST_DIR, pollMs: 100, engine: traceEngine });
  await server.store.idle();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(e.message));
});

afterAll(async () => {
  live?.writer.close();
  await browser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("overview", () => {
  it("shows every run side by side with κ, its interval and r*(ε) of analyze()", async () => {
    await open("#/");
    const e = await analyzeFile(path.join(dir, "adam", "seed1.gtrace"));
    const row = page.locator('[data-table=runs] tr[data-key="adam-seed1-gtrace"]');
    for (const p of e.options.predictors) {
      const cell = row.locator(`td[data-key="kappa:${p}"]`);
      expect(Number(await cell.getAttribute("data-value")), p).toBe(e.total.kappa[p]);
      expect(Number(await cell.getAttribute("data-ci-lo"))).toBe(e.total.kappaCI![p][0]);
      expect(Number(await cell.getAttribute("data-ci-hi"))).toBe(e.total.kappaCI![p][1]);
    }
    for (const eps of e.options.eps) {
      const v = await row.locator(`td[data-key="rank:${eps}"]`).getAttribute("data-value");
      expect(Number(v)).toBe(e.total.predictableRank[String(eps)]);
    }
    expect(Number(await row.locator('td[data-key="effectiveRank"]').getAttribute("data-value"))).toBe(
      e.total.effectiveRank,
    );
    expect(await page.locator("[data-table=runs] tbody tr").count()).toBe(3);
    // The side-by-side chart has one bar per (predictor, ready run).
    expect(await page.locator("[data-chart=kappa-by-run] rect[height]").count()).toBeGreaterThanOrEqual(
      3 * e.options.predictors.length,
    );
    expect(await page.locator("[data-table=labs] tbody tr").count()).toBe(1);
  });

  it("exports the runs table as CSV with the full-precision numbers", async () => {
    const csv = await downloadLines(page, "[data-table=runs] button[data-export=csv]");
    const header = csv[0].split(",");
    const line = csv.find((l) => l.startsWith("adam/seed1.gtrace"))!.split(",");
    const e = await analyzeFile(path.join(dir, "adam", "seed1.gtrace"));
    expect(Number(line[header.indexOf("κ ema0.9")])).toBe(e.total.kappa["ema0.9"]);
  });
});

describe("run page", () => {
  it("draws the κ heatmap with the analyzed numbers: hidden table, pixel colours, and the hover tooltip", async () => {
    await open("#/run/adam-seed1-gtrace");
    const e = await analyzeFile(path.join(dir, "adam", "seed1.gtrace"));
    const canvas = page.locator("canvas.heatmap-canvas");
    expect(await canvas.getAttribute("data-rows")).toBe(String(e.tensors.length));
    expect(await canvas.getAttribute("data-cols")).toBe(String(e.tensors[0].windows!.starts.length));
    expect(await canvas.getAttribute("data-predictor")).toBe("ema0.9");
    // Hidden table view: every cell equals the analysis (float32 on the wire).
    const cells = await page.$$eval("table.heatmap-table tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => Number((td as HTMLElement).dataset.value))),
    );
    expect(cells.length).toBe(e.tensors.length);
    e.tensors.forEach((t, r) => {
      t.windows!.kappa["ema0.9"].forEach((v, c) => {
        expect(close(cells[r][c], v), `${t.name}[${c}]`).toBe(true);
      });
    });
    // Canvas pixels: the colour at each cell's centre is the colour map's colour of that cell's value.
    const header = (
      await rawGet(server.port, "/api/runs/adam-seed1-gtrace/heatmap?predictor=ema0.9")
    ).json<HeatmapJson>();
    const scale = scaleFor("kappa", header.min, header.max);
    const unit = toUnit(scale);
    const table = lut(scale.kind);
    const pixels = await page.evaluate(
      ({ rows, cols }) => {
        const c = document.querySelector<HTMLCanvasElement>("canvas.heatmap-canvas")!;
        const ctx = c.getContext("2d")!;
        const out: number[][] = [];
        for (let r = 0; r < rows; r++) {
          for (let k = 0; k < cols; k++) {
            const x = Math.floor(((k + 0.5) / cols) * c.width);
            const y = Math.floor(((r + 0.5) / rows) * c.height);
            out.push([...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)]);
          }
        }
        return out;
      },
      { rows: header.rows, cols: header.cols },
    );
    pixels.forEach((rgb, i) => {
      const v = header.values[i];
      const expected = v === null ? [205, 205, 205] : unpack(table[Math.round(unit(v) * 255)]);
      for (let ch = 0; ch < 3; ch++)
        expect(Math.abs(rgb[ch] - expected[ch]), `cell ${i} channel ${ch}`).toBeLessThanOrEqual(8);
    });
    // Tooltip under the mouse names the tensor, the window and the exact value.
    const box = (await canvas.boundingBox())!;
    const r = 2;
    const c = 3;
    await page.mouse.move(
      box.x + ((c + 0.5) / header.cols) * box.width,
      box.y + ((r + 0.5) / header.rows) * box.height,
    );
    const tip = page.locator("#tooltip");
    await expect.poll(() => tip.getAttribute("data-col")).toBe(String(c));
    expect(await tip.getAttribute("data-tensor")).toBe(e.tensors[r].name);
    expect(
      close(Number(await tip.getAttribute("data-value")), e.tensors[r].windows!.kappa["ema0.9"][c]),
    ).toBe(true);
  });

  it("exports the whole heatmap as CSV (one row per tensor, one column per window start)", async () => {
    const lines = await downloadLines(page, ".heatmap-controls button[data-export=csv]");
    const e = await analyzeFile(path.join(dir, "adam", "seed1.gtrace"));
    expect(lines[0].split(",").slice(1).map(Number)).toEqual(e.tensors[0].windows!.starts);
    e.tensors.forEach((t, r) => {
      const cells = lines[r + 1].split(",");
      expect(cells[0]).toBe(t.name);
      cells.slice(1).forEach((v, c) => {
        expect(close(Number(v), t.windows!.kappa["ema0.9"][c])).toBe(true);
      });
    });
  });

  it("filters heatmap rows by name and orders them by mean κ; a click selects the tensor under the cursor", async () => {
    const e = await analyzeFile(path.join(dir, "adam", "seed1.gtrace"));
    const names = () =>
      page.$$eval("table.heatmap-table tbody tr", (trs) =>
        trs.map((tr) => (tr as HTMLElement).dataset.tensor),
      );
    await page.fill("input[name=filter]", "conv1");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("canvas.heatmap-canvas")?.dataset.rows === "2",
    );
    expect(await names()).toEqual(["conv1.weight", "conv1.bias"]);
    await page.fill("input[name=filter]", "");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("canvas.heatmap-canvas")?.dataset.rows === "3",
    );
    await page.selectOption("select[name=order]", "mean-desc");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("canvas.heatmap-canvas")?.dataset.order === "mean-desc",
    );
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const expected = [...e.tensors]
      .sort((a, b) => mean(b.windows!.kappa["ema0.9"]) - mean(a.windows!.kappa["ema0.9"]))
      .map((t) => t.name);
    expect(await names()).toEqual(expected);
    // Clicking the first heatmap row opens the tensor shown there (the reordered one, not trace row 0).
    const box = (await page.locator("canvas.heatmap-canvas").boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / (2 * expected.length));
    await page.waitForSelector(`section.tensor[data-tensor="${expected[0]}"]`);
    await page.selectOption("select[name=order]", "trace");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("canvas.heatmap-canvas")?.dataset.order === "trace",
    );
  });

  it("exports the heatmap as SVG (the view as an embedded PNG, with title and scale as text)", async () => {
    const svg = (await downloadFrom(page, ".heatmap-controls button[data-export=svg]")).toString("utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toMatch(/<image [^>]*href="data:image\/png;base64,[A-Za-z0-9+/=]{100,}"/);
    expect(svg).toContain("adam/seed1.gtrace");
    expect(svg).toContain("κ (ema0.9)");
  });

  it("switches the heatmap to r*(ε) per window and to ‖g‖ per step", async () => {
    await page.selectOption("select[name=metric]", "rank");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("canvas.heatmap-canvas")?.dataset.metric === "rank",
    );
    const rank = (
      await rawGet(server.port, "/api/runs/adam-seed1-gtrace/heatmap?metric=rank&eps=0.1")
    ).json<HeatmapJson>();
    const shown = await page.$$eval("table.heatmap-table tbody td", (tds) =>
      tds.map((td) => Number((td as HTMLElement).dataset.value)),
    );
    expect(shown).toEqual(rank.values);
    await page.selectOption("select[name=metric]", "gradNorm");
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>("canvas.heatmap-canvas")?.dataset.metric === "gradNorm",
    );
    expect(await page.locator("canvas.heatmap-canvas").getAttribute("data-cols")).toBe("40");
    await page.selectOption("select[name=metric]", "kappa");
  });

  it("zooms with the wheel, pans by dragging, and resets on double-click", async () => {
    const canvas = page.locator("canvas.heatmap-canvas");
    const box = (await canvas.boundingBox())!;
    const full = await canvas.getAttribute("data-view");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    await expect.poll(() => canvas.getAttribute("data-view")).not.toBe(full);
    const [r0, r1, c0, c1] = (await canvas.getAttribute("data-view"))!.split(",").map(Number);
    expect(r1 - r0).toBeLessThan(3);
    expect(c1 - c0).toBeLessThan(Number(await canvas.getAttribute("data-cols")));
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect
      .poll(async () => Number((await canvas.getAttribute("data-view"))!.split(",")[2]))
      .toBeLessThan(c0);
    await canvas.dblclick();
    await expect.poll(() => canvas.getAttribute("data-view")).toBe(full);
  });

  it("shows a tensor's ‖g‖, κ windows, spectrum, r*(ε) curve and stale-projector energy as analyzed", async () => {
    const e = await analyzeFile(path.join(dir, "adam", "seed1.gtrace"));
    const t = e.tensors[0];
    // The tensor table shows the Eckart–Young oracle's κ (rank 4) beside the predictors' κ, as analyzed.
    const oracle = page.locator(`[data-table=tensors] tr[data-key="${t.name}"] td[data-key="oracleKappa:4"]`);
    expect(Number(await oracle.getAttribute("data-value"))).toBe(t.oracleKappa![4]);
    await page.locator(`[data-table=tensors] tr[data-key="${t.name}"]`).click();
    await page.waitForSelector(`section.tensor[data-tensor="${t.name}"]`);
    const column = (chart: string, i: number) =>
      page.$$eval(
        `[data-chart="${chart}"] table.chart-data tbody tr`,
        (trs, k) => trs.map((tr) => (tr as HTMLTableRowElement).cells[k].dataset.value ?? ""),
        i,
      );
    expect((await column("grad-norm", 1)).map(Number)).toEqual(t.gradNorm);
    const preds = e.options.predictors;
    for (const [k, p] of preds.entries()) {
      expect((await column("kappa-windows", k + 1)).map(Number), p).toEqual(t.windows!.kappa[p]);
    }
    expect((await column("spectrum", 1)).filter((v) => v !== "").map(Number)).toEqual(
      t.increments.singularValues,
    );
    // The curve is drawn over ascending ε (uPlot needs an ascending x).
    const curve = t.increments.rankCurve.eps
      .map((eps, i) => [eps, t.increments.rankCurve.rank[i]])
      .sort((a, b) => a[0] - b[0]);
    expect((await column("rank-curve", 0)).map(Number)).toEqual(curve.map((p) => p[0]));
    expect((await column("rank-curve", 1)).map(Number)).toEqual(curve.map((p) => p[1]));
    expect((await column("stale-energy", 0)).map(Number)).toEqual(t.matrix!.staleEnergy.delta);
    expect((await column("stale-energy", 1)).map(Number)).toEqual(t.matrix!.staleEnergy.energy);
    // uPlot drew something on each chart's canvas.
    expect(await page.locator(".chart canvas").count()).toBeGreaterThanOrEqual(6);
  });

  it("exports a chart as SVG with one path point per step, and as PNG", async () => {
    const svg = (await downloadFrom(page, '[data-chart="grad-norm"] button[data-export=svg]')).toString(
      "utf8",
    );
    expect(svg.startsWith("<svg")).toBe(true);
    const d = /<path d="([^"]+)"/.exec(svg)![1];
    expect(d.match(/[ML]/g)!.length).toBe(40);
    const png = await downloadFrom(page, '[data-chart="grad-norm"] button[data-export=png]');
    expect([...png.subarray(1, 4)].map((b) => String.fromCharCode(b)).join("")).toBe("PNG");
  });

  it("renders a screenshot that is not blank", async () => {
    const shot = await page.screenshot({ fullPage: false });
    const stats = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext("2d")!;
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let s = 0;
      let s2 = 0;
      const colours = new Set<number>();
      for (let i = 0; i < d.length; i += 4) {
        const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        s += y;
        s2 += y * y;
        if (colours.size < 5000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      }
      const n = d.length / 4;
      return { variance: s2 / n - (s / n) ** 2, colours: colours.size };
    }, shot.toString("base64"));
    expect(stats.variance).toBeGreaterThan(100);
    expect(stats.colours).toBeGreaterThan(50);
    expect(pageErrors).toEqual([]);
  });
});

describe("live mode", () => {
  it("updates the run page without a reload while the trace grows", async () => {
    await open("#/run/live-gtrace");
    const v0 = Number(await page.locator("#app").getAttribute("data-version"));
    await page.evaluate(() => {
      (window as unknown as { stillHere: boolean }).stillHere = true;
    });
    await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");
    const t0 = Date.now();
    for (let s = 16; s < 24; s++) live.writer.append(s, live.grad(s));
    await page.waitForFunction(
      (v) =>
        Number(document.getElementById("app")?.dataset.version) > v &&
        document.querySelector<HTMLElement>(".run-head .facts")?.dataset.steps === "24",
      v0,
      { timeout: 10_000 },
    );
    const elapsed = Date.now() - t0;
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(elapsed).toBeLessThan(5000); // loose here; bench/dashboard.bench.ts measures the latency
    const e = await analyzeFile(path.join(dir, "live.gtrace"));
    await page.waitForFunction(
      () => document.querySelectorAll('[data-chart="grad-norm"] table.chart-data tbody tr').length === 24,
    );
    const shown = await page.$$eval('[data-chart="grad-norm"] table.chart-data tbody tr', (trs) =>
      trs.map((tr) => Number((tr as HTMLTableRowElement).cells[1].dataset.value)),
    );
    expect(shown).toEqual(e.total.gradNorm);
  });

  it("shows the incremental live numbers before the exact re-analysis, then the exact ones", async () => {
    await open("#/run/live-gtrace");
    await page.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");
    const v0 = Number(await page.locator("#app").getAttribute("data-version"));
    const steps0 = Number(await page.locator(".run-head .facts").first().getAttribute("data-steps"));
    // Record every live line the page shows (it disappears once the exact result catches up).
    await page.evaluate(() => {
      const seen: { steps: string; kappa: string; version: string }[] = [];
      (window as unknown as { liveSeen: typeof seen }).liveSeen = seen;
      new MutationObserver(() => {
        const line = document.querySelector<HTMLElement>(".run-head .live-steps");
        if (line && seen[seen.length - 1]?.steps !== line.dataset.steps) {
          seen.push({
            steps: line.dataset.steps ?? "",
            kappa: line.dataset.kappa ?? "",
            version: document.getElementById("app")?.dataset.version ?? "",
          });
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    const n = steps0 + 4;
    for (let s = steps0; s < n; s++) live.writer.append(s, live.grad(s));
    await page.waitForFunction(
      ([v, want]) =>
        Number(document.getElementById("app")?.dataset.version) > v &&
        document.querySelector<HTMLElement>(".run-head .facts")?.dataset.steps === String(want) &&
        document.querySelector(".run-head .live-steps") === null,
      [v0, n],
      { timeout: 10_000 },
    );
    const seen = await page.evaluate(
      () => (window as unknown as { liveSeen: { steps: string; kappa: string; version: string }[] }).liveSeen,
    );
    const last = seen.find((x) => x.steps === String(n));
    expect(last).toBeDefined();
    expect(Number(last!.version)).toBe(v0); // shown while the exact result was still the old one
    // The live accumulator's κ over all steps equals the exact analysis for the predictors it evaluates exactly.
    const e = await analyzeFile(path.join(dir, "live.gtrace"));
    const liveKappa = JSON.parse(last!.kappa) as Record<string, number>;
    for (const id of ["zero", "last", "linear", "ema0.9"]) {
      expect(Math.abs(liveKappa[id] - e.total.kappa[id])).toBeLessThanOrEqual(1e-5 * e.total.kappa[id]);
    }
  });
});

describe("token", () => {
  it("works when opened with the printed ?token= URL (fetch and EventSource), and fails without it", async () => {
    const token = "browser-test-token-0123456789";
    const guarded = await startServer({ path: dir, webDir: DIST_DIR, token, engine: traceEngine });
    try {
      await guarded.store.idle();
      const p = await browser.newPage();
      await p.goto(`${guarded.url}#/`);
      await p.waitForSelector("body[data-state=ready]");
      expect(await p.locator("[data-table=runs] tbody tr").count()).toBe(3);
      await p.waitForFunction(() => document.getElementById("live")?.dataset.live === "on");
      await p.goto(`http://127.0.0.1:${guarded.port}/#/`);
      await p.waitForSelector("body[data-state=error]");
      expect(await p.locator("#app").textContent()).toMatch(/token/);
      await p.close();
    } finally {
      await guarded.close();
    }
  });
});

describe("spiked lab", () => {
  it("plots singular values and cosines against the swept parameter", async () => {
    await open("#/lab/spike-lab-json");
    const col = (chart: string, k: number) =>
      page.$$eval(
        `[data-chart="${chart}"] table.chart-data tbody tr`,
        (trs, i) => trs.map((tr) => Number((tr as HTMLTableRowElement).cells[i].dataset.value)),
        k,
      );
    expect(await col("lab-singular-values", 0)).toEqual([0, 0.125, 0.25, 0.375]);
    expect(await col("lab-singular-values", 2)).toEqual([1, 1.5, 4, 6]);
    expect(await col("lab-cosines", 1)).toEqual([0.1, 0.2, 0.7, 0.9]);
  });
});
