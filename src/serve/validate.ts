/** @file Validation of everything a request can name: run ids, tensor names, query parameters. The server never
 * turns these into file paths (run ids and tensor names are looked up in maps built at start-up), so validation is
 * a second wall against path traversal and a first one against garbage: a refused value is an E_ARG error that the
 * API answers with 400, before any lookup. */
import { GradtraceError } from "../core/index.ts";

/** Run and lab ids are slugs: lowercase letters, digits and single dashes, at most 128 characters. */
const ID_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function validateId(id: string, what = "run id"): string {
  if (id.length === 0 || id.length > 128 || !ID_RE.test(id)) {
    throw new GradtraceError(
      "E_ARG",
      `${what} ${JSON.stringify(id.slice(0, 80))}: expected a slug of a-z, 0-9 and "-"`,
    );
  }
  return id;
}

/** Tensor names are free-form (dots, slashes, brackets occur in real models) but never hold control characters. */
export function validateTensorName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (name.length === 0 || name.length > 512 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new GradtraceError(
      "E_ARG",
      `tensor name ${JSON.stringify(name.slice(0, 80))}: expected 1–512 printable characters`,
    );
  }
  return name;
}

/** Picks one of `allowed` or throws naming the parameter and the allowed values. */
export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  param: string,
  fallback?: T,
): T {
  if (value === undefined || value === "") {
    if (fallback !== undefined) return fallback;
    throw new GradtraceError("E_ARG", `query parameter ${param}: required, one of ${allowed.join(", ")}`);
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new GradtraceError(
      "E_ARG",
      `query parameter ${param}=${JSON.stringify(value.slice(0, 80))}: expected one of ${allowed.join(", ")}`,
    );
  }
  return value as T;
}

/** Turns a string into a slug usable as an id: lowercase, [a-z0-9] runs joined by single dashes. */
export function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug.length === 0 ? "run" : slug.slice(0, 100).replace(/-+$/, "");
}

/** An optional integer query parameter within [min, max]: undefined when absent, else the number or E_ARG naming
 * the parameter and its range. */
export function optionalInteger(
  value: string | undefined,
  param: string,
  { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new GradtraceError(
      "E_ARG",
      `query parameter ${param}=${JSON.stringify(value.slice(0, 80))}: expected an integer in [${min}, ${max}]`,
    );
  }
  return n;
}

/** The optional logged-step range `from`…`to` (inclusive) of a request; E_ARG when from > to. */
export function stepRange(from: string | undefined, to: string | undefined): { from?: number; to?: number } {
  const a = optionalInteger(from, "from");
  const b = optionalInteger(to, "to");
  if (a !== undefined && b !== undefined && a > b) {
    throw new GradtraceError("E_ARG", `query parameters from=${a}, to=${b}: expected from ≤ to`);
  }
  return { ...(a !== undefined ? { from: a } : {}), ...(b !== undefined ? { to: b } : {}) };
}

/** A fraction in (0, 1] from a query parameter (e.g. advise's target), or the default when absent. */
export function optionalFraction(value: string | undefined, param: string, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!/^(0?\.\d+|1(\.0*)?)$/.test(value) || !(n > 0 && n <= 1)) {
    throw new GradtraceError(
      "E_ARG",
      `query parameter ${param}=${JSON.stringify(value.slice(0, 80))}: expected a number in (0, 1]`,
    );
  }
  return n;
}
