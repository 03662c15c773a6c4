/** @file A spiked-lab sweep: the gradient's top singular values and the alignment cosines of its singular vectors
 * (with the bulk data-residue direction, the spike q, a∘μ) against the swept parameter. */
import { api } from "./api.ts";
import { Chart } from "./chart.ts";
import type { Page } from "./overview.ts";

export function labPage(root: HTMLElement, id: string): Page {
  root.innerHTML = "";
  const charts: Chart[] = [];
  let closed = false;
  api
    .lab(id)
    .then((lab) => {
      if (closed) return;
      const h = document.createElement("h2");
      h.textContent = lab.title;
      const p = document.createElement("p");
      p.className = "facts";
      p.textContent = `${lab.path} · ${lab.values.length} values of ${lab.parameter}${
        lab.xLabels ? ` (${lab.xLabels.join(", ")})` : ""
      }`;
      const grid = document.createElement("div");
      grid.className = "charts";
      root.append(h, p, grid);
      const order = lab.values.map((_, i) => i).sort((a, b) => lab.values[a] - lab.values[b]);
      const x = order.map((i) => lab.values[i]);
      if (lab.singularValues.length > 0) {
        charts.push(
          new Chart(grid, {
            id: "lab-singular-values",
            title: "Top singular values of the gradient",
            xLabel: lab.parameter,
            yLabel: "σᵢ",
            x,
            series: lab.singularValues.map((s) => ({ label: s.label, y: order.map((i) => s.y[i]) })),
            logY: true,
            xLabels: lab.xLabels ?? undefined,
          }),
        );
      }
      if (lab.norms.length > 0) {
        charts.push(
          new Chart(grid, {
            id: "lab-norms",
            title: "Components of G ≈ S1 + S2 + E",
            xLabel: lab.parameter,
            yLabel: "norm",
            x,
            series: lab.norms.map((s) => ({ label: s.label, y: order.map((i) => s.y[i]) })),
            logY: true,
            xLabels: lab.xLabels ?? undefined,
          }),
        );
      }
      if (lab.cosines.length > 0) {
        charts.push(
          new Chart(grid, {
            id: "lab-cosines",
            title: "Alignment cosines",
            xLabel: lab.parameter,
            yLabel: "|cos|",
            x,
            series: lab.cosines.map((s) => ({ label: s.label, y: order.map((i) => s.y[i]) })),
            xLabels: lab.xLabels ?? undefined,
          }),
        );
      }
      document.body.dataset.state = "ready";
    })
    .catch((err: Error) => {
      root.textContent = `Could not load lab ${id}: ${err.message}`;
      document.body.dataset.state = "error";
    });
  return {
    destroy() {
      closed = true;
      for (const c of charts) c.destroy();
    },
  };
}
