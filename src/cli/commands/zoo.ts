/** @file `gradtrace zoo list`: the zoo's models with parameter counts and default training settings. */
import type { Command } from "commander";
import { createZooModel, parameterCount, ZOO_MODEL_NAMES } from "../../lab/index.ts";

export function registerZooCommand(program: Command): void {
  const zoo = program
    .command("zoo")
    .description("the model zoo used by `gradtrace train` and the reproductions");
  zoo
    .command("list")
    .description("models with parameter counts and default settings")
    .option("--json", "print JSON instead of a table")
    .action((flags: { json?: boolean }) => {
      const rows = ZOO_MODEL_NAMES.map((name) => {
        const model = createZooModel(name);
        return {
          name,
          parameters: parameterCount(model),
          tensors: model.params.length,
          ...model.defaults,
          description: model.description,
        };
      });
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const header = [
        "model",
        "params",
        "tensors",
        "optimizer",
        "lr (sgd / momentum / adam)",
        "batch",
        "steps",
        "schedule",
        "description",
      ];
      const table = rows.map((r) => [
        r.name,
        String(r.parameters),
        String(r.tensors),
        r.optimizer,
        `${r.lr.sgd} / ${r.lr.momentum} / ${r.lr.adam}`,
        String(r.batch),
        String(r.steps),
        r.warmupSteps > 0 ? `${r.schedule}+warmup ${r.warmupSteps}` : r.schedule,
        r.description,
      ]);
      const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
      const line = (cells: string[]) =>
        cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
      process.stdout.write(`${[line(header), ...table.map(line)].join("\n")}\n`);
    });
}
