/** @file A small convolutional network on real MNIST digits: conv(1→8, 3×3) → ReLU → maxpool → conv(8→16, 3×3) →
 * ReLU → maxpool → linear(784→64) → ReLU → linear(64→10). Convolutions are im2col + one GEMM (see ops.ts). */
import { nn } from "@jax-js/jax";
import type { Rng } from "../../../core/index.ts";
import { loadMnist, mnistTestBatch, sampleMnist } from "../data/mnist.ts";
import type { HostBatch, ZooModel } from "../model.ts";
import { conv2dSame, crossEntropyWithAccuracy, linear, maxPool2 } from "../ops.ts";
import type { ParamSpec } from "../params.ts";

const C1 = 8;
const C2 = 16;
const HIDDEN = 64;

const PARAMS: readonly ParamSpec[] = [
  { name: "conv1.weight", shape: [C1, 1, 3, 3], init: { kind: "he" } },
  { name: "conv1.bias", shape: [C1], init: { kind: "constant", value: 0 } },
  { name: "conv2.weight", shape: [C2, C1, 3, 3], init: { kind: "he" } },
  { name: "conv2.bias", shape: [C2], init: { kind: "constant", value: 0 } },
  { name: "fc1.weight", shape: [HIDDEN, 7 * 7 * C2], init: { kind: "he" } },
  { name: "fc1.bias", shape: [HIDDEN], init: { kind: "constant", value: 0 } },
  { name: "fc2.weight", shape: [10, HIDDEN], init: { kind: "lecun" } },
  { name: "fc2.bias", shape: [10], init: { kind: "constant", value: 0 } },
];

function toBatch({ images, onehot }: { images: Float32Array; onehot: Float32Array }): HostBatch {
  const n = onehot.length / 10;
  return {
    arrays: [
      { data: images, shape: [n, 28, 28, 1] },
      { data: onehot, shape: [n, 10] },
    ],
  };
}

export function createCnnModel(): ZooModel {
  const data = loadMnist();
  return {
    name: "cnn",
    description: "2-layer CNN (im2col convs, max-pool) + 2-layer MLP head on real MNIST digits",
    params: PARAMS,
    defaults: {
      optimizer: "adam",
      lr: { adam: 2e-3, momentum: 0.01, sgd: 0.05 },
      batch: 32,
      steps: 300,
      schedule: "constant",
      warmupSteps: 0,
      weightDecay: 0,
    },
    metricName: "accuracy",
    loss(p, [images, onehot]) {
      const b = images.shape[0];
      let h = maxPool2(nn.relu(conv2dSame(images, p["conv1.weight"], p["conv1.bias"])));
      h = maxPool2(nn.relu(conv2dSame(h, p["conv2.weight"], p["conv2.bias"])));
      h = nn.relu(linear(h.reshape([b, 7 * 7 * C2]), p["fc1.weight"], p["fc1.bias"]));
      return crossEntropyWithAccuracy(linear(h, p["fc2.weight"], p["fc2.bias"]), onehot);
    },
    sampleBatch: (rng: Rng, size: number) => toBatch(sampleMnist(data, rng, size)),
    evalBatch: (size: number) => toBatch(mnistTestBatch(data, size)),
    gemmFlopsPerStep(batch) {
      const forward =
        2 * batch * (28 * 28 * 9 * 1 * C1 + 14 * 14 * 9 * C1 * C2 + 7 * 7 * C2 * HIDDEN + HIDDEN * 10);
      return 3 * forward;
    },
  };
}
