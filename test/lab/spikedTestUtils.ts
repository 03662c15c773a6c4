/** @file Setup shared by the spiked-lab tests (test-only code): the float64 loss gradient of the lab's model on its
 * spiked data and that gradient's decomposition, as the experiment computes them, so each test states only what it
 * varies. */
import type { Mat } from "../../src/core/matrix.ts";
import { type Activation, type ActivationName, resolveActivation } from "../../src/lab/spiked/activations.ts";
import type { SpikedData } from "../../src/lab/spiked/data.ts";
import {
  type Decomposition,
  decomposeGradient,
  decompositionInput,
} from "../../src/lab/spiked/decomposition.ts";
import { float64Gemm } from "../../src/lab/spiked/gemm.ts";
import { type LossGradient, lossAndGradient, type Network } from "../../src/lab/spiked/model.ts";

/** Loss and ∇_W of `net` on the rows `x` with targets `y` (the data set's, or a noisy copy), in float64, with the
 * regularisers `reg` (none by default). */
export function gradientFloat64(
  data: { readonly x: Mat; readonly y: Float64Array },
  net: Network,
  activation: ActivationName | Activation,
  reg: { readonly weightDecay?: number; readonly jacobianPenalty?: number } = {},
): LossGradient {
  return lossAndGradient({
    x: data.x,
    y: data.y,
    net,
    activation: resolveActivation(activation),
    gemm: float64Gemm,
    ...reg,
  });
}

/** S1 + S2 + E of the gradient `g` of network `net` on `data`, in float64; `xBulk` replaces the data's bulk (the
 * noisy bulk X_B + N of the input-noise checks). */
export function decomposeFloat64(
  data: SpikedData,
  g: { readonly residual: Float64Array; readonly dsigma: Mat },
  net: Network,
  xBulk: Mat = data.xBulk,
): Decomposition {
  return decomposeGradient({ ...decompositionInput(data, g, net, float64Gemm), xBulk });
}
