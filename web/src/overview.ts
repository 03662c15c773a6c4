/** @file The overview page: every run of the directory side by side (whole-model κ per predictor with its
 * bootstrap interval, r*(ε), effective and stable rank), a grouped bar chart of κ across runs, and the spiked-lab
 * results; rows update live as runs are analyzed or grow. */
import { api, type LabListEntry, type RunListEntry, subscribe } from "./api.ts";
import { barsToSvg, download, svgToPng } from "./export.ts";
import { type Column, DataTable, fmt } from "./table.ts";

export interface Page {
  destroy(): void;
}

function runColumns(predictors: readonly string[], eps: readonly string[]): Column<RunListEntry>[] {
  return [
    { key: "run", label: "run", value: (r) => r.path, text: (r) => r.path },
    {
      key: "status",
      label: "status",
      value: (r) => r.status,
      text: (r) =>
        `${r.error && r.status !== "error" ? `${r.status} (stale)` : r.status}${
          r.corruptSteps
            ? ` · ⚠ corrupt data (${r.corruptSteps} step${r.corruptSteps === 1 ? "" : "s"} excluded)`
            : ""
        }`,
      data: (r): Record<string, string> => (r.corruptSteps ? { corrupt: String(r.corruptSteps) } : {}),
    },
    { key: "steps", label: "steps", value: (r) => r.steps },
    { key: "tensors", label: "tensors", value: (r) => r.tensors },
    ...predictors.map(
      (p): Column<RunListEntry> => ({
        key: `kappa:${p}`,
        label: `κ ${p}`,
        title: `κ of predictor ${p} over the whole run (95% block-bootstrap interval)`,
        value: (r) => r.kappa?.[p] ?? null,
        text: (r) => {
          const k = r.kappa?.[p];
          const ci = r.kappaCI?.[p];
          return k === undefined || k === null
            ? "–"
            : ci
              ? `${fmt(k)} [${fmt(ci[0])}, ${fmt(ci[1])}]`
              : fmt(k);
        },
        data: (r): Record<string, string> => {
          const ci = r.kappaCI?.[p];
          return ci ? { ciLo: String(ci[0]), ciHi: String(ci[1]) } : {};
        },
      }),
    ),
    ...eps.map(
      (e): Column<RunListEntry> => ({
        key: `rank:${e}`,
        label: `r*(${e})`,
        title: `predictable rank of the increments at ε = ${e}`,
        value: (r) => r.predictableRank?.[e] ?? null,
      }),
    ),
    { key: "effectiveRank", label: "eff. rank", value: (r) => r.effectiveRank },
    { key: "stableRank", label: "stable rank", value: (r) => r.stableRank },
  ];
}

export function overviewPage(root: HTMLElement, setLive: (on: boolean) => void): Page {
  root.innerHTML = "";
  const intro = document.createElement("section");
  intro.className = "intro";
  intro.innerHTML =
    "<h2>Runs</h2><p>κ = path length of a predictor / Σ‖g‖² (κ(zero) = 1; below 1: predictable). r*(ε): fewest directions holding 1 − ε of the increments' energy.</p>";
  const tableHost = document.createElement("div");
  const chartHost = document.createElement("section");
  chartHost.className = "compare";
  const labHost = document.createElement("div");
  root.append(intro, tableHost, chartHost, labHost);
  let runs: RunListEntry[] = [];
  let table: DataTable<RunListEntry> | null = null;
  let shape = "";

  const render = () => {
    const predictors = [...new Set(runs.flatMap((r) => Object.keys(r.kappa ?? {})))];
    const eps = [...new Set(runs.flatMap((r) => Object.keys(r.predictableRank ?? {})))];
    const nextShape = `${predictors.join()}|${eps.join()}`;
    if (!table || nextShape !== shape) {
      tableHost.innerHTML = "";
      table = new DataTable<RunListEntry>(tableHost, {
        id: "runs",
        title: `${runs.length} run${runs.length === 1 ? "" : "s"}`,
        columns: runColumns(predictors, eps),
        rowKey: (r) => r.id,
      });
      table.rowHref = (r) => `#/run/${encodeURIComponent(r.id)}`;
      shape = nextShape;
    }
    table.setRows(runs);
    renderCompare(chartHost, runs, predictors);
    document.body.dataset.state = "ready";
  };

  let closed = false;
  let unsubscribe: () => void = () => {};
  api
    .runs()
    .then(({ runs: list, labs }) => {
      if (closed) return;
      runs = list;
      render();
      renderLabs(labHost, labs);
      unsubscribe = subscribe(
        null,
        ({ run }) => {
          const i = runs.findIndex((r) => r.id === run.id);
          if (i >= 0) runs[i] = run;
          else runs.push(run);
          render();
        },
        setLive,
      );
    })
    .catch((err: Error) => {
      root.textContent = `Could not load the runs: ${err.message}`;
      document.body.dataset.state = "error";
    });
  return {
    destroy() {
      closed = true;
      unsubscribe();
      setLive(false);
    },
  };
}

function renderCompare(
  host: HTMLElement,
  runs: readonly RunListEntry[],
  predictors: readonly string[],
): void {
  const ready = runs.filter((r) => r.kappa).slice(0, 24);
  host.innerHTML = "";
  if (ready.length === 0) return;
  const groups = predictors.map((p) => ({
    label: p,
    bars: ready.map((r) => ({
      label: r.path,
      value: r.kappa?.[p] ?? null,
      lo: r.kappaCI?.[p]?.[0] ?? null,
      hi: r.kappaCI?.[p]?.[1] ?? null,
    })),
  }));
  const svg = barsToSvg({ title: "κ per predictor, runs side by side", yLabel: "κ", groups, reference: 1 });
  const head = document.createElement("div");
  head.className = "section-head";
  const h = document.createElement("h3");
  h.textContent = "Runs side by side";
  const bSvg = document.createElement("button");
  bSvg.textContent = "SVG";
  bSvg.dataset.export = "svg";
  bSvg.addEventListener("click", () =>
    download("kappa-by-run.svg", new Blob([svg], { type: "image/svg+xml" })),
  );
  const bPng = document.createElement("button");
  bPng.textContent = "PNG";
  bPng.dataset.export = "png";
  bPng.addEventListener("click", () => svgToPng(svg, "kappa-by-run.png"));
  head.append(h, bSvg, bPng);
  const fig = document.createElement("figure");
  fig.className = "svg-figure";
  fig.dataset.chart = "kappa-by-run";
  // The SVG is built from escaped text only (barsToSvg escapes every label).
  fig.innerHTML = svg;
  host.append(head, fig);
}

function renderLabs(host: HTMLElement, labs: readonly LabListEntry[]): void {
  host.innerHTML = "";
  if (labs.length === 0) return;
  const t = new DataTable<LabListEntry>(host, {
    id: "labs",
    title: "Spiked-lab results",
    columns: [
      { key: "title", label: "lab", value: (l) => l.title },
      { key: "path", label: "file", value: (l) => l.path },
      { key: "parameter", label: "swept", value: (l) => l.parameter },
      { key: "points", label: "points", value: (l) => l.points },
    ],
    rowKey: (l) => l.id,
  });
  t.rowHref = (l) => `#/lab/${encodeURIComponent(l.id)}`;
  t.setRows(labs);
}
