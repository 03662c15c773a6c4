/** @file A small vision transformer on real MNIST digits: each 28×28 image is cut into 16 patches of 7×7 pixels,
 * embedded linearly with a learned position embedding, passed through pre-LN transformer blocks, mean-pooled and
 * classified. */
import type { Rng } from "../../../core/index.ts";
import { loadMnist, mnistTestBatch, sampleMnist } from "../data/mnist.ts";
import type { HostBatch, ZooModel } from "../model.ts";
import { crossEntropyWithAccuracy, layerNorm, linear } from "../ops.ts";
import type { ParamSpec } from "../params.ts";
import {
  type TransformerShape,
  transformerBlockSpecs,
  transformerBlocks,
  transformerForwardFlops,
} from "./transformer.ts";

const PATCH = 7;
const GRID = 28 / PATCH;
const TOKENS = GRID * GRID;
const PATCH_DIM = PATCH * PATCH;
const SHAPE: TransformerShape = { dim: 32, heads: 2, layers: 2, mlpDim: 64 };

const PARAMS: readonly ParamSpec[] = [
  { name: "patch_embed.weight", shape: [SHAPE.dim, PATCH_DIM], init: { kind: "lecun" } },
  { name: "patch_embed.bias", shape: [SHAPE.dim], init: { kind: "constant", value: 0 } },
  { name: "pos_embed", shape: [TOKENS, SHAPE.dim], init: { kind: "normal", std: 0.02 } },
  ...transformerBlockSpecs(SHAPE),
  { name: "norm.weight", shape: [SHAPE.dim], init: { kind: "constant", value: 1 } },
  { name: "norm.bias", shape: [SHAPE.dim], init: { kind: "constant", value: 0 } },
  { name: "head.weight", shape: [10, SHAPE.dim], init: { kind: "lecun" } },
  { name: "head.bias", shape: [10], init: { kind: "constant", value: 0 } },
];

/** [n, 784] images → [n, 16, 49] patch rows (done on the host: a fixed permutation, no parameters). */
function patchify(images: Float32Array): Float32Array {
  const n = images.length / 784;
  const out = new Float32Array(images.length);
  let o = 0;
  for (let i = 0; i < n; i++) {
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        for (let y = 0; y < PATCH; y++) {
          const row = i * 784 + (gy * PATCH + y) * 28 + gx * PATCH;
          for (let x = 0; x < PATCH; x++) out[o++] = images[row + x];
        }
      }
    }
  }
  return out;
}

function toBatch({ images, onehot }: { images: Float32Array; onehot: Float32Array }): HostBatch {
  const n = onehot.length / 10;
  return {
    arrays: [
      { data: patchify(images), shape: [n, TOKENS, PATCH_DIM] },
      { data: onehot, shape: [n, 10] },
    ],
  };
}

export function createVitModel(): ZooModel {
  const data = loadMnist();
  return {
    name: "vit",
    description: `vision transformer on 7×7 MNIST patches (${SHAPE.layers} blocks, dim ${SHAPE.dim}, ${SHAPE.heads} heads)`,
    params: PARAMS,
    defaults: {
      optimizer: "adam",
      lr: { adam: 2e-3, momentum: 0.005, sgd: 0.05 },
      batch: 32,
      steps: 300,
      schedule: "constant",
      warmupSteps: 10,
      weightDecay: 0,
    },
    metricName: "accuracy",
    loss(p, [patches, onehot]) {
      const b = patches.shape[0];
      let x = linear(patches, p["patch_embed.weight"], p["patch_embed.bias"]).add(p.pos_embed);
      x = transformerBlocks(x, p, SHAPE);
      const pooled = layerNorm(x, p["norm.weight"], p["norm.bias"]).mean(1);
      const logits = linear(pooled.reshape([b, SHAPE.dim]), p["head.weight"], p["head.bias"]);
      return crossEntropyWithAccuracy(logits, onehot);
    },
    sampleBatch: (rng: Rng, size: number) => toBatch(sampleMnist(data, rng, size)),
    evalBatch: (size: number) => toBatch(mnistTestBatch(data, size)),
    gemmFlopsPerStep(batch) {
      const tokens = batch * TOKENS;
      const forward =
        2 * tokens * PATCH_DIM * SHAPE.dim +
        transformerForwardFlops(SHAPE, tokens, TOKENS) +
        2 * batch * SHAPE.dim * 10;
      return 3 * forward;
    },
  };
}
