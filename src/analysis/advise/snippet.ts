/** @file The paste-able configuration for the advice, in galore-torch's terms (param groups with `rank`,
 * `update_proj_gap`, `scale`, `proj_type`; the projected modules as `target_modules`), and the caveat every output
 * states. */
import type { TensorAdvice } from "./types.ts";

export const ADVISE_CAVEAT =
  "Captured gradient energy is not captured progress: a projector that keeps most of ‖g‖² can still drop the " +
  "directions along which the loss actually decreases (Song, Ahn & Yun, ICLR 2025, show SGD's progress can lie " +
  "outside the dominant subspace). Where the trace logged updates, progressShare is the part of the first-order " +
  "decrease ⟨g, u⟩ the projected update keeps; only training with the setting shows what it costs in loss.";

/** galore-torch param groups: one group per distinct (rank, update_proj_gap), the rest of the model in a plain
 * group. `scale` is left at galore-torch's default (0.25): the advice says nothing about it. */
export function galoreSnippet(tensors: readonly TensorAdvice[], target: number): string {
  const groups = new Map<string, { rank: number; gap: number; names: string[] }>();
  for (const t of tensors) {
    if (!t.advice.projected || t.advice.interval === null) continue;
    const key = `${t.advice.rank}/${t.advice.interval}`;
    const g = groups.get(key) ?? { rank: t.advice.rank, gap: t.advice.interval, names: [] };
    g.names.push(t.name);
    groups.set(key, g);
  }
  const all = [...groups.values()].sort((a, b) => a.rank - b.rank || a.gap - b.gap);
  const projected = all.flatMap((g) => g.names);
  const lines = [
    `# gradtrace advise: per-layer GaLore settings keeping ≥ ${target} of each layer's gradient energy`,
    "# (energy is not progress: see the caveat). galore-torch >= 1.0:",
    "from galore_torch import GaLoreAdamW",
    "",
    "named = dict(model.named_parameters())",
    `target_modules = ${JSON.stringify(projected)}`,
    "param_groups = [",
  ];
  for (const g of all) {
    lines.push(
      `    {"params": [named[n] for n in ${JSON.stringify(g.names)}],`,
      `     "rank": ${g.rank}, "update_proj_gap": ${g.gap}, "scale": 0.25, "proj_type": "std"},`,
    );
  }
  lines.push(
    '    {"params": [p for n, p in named.items() if n not in target_modules]},  # full AdamW',
    "]",
    "optimizer = GaLoreAdamW(param_groups, lr=1e-3)  # your learning rate",
  );
  return `${lines.join("\n")}\n`;
}
