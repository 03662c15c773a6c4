/** @file Validation of the sketch declarations a trace carries — `sketch` (the run logged k-number sketches of every
 * tensor) and `rangeSketch` (range sketches Y = G·Ω of matrix-shaped tensors) — shared by the manifest and the gtrace
 * header, with messages naming the file and field. Layout and meaning: docs/trace-format.md. */
import { GradtraceError, SKETCH_KINDS, type SketchKind } from "../core/index.ts";
import type { RangeSketchInfo, SketchInfo, TensorInfo } from "./types.ts";

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isNonNegInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function fail(where: string, field: string, expected: string): never {
  throw new GradtraceError("E_FORMAT", `${where}: field ${field} ${expected}`);
}

/** Validates a `sketch` object; every tensor must then hold exactly k values. */
export function parseSketchInfo(s: unknown, tensors: readonly TensorInfo[], where: string): SketchInfo {
  if (!isObj(s)) fail(where, "sketch", "must be an object { kind, k, seed }");
  if (!(SKETCH_KINDS as readonly unknown[]).includes(s.kind))
    fail(where, "sketch.kind", `must be one of ${SKETCH_KINDS.join(", ")}`);
  if (!isNonNegInt(s.k) || s.k === 0) fail(where, "sketch.k", "must be a positive integer");
  if (!isNonNegInt(s.seed)) fail(where, "sketch.seed", "must be a non-negative integer");
  if (s.seeding !== undefined && s.seeding !== "name" && s.seeding !== "position")
    fail(where, "sketch.seeding", `must be "name" or "position", got ${JSON.stringify(s.seeding)}`);
  if (s.s !== undefined && (!isNonNegInt(s.s) || s.s === 0 || (s.k as number) % s.s !== 0))
    fail(where, "sketch.s", "must be a positive integer dividing sketch.k");
  if (s.originalNumel !== undefined) {
    const o = s.originalNumel;
    if (!isObj(o) || !Object.values(o).every(isNonNegInt))
      fail(where, "sketch.originalNumel", "must map tensor names to non-negative integers");
  }
  tensors.forEach((t, i) => {
    if (t.numel !== s.k) {
      throw new GradtraceError(
        "E_SHAPE",
        `${where}: tensors[${i}] (${t.name}) has ${t.numel} elements but sketch.k is ${s.k}`,
      );
    }
  });
  return {
    kind: s.kind as SketchKind,
    k: s.k,
    seed: s.seed,
    ...(s.seeding !== undefined ? { seeding: s.seeding as "name" | "position" } : {}),
    ...(s.s !== undefined ? { s: s.s as number } : {}),
    ...(s.originalNumel ? { originalNumel: s.originalNumel as Record<string, number> } : {}),
  };
}

/** Validates a `rangeSketch` object against the trace's tensors: each listed tensor exists once and has rows × cols
 * elements (or, in a sketched trace, that original size). */
export function parseRangeSketchInfo(
  r: unknown,
  tensors: readonly TensorInfo[],
  sketch: SketchInfo | undefined,
  where: string,
): RangeSketchInfo {
  if (!isObj(r)) fail(where, "rangeSketch", "must be an object { s, seed, seeding, tensors }");
  if (!isNonNegInt(r.s) || r.s === 0) fail(where, "rangeSketch.s", "must be a positive integer");
  if (!isNonNegInt(r.seed)) fail(where, "rangeSketch.seed", "must be a non-negative integer");
  if (r.seeding !== "name") fail(where, "rangeSketch.seeding", 'must be "name"');
  if (!Array.isArray(r.tensors))
    fail(where, "rangeSketch.tensors", "must be an array of { name, rows, cols }");
  const numel = new Map(tensors.map((t) => [t.name, sketch?.originalNumel?.[t.name] ?? t.numel]));
  const seen = new Set<string>();
  const list = (r.tensors as unknown[]).map((t, i) => {
    const f = `rangeSketch.tensors[${i}]`;
    if (!isObj(t)) fail(where, f, "must be an object { name, rows, cols }");
    if (typeof t.name !== "string" || !numel.has(t.name))
      fail(where, `${f}.name`, `must name a tensor of the trace, got ${JSON.stringify(t.name)}`);
    if (seen.has(t.name)) fail(where, `${f}.name`, `lists ${t.name} twice`);
    seen.add(t.name);
    if (!isNonNegInt(t.rows) || t.rows < 1 || !isNonNegInt(t.cols) || t.cols < 1)
      fail(where, `${f}.rows/cols`, "must be positive integers");
    const n = numel.get(t.name)!;
    const known = !sketch || sketch.originalNumel?.[t.name] !== undefined;
    if (known && t.rows * t.cols !== n) {
      throw new GradtraceError(
        "E_SHAPE",
        `${where}: ${f} (${t.name}) is ${t.rows} × ${t.cols} but the tensor has ${n} elements`,
      );
    }
    return { name: t.name, rows: t.rows, cols: t.cols };
  });
  return { s: r.s, seed: r.seed, seeding: "name", tensors: list };
}
