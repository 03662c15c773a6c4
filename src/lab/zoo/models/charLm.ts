/** @file A character-level GPT-style language model (token + position embeddings, causal pre-LN transformer
 * blocks, untied output head) on real English text (see data/text.ts). The embedding lookup is a one-hot GEMM so
 * that its gradient is an ordinary dense matrix product. */
import type { Rng } from "../../../core/index.ts";
import { loadCharCorpus, sampleCharWindows } from "../data/text.ts";
import type { ZooModel } from "../model.ts";
import { crossEntropyWithAccuracy, layerNorm, linear } from "../ops.ts";
import type { ParamSpec } from "../params.ts";
import {
  causalMask,
  languageModelBatch,
  type TransformerShape,
  transformerBlockSpecs,
  transformerBlocks,
  transformerForwardFlops,
} from "./transformer.ts";

const CONTEXT = 32;
const SHAPE: TransformerShape = { dim: 48, heads: 4, layers: 2, mlpDim: 128 };

export function createCharLmModel(): ZooModel {
  const corpus = loadCharCorpus();
  const vocab = corpus.chars.length;
  const mask = causalMask(CONTEXT);
  const params: ParamSpec[] = [
    { name: "tok_embed.weight", shape: [vocab, SHAPE.dim], init: { kind: "normal", std: 0.1 } },
    { name: "pos_embed", shape: [CONTEXT, SHAPE.dim], init: { kind: "normal", std: 0.02 } },
    ...transformerBlockSpecs(SHAPE),
    { name: "norm.weight", shape: [SHAPE.dim], init: { kind: "constant", value: 1 } },
    { name: "norm.bias", shape: [SHAPE.dim], init: { kind: "constant", value: 0 } },
    { name: "head.weight", shape: [vocab, SHAPE.dim], init: { kind: "lecun" } },
    { name: "head.bias", shape: [vocab], init: { kind: "constant", value: 0 } },
  ];
  return {
    name: "charlm",
    description: `character-level transformer LM (context ${CONTEXT}, ${SHAPE.layers} blocks, dim ${SHAPE.dim}) on the commander README`,
    params,
    defaults: {
      optimizer: "adam",
      lr: { adam: 3e-3, momentum: 0.01, sgd: 0.1 },
      batch: 16,
      steps: 300,
      schedule: "cosine",
      warmupSteps: 10,
      weightDecay: 0,
    },
    metricName: "accuracy",
    loss(p, [inputs, targets, causal]) {
      const [b, t] = inputs.shape;
      const x = inputs.reshape([b * t, vocab]);
      const embedded = linear(x, p["tok_embed.weight"].transpose())
        .reshape([b, t, SHAPE.dim])
        .add(p.pos_embed);
      const h = transformerBlocks(embedded, p, SHAPE, causal);
      const logits = linear(
        layerNorm(h, p["norm.weight"], p["norm.bias"]).reshape([b * t, SHAPE.dim]),
        p["head.weight"],
        p["head.bias"],
      );
      return crossEntropyWithAccuracy(logits, targets);
    },
    sampleBatch: (rng: Rng, size: number) =>
      languageModelBatch(sampleCharWindows(corpus, rng, size, CONTEXT), size, CONTEXT, vocab, mask),
    gemmFlopsPerStep(batch) {
      const tokens = batch * CONTEXT;
      const forward = 2 * tokens * vocab * SHAPE.dim * 2 + transformerForwardFlops(SHAPE, tokens, CONTEXT);
      return 3 * forward;
    },
  };
}
