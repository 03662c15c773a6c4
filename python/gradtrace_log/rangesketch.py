"""Range sketches of matrix-shaped gradients: Y_t = G_t Ω (rows × s) with one Gaussian test matrix Ω (cols × s) per
tensor, the same at every step, so `gradtrace analyze` can estimate each step's top singular values and left
singular subspace, the subspace drift between steps and the stale-projector energy (randomized range finder,
Halko–Martinsson–Tropp 2011) from s numbers per row instead of the whole gradient.

Ω depends only on (seed, tensor name, row index j of Ω, column c) — counter-based, so any rank can regenerate it and
a shard of the gradient is sketched on its own:

    base_c = derive_seed(tensor_seed(seed, name), 4, c)
    u1 = (hash_index(base_c, 2j) + 1) / 2^32,  u2 = hash_index(base_c, 2j + 1) / 2^32
    Ω[j, c] = sqrt(−2 ln u1) · cos(2π u2) / √s                      (Box–Muller: i.i.d. N(0, 1/s) entries)

Matrix view of a tensor: the first axis is the rows, the remaining axes flattened are the columns (a conv kernel
out × in × kh × kw is out × (in·kh·kw)), the same convention as the analysis (matrixShape in matrixGeometry.ts).
"""
import math

import numpy as np

from ._hash import RANGE_STREAM_TAG, derive_seed, hash_index_array, tensor_seed


def matrix_shape(shape):
    """(rows, cols) of a tensor seen as a matrix, or None when it is not one (fewer than 2 axes or a side < 2)."""
    if len(shape) < 2:
        return None
    rows = int(shape[0])
    cols = 1
    for d in shape[1:]:
        cols *= int(d)
    return (rows, cols) if rows >= 2 and cols >= 2 else None


def omega_numpy(seed, name, cols, s, row_start=0, row_count=None):
    """Rows [row_start, row_start + row_count) of Ω (float64, shape row_count × s)."""
    row_count = cols - row_start if row_count is None else row_count
    tseed = tensor_seed(seed, name)
    j = np.arange(row_start, row_start + row_count, dtype=np.int64)
    out = np.empty((row_count, s), dtype=np.float64)
    for c in range(s):
        base = derive_seed(tseed, RANGE_STREAM_TAG, c)
        u1 = (hash_index_array(base, 2 * j).astype(np.float64) + 1.0) / 4294967296.0
        u2 = hash_index_array(base, 2 * j + 1).astype(np.float64) / 4294967296.0
        out[:, c] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    return out / math.sqrt(s)


def range_sketch_numpy(seed, name, matrix, s):
    """Y = G Ω for a whole rows × cols array (float64 reference)."""
    g = np.asarray(matrix, dtype=np.float64)
    return g @ omega_numpy(seed, name, g.shape[1], s)


def range_sketch_slice_numpy(seed, name, flat, offset, rows, cols, s):
    """Contribution of a C-order slice [offset, offset + len) of a rows × cols matrix to Y (rows × s): the slice is
    zero-padded to whole rows, so the slices of a tensor add up to the full Y."""
    flat = np.asarray(flat, dtype=np.float64).reshape(-1)
    y = np.zeros((rows, s))
    if flat.size == 0:
        return y
    r0, r1 = offset // cols, (offset + flat.size - 1) // cols + 1
    buf = np.zeros((r1 - r0) * cols)
    buf[offset - r0 * cols : offset - r0 * cols + flat.size] = flat
    y[r0:r1] = buf.reshape(r1 - r0, cols) @ omega_numpy(seed, name, cols, s)
    return y


class TorchRangeSketch:
    """Y = G Ω with torch on the gradient's device; Ω (float32) is generated once per tensor and kept there."""

    def __init__(self, s, seed):
        import torch

        if not isinstance(s, int) or s < 1:
            raise ValueError(f"matrix_sketch must be a positive integer number of columns s, got {s!r}")
        self.torch, self.s, self.seed = torch, s, seed
        self._omega = {}

    def omega(self, name, cols, device):
        key = (name, str(device))
        om = self._omega.get(key)
        if om is None:
            om = self.torch.from_numpy(omega_numpy(self.seed, name, cols, self.s).astype(np.float32)).to(device)
            self._omega[key] = om
        return om

    def accumulate(self, name, flat, offset, rows, cols, acc):
        """acc (rows × s float32 on flat's device) += contribution of the slice `flat` at global coordinate `offset`."""
        torch = self.torch
        n = flat.numel()
        if n == 0:
            return
        om = self.omega(name, cols, flat.device)
        part = flat if flat.dtype == torch.float32 else flat.to(torch.float32)
        r0, r1 = offset // cols, (offset + n - 1) // cols + 1
        if offset == r0 * cols and n == (r1 - r0) * cols:
            acc[r0:r1] += part.reshape(r1 - r0, cols) @ om
            return
        buf = torch.zeros((r1 - r0) * cols, dtype=torch.float32, device=flat.device)
        buf[offset - r0 * cols : offset - r0 * cols + n] = part
        acc[r0:r1] += buf.reshape(r1 - r0, cols) @ om
