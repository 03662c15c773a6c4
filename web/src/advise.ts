/** @file The run page's GaLore advice panel: on request (the advice costs an SVD per refresh per matrix tensor, so it
 * is never computed unasked) it fetches `/api/runs/:id/advise?target=` and draws one small heatmap of the captured
 * energy E(r, Δ) per layer — ranks down, refresh intervals across, the dashboard's sequential (viridis) scale over
 * [0, 1], cells reaching the target marked ✓ and the advice outlined — with the memory comparison, the caveat and the
 * galore-torch snippet. Grids are at most a few dozen cells, so each is a plain table of coloured cells: every number
 * is in the DOM (title and data-energy), which is what the browser test reads back. */
import { el } from "./dom.ts";
import { fmtNum } from "../../src/core/format.ts";
import { type AdviseResponse, api, type TensorAdvice } from "./api.ts";
import { cssColor } from "./colormap.ts";

function grid(t: TensorAdvice, target: number): HTMLElement {
  const fig = el("figure", "advise-tensor");
  fig.dataset.tensor = t.name;
  fig.append(el("figcaption", undefined, `${t.name} (${t.rows}×${t.cols}, ${t.side})`));
  const table = el("table", "advise-grid");
  const head = el("tr");
  head.append(el("th", undefined, "r \\ Δ"));
  for (const d of t.intervals) head.append(el("th", undefined, String(d)));
  table.append(head);
  t.ranks.forEach((r, i) => {
    const row = el("tr");
    row.append(el("th", undefined, String(r)));
    t.intervals.forEach((d, j) => {
      const e = t.energy[i][j];
      const cell = el("td", "advise-cell", e >= target ? "✓" : "");
      cell.style.background = Number.isFinite(e) ? cssColor("sequential", e) : "#ccc";
      // Light text on the dark end of viridis, dark text on the light end.
      cell.style.color = e > 0.6 ? "#000" : "#fff";
      cell.dataset.rank = String(r);
      cell.dataset.interval = String(d);
      cell.dataset.energy = String(e);
      const [lo, hi] = t.energyInterval[i][j];
      cell.title = `r = ${r}, Δ = ${d}: E = ${fmtNum(e)} [${fmtNum(lo)}, ${fmtNum(hi)}]`;
      if (t.advice.projected && t.advice.rank === r && t.advice.interval === d) cell.classList.add("advised");
      row.append(cell);
    });
    table.append(row);
  });
  fig.append(table);
  const a = t.advice;
  fig.append(
    el(
      "p",
      "advise-choice",
      a.projected
        ? `advice: r = ${a.rank}, Δ = ${a.interval}, E = ${fmtNum(a.energy)}; memory ${fmtNum(a.memory / t.fullMemory, 2)}× full Adam`
        : "advice: full Adam (no setting on the grid reaches the target at less memory)",
    ),
  );
  return fig;
}

function render(host: HTMLElement, res: AdviseResponse): void {
  const m = res.memory;
  const facts = el("p", "advise-memory");
  facts.textContent =
    `Optimizer state: full Adam ${fmtNum(m.fullAdam)} numbers; advice ${fmtNum(m.advice)} (${fmtNum((100 * m.advice) / m.fullAdam)}%)` +
    (m.uniform
      ? `; uniform r = ${m.uniform.rank}, Δ = ${m.uniform.interval} at ${fmtNum(m.uniform.memory)}: mean E ${fmtNum(m.uniform.meanEnergy)}, ${m.uniform.tensorsMeetingTarget} of ${res.tensors.length} layers reach ${res.target}.`
      : ".");
  const grids = el("div", "advise-grids");
  for (const t of res.tensors) grids.append(grid(t, res.target));
  const caveat = el("p", "advise-caveat", res.caveat);
  const snippet = el("pre", "advise-snippet", res.snippet);
  host.append(facts, grids, caveat, snippet);
}

/** The panel: a target field and a button; the advice appears below once computed. */
export function advicePanel(runId: string): HTMLElement {
  const section = el("section", "advise-panel");
  section.append(el("h3", undefined, "GaLore rank and refresh interval (gradtrace advise)"));
  const form = el("div", "advise-controls");
  const label = el("label", undefined, "target E ");
  const input = el("input");
  input.type = "number";
  input.min = "0.05";
  input.max = "1";
  input.step = "0.05";
  input.value = "0.8";
  input.name = "advise-target";
  label.append(input);
  const button = el("button", undefined, "Compute advice");
  button.type = "button";
  const status = el("span", "advise-status");
  form.append(label, button, status);
  const out = el("div", "advise-out");
  section.append(form, out);
  button.addEventListener("click", () => {
    const target = Number(input.value);
    button.disabled = true;
    status.textContent = "computing… (an SVD per refresh per matrix layer)";
    out.replaceChildren();
    api
      .advise(runId, target)
      .then((res) => {
        status.textContent = `${res.tensors.length} layers, ${res.steps} steps`;
        render(out, res);
      })
      .catch((err: unknown) => {
        status.textContent = `failed: ${err instanceof Error ? err.message : String(err)}`;
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return section;
}
