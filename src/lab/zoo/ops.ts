/** @file Neural-network building blocks on jax-js primitives that jax-js lacks or that are faster hand-assembled:
 * convolution as a sum of shifted GEMMs (jax-js's `lax.conv` is ~20× slower here, see conv2dSame), 2×2 pooling by
 * reshape (jax-js 0.1.25 has no strided slices), linear layers with PyTorch's [out, in] weight
 * layout, layer norm, multi-head attention and cross-entropy. Every function consumes its array arguments (jax-js ownership rules). */
import { nn, numpy as np } from "@jax-js/jax";
import { GradtraceError } from "../../core/index.ts";

/** y = x Wᵀ + b over the last axis of x; `weight` is [out, in] like torch.nn.Linear, so logged gradient matrices
 * have the same orientation as PyTorch's. */
export function linear(x: np.Array, weight: np.Array, bias?: np.Array): np.Array {
  const y = np.matmul(x, np.matrixTranspose(weight));
  return bias === undefined ? y : y.add(bias);
}

/** 'same'-padded stride-1 convolution of NHWC input `x` [B, H, W, Cin] with a PyTorch-layout weight
 * [Cout, Cin, k, k] (k odd), as a sum of k² shifted GEMMs: y = Σ_{dy,dx} shift_{dy,dx}(pad(x)) · W[:, :, dy, dx]ᵀ.
 * Why not the textbook im2col (concatenate the k² shifts into [B·H·W, k²·Cin], one GEMM): measured on the zoo CNN's
 * second layer ([32, 14, 14, 8] → 16 channels, jit value-and-grad), the shifted sum takes 23 ms per step against
 * 37 ms for im2col and 453 ms for jax-js's `lax.conv`: its backward pass pads k² cotangents of Cin channels instead
 * of slicing one of k²·Cin, and skips the concatenation. (A single gather with `np.take` would be one kernel, but
 * jax-js 0.1.25 cannot jit its scatter transpose.) */
export function conv2dSame(x: np.Array, weight: np.Array, bias: np.Array): np.Array {
  const [b, h, w, cin] = x.shape;
  const [cout, wcin, k, k2] = weight.shape;
  if (wcin !== cin || k !== k2 || k % 2 !== 1) {
    throw new GradtraceError(
      "E_SHAPE",
      `conv2dSame: weight [${weight.shape}] does not fit input [${x.shape}] (need [Cout, ${cin}, k, k], k odd)`,
    );
  }
  const r = (k - 1) / 2;
  const padded = np.pad(x, [
    [0, 0],
    [r, r],
    [r, r],
    [0, 0],
  ]);
  const taps = np.transpose(weight, [2, 3, 1, 0]); // [ky, kx, Cin, Cout]
  let sum: np.Array | null = null;
  for (let dy = 0; dy < k; dy++) {
    for (let dx = 0; dx < k; dx++) {
      const shifted = padded.ref.slice([], [dy, dy + h], [dx, dx + w], []).reshape([b * h * w, cin]);
      const term = np.dot(shifted, taps.ref.slice(dy, dx));
      sum = sum === null ? term : sum.add(term);
    }
  }
  padded.dispose();
  taps.dispose();
  return sum!.reshape([b, h, w, cout]).add(bias);
}

/** 2×2 max pooling with stride 2 on NHWC input (H, W even), by reshaping to [B, H/2, 2, W/2, 2, C]. */
export function maxPool2(x: np.Array): np.Array {
  const [b, h, w, c] = x.shape;
  return x.reshape([b, h / 2, 2, w / 2, 2, c]).max([2, 4]);
}

/** Layer normalisation over the last axis with learned gain and bias. */
export function layerNorm(x: np.Array, gain: np.Array, bias: np.Array, eps = 1e-5): np.Array {
  const mu = x.ref.mean(-1, { keepdims: true });
  const centered = x.sub(mu);
  const variance = np.square(centered.ref).mean(-1, { keepdims: true });
  return centered
    .div(np.sqrt(variance.add(eps)))
    .mul(gain)
    .add(bias);
}

export interface AttentionWeights {
  readonly qkvWeight: np.Array; // [3·D, D]
  readonly qkvBias: np.Array; // [3·D]
  readonly projWeight: np.Array; // [D, D]
  readonly projBias: np.Array; // [D]
}

/** Multi-head self-attention on x [B, T, D]. `mask` (optional, [T, T], 0 where allowed and a large negative number
 * where not) is added to the logits; it is an input rather than a constant so that it has x's dtype. */
export function selfAttention(
  x: np.Array,
  weights: AttentionWeights,
  heads: number,
  mask?: np.Array,
): np.Array {
  const [b, t, d] = x.shape;
  const hd = d / heads;
  const qkv = linear(x, weights.qkvWeight, weights.qkvBias).reshape([b, t, 3, heads, hd]);
  const q = np.transpose(qkv.ref.slice([], [], 0), [0, 2, 1, 3]); // [B, H, T, hd]
  const kT = np.transpose(qkv.ref.slice([], [], 1), [0, 2, 3, 1]); // [B, H, hd, T]
  const v = np.transpose(qkv.slice([], [], 2), [0, 2, 1, 3]); // [B, H, T, hd]
  let logits = np.matmul(q, kT).mul(1 / Math.sqrt(hd));
  if (mask !== undefined) logits = logits.add(mask);
  const attn = nn.softmax(logits, -1);
  const out = np.transpose(np.matmul(attn, v), [0, 2, 1, 3]).reshape([b, t, d]);
  return linear(out, weights.projWeight, weights.projBias);
}

/** Mean cross-entropy of `logits` [N, C] against one-hot `targets` [N, C], and the fraction of rows whose argmax
 * matches (returned as an auxiliary, non-differentiated output). */
export function crossEntropyWithAccuracy(logits: np.Array, targets: np.Array): [np.Array, np.Array] {
  const n = logits.shape[0];
  const logp = nn.logSoftmax(logits, -1);
  const loss = logp.ref
    .mul(targets.ref)
    .sum()
    .mul(-1 / n);
  const hit = np.equal(np.argmax(logp, -1), np.argmax(targets, -1)).astype(loss.dtype);
  return [loss, hit.mean()];
}
