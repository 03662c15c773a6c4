/** @file `npm run bench [-- name-filter]`: runs every bench/*.bench.ts (each exports
 * `run(emit?): Promise<BenchRow[]>`) and prints one table. Rows are printed to stderr as they come: a bench may hand
 * each row to `emit` as soon as it is measured (long benches do), the others' rows appear when their run ends.
 * GRADTRACE_BENCH_QUICK=1 shrinks the problem sizes for a smoke run. */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmtNum } from "../src/core/format.ts";
import type { BenchRow } from "./types.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

const rows: { file: string; row: BenchRow }[] = [];
for (const file of files) {
  process.stderr.write(`bench ${file} …\n`);
  const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
    run: (emit?: (row: BenchRow) => void) => Promise<BenchRow[]>;
  };
  const printed = new Set<BenchRow>();
  const emit = (row: BenchRow): void => {
    if (printed.has(row)) return;
    printed.add(row);
    rows.push({ file, row });
    process.stderr.write(
      `  ${row.name}: ${fmtNum(row.value)} ${row.unit}${row.ratio !== undefined ? ` (ratio ${fmtNum(row.ratio)})` : ""}${row.note ? ` — ${row.note}` : ""}\n`,
    );
  };
  try {
    for (const row of await mod.run(emit)) emit(row);
  } catch (err) {
    process.stderr.write(`  failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

const header = ["benchmark", "value", "unit", "ratio", "vs (same run)", "target", "note"];
const label = (file: string, name: string): string => {
  const stem = file.replace(".bench.ts", "");
  return name.startsWith(`${stem}: `) ? name : `${stem}: ${name}`;
};
const table = rows.map(({ file, row }) => [
  label(file, row.name),
  fmtNum(row.value),
  row.unit,
  row.ratio !== undefined ? fmtNum(row.ratio) : "",
  row.reference ?? "",
  row.target ?? "",
  row.note ?? "",
]);
const widths = header.map((h, j) => Math.max(h.length, ...table.map((r) => r[j].length)));
const line = (r: string[]) =>
  r
    .map((c, j) => c.padEnd(widths[j]))
    .join("  ")
    .trimEnd();
console.log(line(header));
console.log(widths.map((w) => "─".repeat(w)).join("  "));
for (const r of table) console.log(line(r));
