/** @file One fuzz case: write a (mutated) trace into a directory, open it with `openTrace`, read every tensor of every
 * step whole and in two partial reads (and the momentum buffer), refresh it as live mode would, and — on some cases
 * — analyze it (exact and sketched) and convert it to gtrace and read that back. The outcome is `ok`, a coded
 * `error` (a GradtraceError: what bad input must produce), a `crash` (any other exception: a bug), or `silent` — a
 * checksummed (gtrace) input that read back values differing from what was written, or steps never written, with
 * nothing reported: exactly what issue 15 is about. Errors are recognised by shape (`code` "E_…"), not by class,
 * so the harness can also be pointed at older sources to find regression inputs. */
import * as fs from "node:fs";
import * as path from "node:path";
import { analyze } from "../../src/analysis/index.ts";
import { convertTrace, openTrace, type TraceReader } from "../../src/trace/index.ts";
import type { Files } from "./mutate.ts";
import type { SeedTrace } from "./seeds.ts";

export type Outcome =
  | { readonly kind: "ok"; readonly steps: number; readonly corrupt: number; readonly problems: number }
  | { readonly kind: "error"; readonly code: string; readonly message: string }
  | { readonly kind: "crash"; readonly message: string }
  | { readonly kind: "silent"; readonly message: string };

export interface CaseOptions {
  readonly analyze: boolean;
  readonly convert: boolean;
}

/** Values as written: step → tensor → float32 bits (gradient, and momentum under "momentum:<name>"); loss and lr. */
export interface Reference {
  readonly values: Map<number, Map<string, Uint32Array>>;
  readonly loss: Map<number, number | null>;
  readonly lr: Map<number, number | null>;
  /** Whether loss / lr come from the checksummed data itself (not from an editable manifest). */
  readonly checkScalars: boolean;
}

const isCoded = (err: unknown): err is { code: string; message: string } =>
  typeof err === "object" &&
  err !== null &&
  typeof (err as { code?: unknown }).code === "string" &&
  (err as { code: string }).code.startsWith("E_") &&
  (err as { name?: unknown }).name !== "SystemError";

const isCorruption = (err: unknown): boolean => isCoded(err) && err.code === "E_CHECKSUM";

export function writeFiles(dir: string, files: ReadonlyMap<string, Uint8Array>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, bytes] of files) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
  }
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Reads every step of a valid seed as the reference for the silent-change check. */
export function readReference(dir: string, seed: SeedTrace): Reference {
  const r = openTrace(path.join(dir, seed.entry));
  try {
    const values = new Map<number, Map<string, Uint32Array>>();
    const loss = new Map<number, number | null>();
    const lr = new Map<number, number | null>();
    r.info.steps.forEach((step, pos) => {
      const m = new Map<string, Uint32Array>();
      for (const t of r.info.tensors) {
        m.set(t.name, bits(r.readTensor(pos, t.name)).slice());
        const b = r.readState?.(pos, t.name, "momentum");
        if (b) m.set(`momentum:${t.name}`, bits(b).slice());
      }
      values.set(step, m);
      loss.set(step, r.info.loss[pos]);
      lr.set(step, r.info.lr[pos]);
    });
    return { values, loss, lr, checkScalars: r.info.format === "gtrace" };
  } finally {
    r.close();
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class Silent extends Error {}

/** Reads everything the reader offers; counts (step, tensor) pairs refused as corrupt. */
function readAll(r: TraceReader, ref: Reference | null): number {
  const info = r.info;
  let corrupt = 0;
  for (let i = 1; i < info.steps.length; i++) {
    if (!(info.steps[i] > info.steps[i - 1]))
      throw new Silent(`steps not increasing: ${info.steps.join(",")}`);
  }
  if (info.loss.length !== info.steps.length || info.lr.length !== info.steps.length)
    throw new Silent("loss / lr arrays do not match the steps");
  info.steps.forEach((step, pos) => {
    const expected = ref?.values.get(step);
    if (ref && !expected) throw new Silent(`step ${step} was never written`);
    if (ref?.checkScalars) {
      const l = ref.loss.get(step);
      const lrv = ref.lr.get(step);
      if (!Object.is(info.loss[pos], l) || !Object.is(info.lr[pos], lrv))
        throw new Silent(`step ${step}: loss/lr ${info.loss[pos]}/${info.lr[pos]}, written ${l}/${lrv}`);
    }
    for (const t of info.tensors) {
      let whole: Float32Array;
      try {
        whole = r.readTensor(pos, t.name);
      } catch (err) {
        if (!isCorruption(err)) throw err;
        corrupt++;
        // Partial reads of a corrupt payload must be refused too.
        try {
          r.readSlice(pos, t.name, 0, Math.min(1, t.numel), new Float64Array(1));
        } catch (again) {
          if (isCorruption(again)) continue;
          throw again;
        }
        if (t.numel > 0)
          throw new Silent(`step ${step}, tensor ${t.name}: readSlice served a payload readTensor refused`);
        continue;
      }
      if (whole.length !== t.numel)
        throw new Silent(`step ${step}, tensor ${t.name}: ${whole.length} ≠ ${t.numel}`);
      const want = expected?.get(t.name);
      if (ref && (!want || !sameBits(bits(whole), want)))
        throw new Silent(`step ${step}, tensor ${t.name}: values differ from what was written`);
      // Two partial reads must agree with the whole read.
      const half = Math.floor(t.numel / 2);
      const out = new Float64Array(t.numel);
      r.readSlice(pos, t.name, 0, half, out, 0);
      r.readSlice(pos, t.name, half, t.numel - half, out, half);
      for (let i = 0; i < t.numel; i++) {
        if (!Object.is(Math.fround(out[i]), whole[i]))
          throw new Silent(`step ${step}, tensor ${t.name}: readSlice and readTensor disagree at ${i}`);
      }
      try {
        const m = r.readState?.(pos, t.name, "momentum");
        const wantM = expected?.get(`momentum:${t.name}`);
        if (ref && (m ? !wantM || !sameBits(bits(m), wantM) : wantM !== undefined))
          throw new Silent(`step ${step}: momentum of ${t.name} differs from what was written`);
      } catch (err) {
        if (!isCorruption(err)) throw err;
        corrupt++;
      }
    }
  });
  return corrupt;
}

export async function runCase(
  dir: string,
  seed: SeedTrace,
  files: Files,
  ref: Reference | null,
  { analyze: doAnalyze, convert }: CaseOptions,
): Promise<Outcome> {
  writeFiles(dir, files);
  let r: TraceReader | null = null;
  try {
    r = openTrace(path.join(dir, seed.entry), { tmpDir: dir });
    let corrupt = readAll(r, seed.checksummed ? ref : null);
    r.refresh?.();
    corrupt = Math.max(corrupt, readAll(r, seed.checksummed ? ref : null));
    if (doAnalyze && r.info.steps.length > 0) {
      const options = {
        predictors: ["zero", "last", "ema0.9"],
        eps: [0.1],
        bootstrap: false,
        sketchCheckSteps: 0,
      };
      await settle(analyze(r, options));
      await settle(analyze(r, { ...options, sketch: "countsketch:4" }));
    }
    if (convert && r.info.steps.length > 0) {
      const out = path.join(dir, "converted.gtrace");
      const done = convertTrace(r, out, { format: "gtrace" });
      const back = openTrace(out);
      try {
        const other = back.info.problems.filter((p) => p.kind !== "missing-step");
        if (other.length > 0 || back.info.steps.length !== done.steps)
          throw new Silent(
            `converted trace reads back with problems: ${other.map((p) => p.message).join("; ")}`,
          );
        readAll(back, null);
      } finally {
        back.close();
      }
    }
    return { kind: "ok", steps: r.info.steps.length, corrupt, problems: r.info.problems.length };
  } catch (err) {
    if (err instanceof Silent) return { kind: "silent", message: err.message };
    if (isCoded(err)) return { kind: "error", code: err.code, message: err.message };
    return { kind: "crash", message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  } finally {
    r?.close();
  }
}

/** Runs an analysis; a coded error is an acceptable end, anything else is rethrown (a crash). */
async function settle(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isCoded(err)) throw err;
  }
}
