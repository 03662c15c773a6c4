/** @file Pre-LayerNorm transformer blocks shared by the vision transformer and the character language model:
 * parameter specs under "blocks.{i}.…" names (GPT-2 / timm style) and the forward pass. */
import { nn, type numpy as np } from "@jax-js/jax";
import { layerNorm, linear, selfAttention } from "../ops.ts";
import type { ParamSpec } from "../params.ts";

export interface TransformerShape {
  readonly dim: number;
  readonly heads: number;
  readonly layers: number;
  readonly mlpDim: number;
}

export function transformerBlockSpecs({ dim, layers, mlpDim }: TransformerShape): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const one = { kind: "constant", value: 1 } as const;
  const zero = { kind: "constant", value: 0 } as const;
  // Residual-branch outputs start small (GPT-2 scales them by 1/sqrt(2·layers)) so the stack starts near identity.
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  for (let i = 0; i < layers; i++) {
    const p = `blocks.${i}`;
    specs.push(
      { name: `${p}.ln1.weight`, shape: [dim], init: one },
      { name: `${p}.ln1.bias`, shape: [dim], init: zero },
      { name: `${p}.attn.qkv.weight`, shape: [3 * dim, dim], init: { kind: "lecun" } },
      { name: `${p}.attn.qkv.bias`, shape: [3 * dim], init: zero },
      { name: `${p}.attn.proj.weight`, shape: [dim, dim], init: { kind: "normal", std: residualStd * 10 } },
      { name: `${p}.attn.proj.bias`, shape: [dim], init: zero },
      { name: `${p}.ln2.weight`, shape: [dim], init: one },
      { name: `${p}.ln2.bias`, shape: [dim], init: zero },
      { name: `${p}.mlp.fc1.weight`, shape: [mlpDim, dim], init: { kind: "he" } },
      { name: `${p}.mlp.fc1.bias`, shape: [mlpDim], init: zero },
      { name: `${p}.mlp.fc2.weight`, shape: [dim, mlpDim], init: { kind: "normal", std: residualStd * 10 } },
      { name: `${p}.mlp.fc2.bias`, shape: [dim], init: zero },
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
): np.Array {
  for (let i = 0; i < layers; i++) {
    const b = `blocks.${i}`;
    const a = selfAttention(
      layerNorm(x.ref, p[`${b}.ln1.weight`], p[`${b}.ln1.bias`]),
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
        layerNorm(x.ref, p[`${b}.ln2.weight`], p[`${b}.ln2.bias`]),
        p[`${b}.mlp.fc1.weight`],
        p[`${b}.mlp.fc1.bias`],
      ),
    );
    x = x.add(linear(h, p[`${b}.mlp.fc2.weight`], p[`${b}.mlp.fc2.bias`]));
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
