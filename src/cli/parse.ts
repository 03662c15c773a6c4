/** @file Parsers for CLI option values, each failing with a message that names the option and what it expects. */
import { GradtraceError } from "../core/index.ts";

export function parseList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function parseNumberList(option: string) {
  return (value: string): number[] =>
    parseList(value).map((s) => {
      const x = Number(s);
      if (!Number.isFinite(x)) throw new GradtraceError("E_ARG", `${option}: "${s}" is not a number`);
      return x;
    });
}

/** A commander parser of one number not below `min` (a whole one when `integer`); the error names the option. */
function parseScalar(option: string, integer: boolean, min: number) {
  return (value: string): number => {
    const x = Number(value);
    if (!(integer ? Number.isInteger(x) : Number.isFinite(x)) || x < min) {
      throw new GradtraceError(
        "E_ARG",
        `${option}: "${value}" must be ${integer ? "an integer" : "a number"}${min > -Infinity ? ` ≥ ${min}` : ""}`,
      );
    }
    return x;
  };
}

export function parseInteger(option: string, { min = -Infinity } = {}) {
  return parseScalar(option, true, min);
}

export function parseNumber(option: string, { min = -Infinity } = {}) {
  return parseScalar(option, false, min);
}

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** "512M", "2G", "1.5g", "1048576" → bytes. */
export function parseBytes(option: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value.trim());
    if (!m) throw new GradtraceError("E_ARG", `${option}: "${value}" is not a size (e.g. 512M, 2G)`);
    const bytes = Number(m[1]) * UNITS[m[2].toLowerCase()];
    if (bytes < 1 << 20) throw new GradtraceError("E_ARG", `${option}: ${value} is too small (at least 1M)`);
    return Math.floor(bytes);
  };
}

/** Bytes as `parseBytes` reads them back: "256M", "2G", or plain bytes when not a whole number of MiB. */
export function bytesText(bytes: number): string {
  if (bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}G`;
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}M`;
  return String(bytes);
}
