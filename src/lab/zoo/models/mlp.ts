/** @file A nonlinear multilayer perceptron on real MNIST digits: 784 → 128 → 64 → 10 with GELU activations — the
 * paper's "MLP" architecture family, beside the zoo's CNN and ViT on the same data. GELU rather than ReLU keeps the
 * loss smooth, so the finite-difference gradient check has no kinks to straddle. */
import { nn } from "@jax-js/jax";
import type { Rng } from "../../../core/index.ts";
import { loadMnist, MNIST_PIXELS, mnistTestBatch, sampleMnist } from "../data/mnist.ts";
import type { HostBatch, ZooModel } from "../model.ts";
import { crossEntropyWithAccuracy, linear } from "../ops.ts";
import type { ParamSpec } from "../params.ts";

export const MLP_WIDTHS = [MNIST_PIXELS, 128, 64, 10] as const;

const PARAMS: readonly ParamSpec[] = MLP_WIDTHS.slice(1).flatMap((out, i) => [
  {
    name: `fc${i + 1}.weight`,
    shape: [out, MLP_WIDTHS[i]],
    init: { kind: i === 2 ? "lecun" : "he" },
  } as ParamSpec,
  { name: `fc${i + 1}.bias`, shape: [out], init: { kind: "constant", value: 0 } } as ParamSpec,
]);

function toBatch({ images, onehot }: { images: Float32Array; onehot: Float32Array }): HostBatch {
  const n = onehot.length / 10;
  return {
    arrays: [
      { data: images, shape: [n, MNIST_PIXELS] },
      { data: onehot, shape: [n, 10] },
    ],
  };
}

export function createMlpModel(): ZooModel {
  const data = loadMnist();
  return {
    name: "mlp",
    description: `MLP ${MLP_WIDTHS.join(" → ")} with GELU on real MNIST digits`,
    params: PARAMS,
    defaults: {
      optimizer: "adam",
      lr: { adam: 1e-3, momentum: 0.01, sgd: 0.1 },
      batch: 32,
      steps: 300,
      schedule: "constant",
      warmupSteps: 0,
      weightDecay: 0,
    },
    metricName: "accuracy",
    loss(p, [images, onehot]) {
      let h = nn.gelu(linear(images, p["fc1.weight"], p["fc1.bias"]));
      h = nn.gelu(linear(h, p["fc2.weight"], p["fc2.bias"]));
      return crossEntropyWithAccuracy(linear(h, p["fc3.weight"], p["fc3.bias"]), onehot);
    },
    sampleBatch: (rng: Rng, size: number) => toBatch(sampleMnist(data, rng, size)),
    evalBatch: (size: number) => toBatch(mnistTestBatch(data, size)),
    gemmFlopsPerStep(batch) {
      let forward = 0;
      for (let i = 1; i < MLP_WIDTHS.length; i++) forward += 2 * batch * MLP_WIDTHS[i - 1] * MLP_WIDTHS[i];
      return 3 * forward;
    },
  };
}
