/** @file A GPT-2-architecture language model, small enough to train on 2 CPU cores: byte-level vocabulary (the 256
 * byte values, GPT-2's base alphabet, without BPE merges), learned token and position embeddings, pre-LN causal
 * transformer blocks (multi-head attention, GELU MLP of width 4·d), a final LayerNorm and an output head tied to the
 * token embedding (logits = h·Wteᵀ, no bias) — GPT-2's architecture at a tiny width. Parameter names are GPT-2's
 * (`wte.weight`, `wpe.weight`, `h0.ln_1.weight`, `h0.attn.qkv.weight`, `h0.mlp.fc.weight`, `ln_f.weight`, …;
 * weights [out, in] as in nanoGPT's nn.Linear), stable so that other tools (e.g. a GaLore-style optimizer on the
 * matrices) can address them. Trained on the commander README's bytes (data/text.ts). The embedding lookup is a
 * one-hot GEMM so both uses of the tied matrix get ordinary dense gradients. */
import { numpy as np } from "@jax-js/jax";
import type { Rng } from "../../../core/index.ts";
import { loadByteCorpus, sampleTokenWindows } from "../data/text.ts";
import type { ZooModel } from "../model.ts";
import { crossEntropyWithAccuracy, layerNorm, linear } from "../ops.ts";
import type { ParamSpec } from "../params.ts";
import {
  causalMask,
  GPT2_NAMING,
  languageModelBatch,
  type TransformerShape,
  transformerBlockSpecs,
  transformerBlocks,
  transformerForwardFlops,
} from "./transformer.ts";

/** Context length, vocabulary and width; the MLP is 4·dim wide as in GPT-2. */
export const GPT2_CONFIG = { context: 32, vocab: 256, dim: 48, heads: 4, layers: 2 } as const;
const SHAPE: TransformerShape = {
  dim: GPT2_CONFIG.dim,
  heads: GPT2_CONFIG.heads,
  layers: GPT2_CONFIG.layers,
  mlpDim: 4 * GPT2_CONFIG.dim,
};

export function createGpt2Model(): ZooModel {
  const corpus = loadByteCorpus();
  const { context, vocab, dim } = GPT2_CONFIG;
  const mask = causalMask(context);
  const params: ParamSpec[] = [
    { name: "wte.weight", shape: [vocab, dim], init: { kind: "normal", std: 0.02 } },
    { name: "wpe.weight", shape: [context, dim], init: { kind: "normal", std: 0.01 } },
    ...transformerBlockSpecs(SHAPE, { naming: GPT2_NAMING, init: "gpt2" }),
    { name: "ln_f.weight", shape: [dim], init: { kind: "constant", value: 1 } },
    { name: "ln_f.bias", shape: [dim], init: { kind: "constant", value: 0 } },
  ];
  return {
    name: "gpt2",
    description: `GPT-2 architecture, byte-level (vocab ${vocab}), context ${context}, ${SHAPE.layers} pre-LN blocks, dim ${dim}, ${SHAPE.heads} heads, GELU MLP ${SHAPE.mlpDim}, tied embeddings, on the commander README`,
    params,
    defaults: {
      optimizer: "adam",
      lr: { adam: 3e-3, momentum: 0.03, sgd: 0.3 },
      batch: 16,
      steps: 300,
      schedule: "cosine",
      warmupSteps: 10,
      weightDecay: 0,
    },
    metricName: "accuracy",
    loss(p, [inputs, targets, causal]) {
      const [b, t] = inputs.shape;
      const wte = p["wte.weight"];
      // Tied: the same [vocab, dim] matrix embeds (one-hot · Wte) and reads out (h · Wteᵀ).
      const embedded = np
        .matmul(inputs.reshape([b * t, vocab]), wte.ref)
        .reshape([b, t, dim])
        .add(p["wpe.weight"]);
      const h = transformerBlocks(embedded, p, SHAPE, causal, GPT2_NAMING);
      const logits = linear(layerNorm(h, p["ln_f.weight"], p["ln_f.bias"]).reshape([b * t, dim]), wte);
      return crossEntropyWithAccuracy(logits, targets);
    },
    sampleBatch: (rng: Rng, size: number) =>
      languageModelBatch(sampleTokenWindows(corpus, rng, size, context), size, context, vocab, mask),
    gemmFlopsPerStep(batch) {
      const tokens = batch * context;
      const forward = 2 * tokens * vocab * dim * 2 + transformerForwardFlops(SHAPE, tokens, context);
      return 3 * forward;
    },
  };
}
