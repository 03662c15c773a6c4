/** @file Streams a training run's per-step gradients to disk as a gradtrace trace, in one of two layouts:
 * - full: `DIR/trace.gtrace` with every parameter tensor at full size, plus loss, learning rate and the optimizer's
 *   momentum buffer (stored as "<name>@momentum" so the momentum-matched predictor can use it);
 * - sketched (`sketch: "jl:512"` etc.): each tensor is sketched where the gradient is produced, with an
 *   independent seeded sketch S = createSketch({ kind, k, seed: tensorSketchSeed(seed, name), dim: numel }) — the
 *   construction `analyze --sketch` and the Python logger use ("name" seeding, docs/trace-format.md); the tensors'
 *   sketches side by side are the whole-model sketch the analysis works with. `DIR/trace.gtrace` then holds k numbers
 *   per tensor per step and declares the sketch in its header (so it can be analyzed or served while it grows);
 *   `DIR/trace.json` (a manifest written on close) declares it too, for readers that start from the manifest. The
 *   optimizer's momentum buffer is sketched with the same S, so the momentum-matched predictor works on sketched runs. */
import { join } from "node:path";
import {
  createSketch,
  GradtraceError,
  parseSketchSpec,
  type Sketch,
  tensorSketchSeed,
} from "../../core/index.ts";
import { makeDir, refuseExisting, writeFileAtomic } from "../../io/index.ts";
import type { SketchInfo } from "../../trace/index.ts";
import { createGtraceWriter, MANIFEST_NAME } from "../../trace/index.ts";
import type { ParamSpec } from "./params.ts";
import { numelOf } from "./params.ts";
import type { StepInfo } from "./trainer.ts";

export const TRACE_FILE = "trace.gtrace";

export interface TraceLoggerOptions {
  readonly outDir: string;
  readonly params: readonly ParamSpec[];
  /** "jl:512", "countsketch:1024", "srht:256": log sketches instead of full gradients. */
  readonly sketch?: string;
  /** Seed of the sketches. */
  readonly sketchSeed?: number;
  /** Log the optimizer's momentum buffer too (sketched with the same S in sketched mode; default true). */
  readonly logMomentum?: boolean;
  /** Stored in the trace header / manifest. */
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly force?: boolean;
}

export interface TraceLogger {
  /** Path to give `openTrace` / `gradtrace analyze`: the .gtrace file, or the manifest in sketched mode. */
  readonly tracePath: string;
  readonly sketch?: SketchInfo;
  onStep(info: StepInfo): void;
  close(): void;
}

export function createTraceLogger({
  outDir,
  params,
  sketch,
  sketchSeed = 0,
  logMomentum = true,
  meta,
  force = false,
}: TraceLoggerOptions): TraceLogger {
  makeDir(outDir, "trace logger");
  const dataPath = join(outDir, TRACE_FILE);
  if (sketch === undefined) {
    const writer = createGtraceWriter(dataPath, {
      tensors: params.map((p) => ({ name: p.name, shape: p.shape })),
      meta,
      force,
      fsync: "close",
    });
    return {
      tracePath: dataPath,
      onStep({ step, grads, loss, lr, momentum }) {
        // The writer stores extras.momentum[name] as "<name>@momentum" next to the gradient of `name`.
        const withMomentum = logMomentum && momentum !== undefined;
        writer.append(step, grads, { loss, lr, ...(withMomentum ? { momentum } : {}) });
      },
      close() {
        writer.close();
      },
    };
  }
  const { kind, k } = parseSketchSpec(sketch);
  if (kind !== "jl" && kind !== "countsketch" && kind !== "srht") {
    throw new GradtraceError(
      "E_UNSUPPORTED",
      `trace logger: sketch kind "${kind}" cannot be declared in a trace manifest (use jl, countsketch or srht)`,
    );
  }
  const sketches: Sketch[] = params.map((p) =>
    createSketch({ kind, k, seed: tensorSketchSeed(sketchSeed, p.name), dim: numelOf(p.shape) }),
  );
  const info: SketchInfo = {
    kind,
    k,
    seed: sketchSeed,
    seeding: "name",
    originalNumel: Object.fromEntries(params.map((p) => [p.name, numelOf(p.shape)])),
  };
  refuseExisting(join(outDir, MANIFEST_NAME), force, "trace logger");
  const writer = createGtraceWriter(dataPath, {
    tensors: params.map((p) => ({ name: p.name, shape: [k] })),
    sketch: info,
    ...(meta ? { meta } : {}),
    force,
    fsync: "close",
  });
  const steps: number[] = [];
  const losses: number[] = [];
  const lrs: number[] = [];
  const manifestPath = join(outDir, MANIFEST_NAME);
  return {
    tracePath: manifestPath,
    sketch: info,
    onStep({ step, grads, loss, lr, momentum }) {
      const sketch = (i: number, x: Float32Array): Float32Array => {
        const out = new Float64Array(k);
        sketches[i].accumulate(x, 0, out);
        return Float32Array.from(out);
      };
      const sketched: Record<string, Float32Array> = {};
      const sketchedMomentum: Record<string, Float32Array> = {};
      params.forEach((p, i) => {
        sketched[p.name] = sketch(i, grads[p.name]);
        const m = logMomentum ? momentum?.[p.name] : undefined;
        if (m !== undefined) sketchedMomentum[p.name] = sketch(i, m);
      });
      const withMomentum = Object.keys(sketchedMomentum).length > 0;
      writer.append(step, sketched, { loss, lr, ...(withMomentum ? { momentum: sketchedMomentum } : {}) });
      steps.push(step);
      losses.push(loss);
      lrs.push(lr);
    },
    close() {
      writer.close();
      const manifest = {
        version: 1,
        steps,
        tensors: params.map((p) => ({ name: p.name, shape: [k], dtype: "F32" })),
        data: { layout: "gtrace", path: TRACE_FILE },
        loss: losses,
        lr: lrs,
        sketch: info,
        ...(meta ? { meta } : {}),
      };
      writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, {
        force,
        what: "trace logger",
      });
    },
  };
}
