/** @file How a trace's per-tensor sketches are seeded. Scheme "name" (the default since gtrace header field
 * `sketch.seeding`): tensor `name` is sketched with seed `tensorSketchSeed(seed, name)`, so its sketch depends only on
 * (run seed, tensor name, global coordinate index) — not on which other tensors the model has or their order — and a
 * logger in another language (python/gradtrace_log) or on another rank produces the same numbers. Scheme "position"
 * (traces written before the field existed): the i-th tensor of the trace used `deriveSeed(seed, i)`. */
import { deriveSeed } from "../rng.ts";

export type SketchSeeding = "name" | "position";

/** First part folded into a tensor's seed before its name ("NAME" as a u32). */
const NAME_TAG = 0x4e414d45;

/** deriveSeed(seed, NAME_TAG, byteLength, ...UTF-8 bytes of name): the per-tensor seed of the "name" scheme. */
export function tensorSketchSeed(seed: number, name: string): number {
  const bytes = new TextEncoder().encode(name);
  return deriveSeed(seed, NAME_TAG, bytes.length, ...bytes);
}

/** The seed of tensor `name`, the `index`-th tensor of the trace, under a seeding scheme. */
export function sketchSeedFor(seeding: SketchSeeding, seed: number, name: string, index: number): number {
  return seeding === "name" ? tensorSketchSeed(seed, name) : deriveSeed(seed, index);
}
