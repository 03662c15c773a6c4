/** @file Incremental live mode for one growing run: an open trace reader plus a `LiveAccumulator` that has seen
 * every step read so far. Each `advance()` refreshes the reader, reads only the step positions appended since the
 * last call, feeds them to the accumulator and returns the new per-step numbers of the whole model (‖g_t‖ and
 * ‖g_t − m_t‖² per predictor) with the running κ — what the server pushes as an SSE `live` event within a poll
 * period of the append, long before the exact re-analysis (see store.ts and docs/dashboard.md "Live mode").
 * Memory: the accumulator's O(p · (predictors + window)) floats, never the whole trace. */
import {
  CorruptDataError,
  DEFAULT_PREDICTORS,
  GradtraceError,
  LiveAccumulator,
  resolvePredictor,
} from "../core/index.ts";
import type { TraceReader } from "../trace/index.ts";
import { openTrace } from "../trace/index.ts";
import type { LiveStepsEvent } from "./api-types.ts";

/** The new steps of one `advance()`, whole model (all tensors concatenated). */
export type LiveUpdate = Omit<LiveStepsEvent, "run" | "version">;

export interface LiveRunOptions {
  readonly absPath: string;
  /** Predictors of the run's analysis; those the accumulator cannot evaluate live are left out. */
  readonly predictors?: readonly string[];
  /** Opens the trace (tests wrap the reader to count reads). */
  readonly open?: (absPath: string) => TraceReader;
  /** Milliseconds of reading after which `advance()` yields to the event loop (catch-up of a long trace). */
  readonly sliceMs?: number;
}

/** The predictors the live accumulator can evaluate on this trace: lagged ones (their lag sets the window), those
 * with a live form, and momentum only when the trace logged the buffer (`readState`). */
function livePredictors(ids: readonly string[], reader: TraceReader): { ids: string[]; window: number } {
  const first = reader.info.tensors[0]?.name;
  let hasMomentum = false;
  try {
    hasMomentum =
      reader.readState !== undefined &&
      reader.info.steps.length > 0 &&
      first !== undefined &&
      reader.readState(0, first, "momentum") !== null;
  } catch (err) {
    // A buffer failing its checksum was logged all the same; that step is skipped below.
    if (!(err instanceof CorruptDataError)) throw err;
    hasMomentum = true;
  }
  const out: string[] = [];
  let window = 2;
  for (const id of ids) {
    let def: ReturnType<typeof resolvePredictor>;
    try {
      def = resolvePredictor(id);
    } catch {
      continue;
    }
    if (def.requiresMomentum && !hasMomentum) continue;
    if (def.lagged) window = Math.max(window, def.lagged.lag);
    else if (!def.live) continue;
    out.push(id);
  }
  return { ids: out, window };
}

export class LiveRun {
  private readonly reader: TraceReader;
  private readonly predictorIds: string[];
  private readonly window: number;
  private readonly useMomentum: boolean;
  private readonly sliceMs: number;
  private accumulator: LiveAccumulator | null = null;
  /** Step positions of the reader already observed. */
  private positions = 0;
  /** Logged step index of each accepted step. */
  private readonly acceptedSteps: number[] = [];
  /** Steps skipped since the last update because their data failed a checksum. */
  private corruptSince: number[] = [];

  constructor({ absPath, predictors = DEFAULT_PREDICTORS, open = openTrace, sliceMs = 20 }: LiveRunOptions) {
    const reader = open(absPath);
    if (!reader.refresh) {
      reader.close();
      throw new GradtraceError(
        "E_UNSUPPORTED",
        `LiveRun: trace ${absPath} (${reader.info.format}) cannot be re-scanned for appended steps`,
      );
    }
    this.reader = reader;
    const chosen = livePredictors(predictors, reader);
    this.predictorIds = chosen.ids;
    this.window = chosen.window;
    this.useMomentum = this.predictorIds.some((id) => resolvePredictor(id).requiresMomentum === true);
    this.sliceMs = sliceMs;
  }

  /** Steps observed so far (accepted by the accumulator). */
  get steps(): number {
    return this.accumulator?.steps ?? 0;
  }

  get predictors(): readonly string[] {
    return this.predictorIds;
  }

  /** Reads the step positions appended since the last call (all of them on the first call) and returns their
   * numbers, or null when nothing new was accepted. */
  async advance(): Promise<LiveUpdate | null> {
    const reader = this.reader;
    reader.refresh!();
    const total = reader.info.steps.length;
    if (total < this.positions) {
      // The file was replaced by a shorter one (a restarted run): the accumulator no longer matches it.
      throw new GradtraceError(
        "E_FORMAT",
        `LiveRun: trace ${reader.info.path} now has ${total} steps, fewer than the ${this.positions} already read`,
      );
    }
    const before = this.steps;
    let sliceStart = Date.now();
    for (; this.positions < total; this.positions++) {
      const pos = this.positions;
      const grads: Record<string, Float32Array> = {};
      const momentum: Record<string, Float32Array> = {};
      try {
        for (const t of reader.info.tensors) {
          grads[t.name] = reader.readTensor(pos, t.name);
          if (this.useMomentum) {
            const b = reader.readState!(pos, t.name, "momentum");
            if (b === null) {
              throw new GradtraceError(
                "E_FORMAT",
                `LiveRun: step ${reader.info.steps[pos]} of ${reader.info.path} lacks the momentum buffer of "${t.name}"`,
              );
            }
            momentum[t.name] = b;
          }
        }
      } catch (err) {
        // Corrupt data is left out of the live numbers, as analyze() leaves it out of the exact ones.
        if (!(err instanceof CorruptDataError)) throw err;
        this.corruptSince.push(err.step);
        continue;
      }
      this.accumulator ??= new LiveAccumulator({
        // Lengths as read (a sketched trace's vectors are shorter than the tensor's numel).
        tensors: reader.info.tensors.map((t) => ({ name: t.name, numel: grads[t.name].length })),
        predictors: this.predictorIds,
        window: this.window,
      });
      const accepted = this.accumulator.steps;
      this.accumulator.observe(grads, this.useMomentum ? { momentum } : undefined);
      if (this.accumulator.steps > accepted) this.acceptedSteps.push(reader.info.steps[pos]);
      if (Date.now() - sliceStart >= this.sliceMs) {
        // A first call catches up on the whole trace: let the server answer requests meanwhile.
        await new Promise((r) => setImmediate(r));
        sliceStart = Date.now();
      }
    }
    const acc = this.accumulator;
    if (!acc || acc.steps === before) return null;
    const corruptSteps = this.corruptSince;
    this.corruptSince = [];
    const snap = acc.snapshot().total;
    const error: Record<string, number[]> = {};
    const kappa: Record<string, number | null> = {};
    for (const id of this.predictorIds) {
      error[id] = Array.from(snap.error[id].subarray(before));
      kappa[id] = Number.isFinite(snap.kappa[id]) ? snap.kappa[id] : null;
    }
    return {
      from: before,
      steps: acc.steps,
      stepIndices: this.acceptedSteps.slice(before),
      gradNorm: Array.from(snap.gradNormSqSeries.subarray(before), Math.sqrt),
      error,
      kappa,
      corruptSteps,
    };
  }

  close(): void {
    this.reader.close();
  }
}
