/** @file Pre-LayerNorm transformer blocks shared by the vision transformer and the language models: parameter specs
 * and the forward pass. Two naming schemes: timm style ("blocks.{i}.ln1", "blocks.{i}.mlp.fc1", used by vit and
 * charlm) and GPT-2 style ("h{i}.ln_1", "h{i}.mlp.fc", used by gpt2), and two initialisations (see BlockInit). */
import { nn, type numpy as np } from "@jax-js/jax";
import type { HostBatch } from "../model.ts";
import { layerNorm, linear, selfAttention } from "../ops.ts";
import type { ParamSpec } from "../params.ts";

export interface TransformerShape {
  readonly dim: number;
  readonly heads: number;
  readonly layers: number;
  readonly mlpDim: number;
}

/** 0 on and below the diagonal, −1e9 above: added to attention logits so position t sees only positions ≤ t. */
export function causalMask(t: number): Float32Array {
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) mask[i * t + j] = -1e9;
  return mask;
}

/** A language-model batch as the LMs' loss functions take it: one-hot inputs [size, context, vocab], one-hot
 * next-token targets [size·context, vocab] and the additive causal mask [context, context]. */
export function languageModelBatch(
  { inputs, targets }: { inputs: Float32Array; targets: Float32Array },
  size: number,
  context: number,
  vocab: number,
  mask: Float32Array,
): HostBatch {
  return {
    arrays: [
      { data: inputs, shape: [size, context, vocab] },
      { data: targets, shape: [size * context, vocab] },
      { data: mask, shape: [context, context] },
    ],
  };
}

/** Names of one block's tensors: `${block(i)}.${ln1}.weight`, `${block(i)}.attn.qkv.weight`, … */
export interface BlockNaming {
  readonly block: (i: number) => string;
  readonly ln1: string;
  readonly ln2: string;
  /** The MLP's expanding and projecting linear layers. */
  readonly fc1: string;
  readonly fc2: string;
}

/** timm / the zoo's original names: blocks.0.ln1.weight, blocks.0.mlp.fc1.weight. */
export const TIMM_NAMING: BlockNaming = {
  block: (i) => `blocks.${i}`,
  ln1: "ln1",
  ln2: "ln2",
  fc1: "mlp.fc1",
  fc2: "mlp.fc2",
};

/** GPT-2's names without the "transformer." prefix and with nanoGPT's nn.Linear orientation [out, in]:
 * h0.ln_1.weight, h0.attn.qkv.weight (GPT-2's c_attn), h0.attn.proj.weight (c_proj), h0.mlp.fc.weight (c_fc),
 * h0.mlp.proj.weight (c_proj). */
export const GPT2_NAMING: BlockNaming = {
  block: (i) => `h${i}`,
  ln1: "ln_1",
  ln2: "ln_2",
  fc1: "mlp.fc",
  fc2: "mlp.proj",
};

/** "default": LeCun / He for the input-side layers, residual projections N(0, (0.2/sqrt(2L))²) (vit, charlm);
 * "gpt2": every weight N(0, 0.02²), residual projections N(0, (0.02/sqrt(2L))²), as in GPT-2. */
export type BlockInit = "default" | "gpt2";

export function transformerBlockSpecs(
  { dim, layers, mlpDim }: TransformerShape,
  { naming = TIMM_NAMING, init = "default" }: { naming?: BlockNaming; init?: BlockInit } = {},
): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const one = { kind: "constant", value: 1 } as const;
  const zero = { kind: "constant", value: 0 } as const;
  // Residual-branch outputs start small (GPT-2 scales them by 1/sqrt(2·layers)) so the stack starts near identity.
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  const gpt2 = init === "gpt2";
  const inputInit = (kind: "lecun" | "he") => (gpt2 ? ({ kind: "normal", std: 0.02 } as const) : { kind });
  const residual = { kind: "normal", std: gpt2 ? residualStd : residualStd * 10 } as const;
  const { ln1, ln2, fc1, fc2 } = naming;
  for (let i = 0; i < layers; i++) {
    const p = naming.block(i);
    specs.push(
      { name: `${p}.${ln1}.weight`, shape: [dim], init: one },
      { name: `${p}.${ln1}.bias`, shape: [dim], init: zero },
      { name: `${p}.attn.qkv.weight`, shape: [3 * dim, dim], init: inputInit("lecun") },
      { name: `${p}.attn.qkv.bias`, shape: [3 * dim], init: zero },
      { name: `${p}.attn.proj.weight`, shape: [dim, dim], init: residual },
      { name: `${p}.attn.proj.bias`, shape: [dim], init: zero },
      { name: `${p}.${ln2}.weight`, shape: [dim], init: one },
      { name: `${p}.${ln2}.bias`, shape: [dim], init: zero },
      { name: `${p}.${fc1}.weight`, shape: [mlpDim, dim], init: inputInit("he") },
      { name: `${p}.${fc1}.bias`, shape: [mlpDim], init: zero },
      { name: `${p}.${fc2}.weight`, shape: [dim, mlpDim], init: residual },
      { name: `${p}.${fc2}.bias`, shape: [dim], init: zero },
    );
  }
  return specs;
}

/** Runs the blocks on x [B, T, D]. `mask` is the additive attention mask (causal LM) or undefined. */
export function transformerBlocks(
  x: np.Array,
  p: Record<string, np.Array>,
  { heads, layers }: TransformerShape,
  mask?: np.Array,
  { block, ln1, ln2, fc1, fc2 }: BlockNaming = TIMM_NAMING,
): np.Array {
  for (let i = 0; i < layers; i++) {
    const b = block(i);
    const a = selfAttention(
      layerNorm(x.ref, p[`${b}.${ln1}.weight`], p[`${b}.${ln1}.bias`]),
      {
        qkvWeight: p[`${b}.attn.qkv.weight`],
        qkvBias: p[`${b}.attn.qkv.bias`],
        projWeight: p[`${b}.attn.proj.weight`],
        projBias: p[`${b}.attn.proj.bias`],
      },
      heads,
      i === layers - 1 ? mask : mask?.ref,
    );
    x = x.add(a);
    const h = nn.gelu(
      linear(
        layerNorm(x.ref, p[`${b}.${ln2}.weight`], p[`${b}.${ln2}.bias`]),
        p[`${b}.${fc1}.weight`],
        p[`${b}.${fc1}.bias`],
      ),
    );
    x = x.add(linear(h, p[`${b}.${fc2}.weight`], p[`${b}.${fc2}.bias`]));
  }
  return x;
}

/** GEMM FLOPs of the blocks' forward pass for `tokens` tokens of sequence length `seq`. */
export function transformerForwardFlops(
  { dim, layers, mlpDim }: TransformerShape,
  tokens: number,
  seq: number,
): number {
  const perToken = 2 * (3 * dim * dim + dim * dim + 2 * dim * mlpDim) + 2 * 2 * seq * dim;
  return layers * tokens * perToken;
}
