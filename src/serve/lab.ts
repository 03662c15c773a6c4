/** @file Spiked-lab sweep results (JSON files next to the runs) normalised for plotting: the swept parameter's values
 * and, over them, the top singular values of the gradient and the alignment cosines. Accepted layouts
 * (docs/dashboard.md): the JSON `gradtrace lab --sweep` writes (src/lab/spiked/sweep.ts: `param`, `values`,
 * `series`, `points[].mean`); a list of points `{ parameter, points: [{ value, singularValues, cosines }] }` (also under
 * `rows` / `results`, with the value under the parameter's own name), or columns
 * `{ sweep: { parameter, values }, singularValues: number[][], cosines: { label: number[] } }`. */
import * as fs from "node:fs";
import { GradtraceError } from "../core/index.ts";
import type { LabResponse } from "./api-types.ts";

/** A lab file's content: the `/api/labs/:id` response (api-types.ts) before the store adds where it was found. */
export type LabData = Omit<LabResponse, "id" | "path">;

/** Quantities of a `gradtrace lab --sweep` result (src/lab/spiked/sweep.ts), by chart. */
const SWEEP_GROUPS = {
  singularValues: { sigma1: "σ1", sigma2: "σ2" },
  cosines: {
    cosResidue1: "cos(u1, X_B r)",
    cosResidue2: "cos(u2, X_B r)",
    cosSpike1: "cos(u1, q)",
    cosSpike2: "cos(u2, q)",
  },
  norms: { s1Norm: "‖S1‖", s2Norm: "‖S2‖", errNorm: "‖E‖" },
} as const;

/** A `gradtrace lab --sweep` result: mean of each quantity per (series, swept value). */
function normaliseSweepResult(doc: { [key: string]: Json }, title: string): LabData {
  const raw = doc.values as Json[];
  const categorical = raw.some((v) => typeof v !== "number");
  const values = categorical ? raw.map((_, i) => i) : (raw as number[]);
  const series = Array.isArray(doc.series) ? doc.series.map(String) : ["base"];
  const points = (doc.points as Json[]).filter(isObject);
  const curves = (group: Record<string, string>) =>
    series.flatMap((s) =>
      Object.entries(group).map(([q, label]) => ({
        label: series.length > 1 ? `${s}: ${label}` : label,
        y: raw.map((x) => {
          const p = points.find((pt) => pt.series === s && pt.x === x);
          return isObject(p?.mean) ? numOrNull(p.mean[q]) : null;
        }),
      })),
    );
  return {
    title,
    parameter: String(doc.param),
    values,
    xLabels: categorical ? raw.map(String) : null,
    singularValues: curves(SWEEP_GROUPS.singularValues),
    cosines: curves(SWEEP_GROUPS.cosines),
    norms: curves(SWEEP_GROUPS.norms),
  };
}

/** Labs larger than this are not lab results (and would be slow to parse on a request). */
const MAX_LAB_BYTES = 32 * 2 ** 20;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const numOrNull = (v: Json | undefined): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;

/** Flattens nested cosine records ({ left: { q: 0.9 } } → "left.q") into label → value. */
function flatten(v: Json | undefined, prefix: string, out: Map<string, number | null>): void {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof v === "number" || v === null) {
    out.set(prefix, numOrNull(v));
  }
}

function columns(rows: (number | null)[][], width: number): { label: string; y: (number | null)[] }[] {
  return Array.from({ length: width }, (_, i) => ({ label: `σ${i + 1}`, y: rows.map((r) => r[i] ?? null) }));
}

export function normaliseLab(doc: Json, file: string): LabData {
  if (!isObject(doc)) throw new GradtraceError("E_FORMAT", `${file}: a lab result must be a JSON object`);
  const title = typeof doc.title === "string" ? doc.title : typeof doc.name === "string" ? doc.name : file;
  if (typeof doc.param === "string" && Array.isArray(doc.values) && Array.isArray(doc.points)) {
    return normaliseSweepResult(
      doc,
      typeof doc.title === "string" ? doc.title : `${doc.param} sweep (${file})`,
    );
  }
  const points = doc.points ?? doc.rows ?? doc.results;
  if (Array.isArray(points)) {
    const parameter = typeof doc.parameter === "string" ? doc.parameter : "value";
    const values: number[] = [];
    const sv: (number | null)[][] = [];
    const cos = new Map<string, (number | null)[]>();
    points.forEach((p, i) => {
      if (!isObject(p)) throw new GradtraceError("E_FORMAT", `${file}: points[${i}] is not an object`);
      const v = numOrNull(p.value ?? p[parameter]);
      if (v === null)
        throw new GradtraceError("E_FORMAT", `${file}: points[${i}] has no numeric ${parameter}`);
      values.push(v);
      const s = p.singularValues;
      sv.push(Array.isArray(s) ? s.map(numOrNull) : []);
      const flat = new Map<string, number | null>();
      flatten(p.cosines, "", flat);
      for (const [label, x] of flat) {
        if (!cos.has(label)) cos.set(label, new Array(i).fill(null));
        cos.get(label)!.push(x);
      }
      for (const ys of cos.values()) if (ys.length < i + 1) ys.push(null);
    });
    const width = Math.max(0, ...sv.map((r) => r.length));
    return {
      title,
      parameter,
      values,
      xLabels: null,
      singularValues: columns(sv, width),
      cosines: [...cos].map(([label, y]) => ({ label, y })),
      norms: [],
    };
  }
  const sweep = doc.sweep;
  if (isObject(sweep) && Array.isArray(sweep.values)) {
    const parameter =
      typeof sweep.parameter === "string"
        ? sweep.parameter
        : typeof sweep.name === "string"
          ? sweep.name
          : "value";
    const values = sweep.values.map((v, i) => {
      const x = numOrNull(v);
      if (x === null) throw new GradtraceError("E_FORMAT", `${file}: sweep.values[${i}] is not a number`);
      return x;
    });
    const svRows = Array.isArray(doc.singularValues)
      ? doc.singularValues.map((r) => (Array.isArray(r) ? r.map(numOrNull) : []))
      : [];
    const width = Math.max(0, ...svRows.map((r) => r.length));
    const cosines: { label: string; y: (number | null)[] }[] = [];
    if (isObject(doc.cosines)) {
      for (const [label, ys] of Object.entries(doc.cosines)) {
        if (Array.isArray(ys)) cosines.push({ label, y: values.map((_, i) => numOrNull(ys[i])) });
      }
    }
    return {
      title,
      parameter,
      values,
      xLabels: null,
      singularValues: columns(svRows, width),
      cosines,
      norms: [],
    };
  }
  throw new GradtraceError("E_FORMAT", `${file}: expected "points" or "sweep.values" in a lab result`);
}

/** Reads and normalises a lab file; `name` (the path relative to the served directory) is what titles and error
 * messages show, so absolute paths stay on the server. */
export function readLab(file: string, name = file): LabData {
  const size = fs.statSync(file).size;
  if (size > MAX_LAB_BYTES) {
    throw new GradtraceError("E_FORMAT", `${name}: ${size} bytes is too large for a lab result`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
  } catch (err) {
    throw new GradtraceError("E_FORMAT", `${name}: not JSON (${(err as Error).message})`);
  }
  return normaliseLab(doc, name);
}
