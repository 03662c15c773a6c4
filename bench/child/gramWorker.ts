/** @file Worker task of bench/gram.bench.ts's threaded rows: `blocks` Gram block updates (T × width float32 blocks,
 * recycled from a few generated in the worker, so neither generation nor transfer is timed) with the wasm kernel;
 * returns the seconds spent in addBlock. */
import { GramAccumulator } from "../../src/core/index.ts";
import { createRng } from "../../src/core/rng.ts";

const pools = new Map<string, Float32Array[]>();

export function gramBlocks(T: number, width: number, blocks: number, seed: number): number {
  const key = `${T}:${width}:${seed}`;
  let pool = pools.get(key);
  if (!pool) {
    const rng = createRng(seed);
    pool = Array.from({ length: 3 }, () => Float32Array.from({ length: T * width }, () => rng.normal()));
    pools.set(key, pool);
  }
  const acc = new GramAccumulator(T, { kernel: "wasm" });
  const t0 = performance.now();
  for (let b = 0; b < blocks; b++) acc.addBlock(pool[b % pool.length], width);
  const seconds = (performance.now() - t0) / 1000;
  acc.dispose();
  return seconds;
}
