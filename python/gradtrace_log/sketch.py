"""Hashing sketches (CountSketch, block sparse JL) identical to gradtrace's TypeScript ``createSketch`` ones, in numpy
(reference, JAX logger) and in torch (on the gradient's device).

The sketch of one tensor x (flattened in C order, global coordinate j) with k rows and s nonzeros per column:

    base_q = derive_seed(tensor_seed(seed, name), 2, q)          q = 0..s−1 (row blocks of m = k/s rows)
    h      = hash_index(base_q, j)
    row    = q·m + floor((h >> 1)·m / 2^31),   sign = −1 if h & 1 else +1
    (S x)[row] += sign · x[j] / √s

which is src/core/sketch/hashing.ts with ``seed = tensor_seed(seed, name)`` (CountSketch is s = 1). It depends only on
(seed, tensor name, global coordinate index), so a shard [offset, offset + len) of a tensor is sketched on its own
and the shards' sketches add up to the whole tensor's.

Implementation: each coordinate's (row, sign) is encoded as one bin ``row + k·[sign < 0]`` in [0, 2k); the sketch is a
weighted bincount into 2k bins followed by ``bins[:k] − bins[k:]``, so the hot loop is a single ``index_add_`` with
no multiply. Bin tables are cached per tensor (int32, 4·s bytes per coordinate) within a byte budget; beyond it they
are hashed on the fly chunk by chunk (cheap on a GPU, slower on a CPU).
"""
import math
import re

import numpy as np

from ._hash import HASH_STREAM_TAG, derive_seed, hash_index_array, tensor_seed

KINDS = ("countsketch", "sparsejl")
#: Default nonzeros per column of sparse JL (reduced to the largest divisor of k that is ≤ 8, as in TypeScript).
DEFAULT_SPARSITY = 8
#: Coordinates hashed / scattered at a time: bounds temporary memory (int64 hashing needs ~8 bytes × 4 per coordinate).
CHUNK = 1 << 22


def sparsity_for(k, preferred=DEFAULT_SPARSITY):
    """Largest divisor of k not above `preferred` (sparsityFor in hashing.ts)."""
    for s in range(min(preferred, k), 1, -1):
        if k % s == 0:
            return s
    return 1


class SketchSpec:
    """A parsed sketch spec: kind ("countsketch" | "sparsejl"), k rows, s nonzeros per column."""

    def __init__(self, kind, k, s=None):
        if kind not in KINDS:
            raise ValueError(
                f'sketch kind "{kind}" is not supported by the Python logger; expected one of {", ".join(KINDS)} '
                "(dense jl and srht are analysis-side sketches in gradtrace, too slow to apply per step at scale)"
            )
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"sketch size k must be a positive integer, got {k!r}")
        s = 1 if kind == "countsketch" else (s if s is not None else sparsity_for(k))
        if k % s != 0:
            raise ValueError(f"sparsejl: s = {s} nonzeros per column must divide k = {k}")
        self.kind, self.k, self.s = kind, k, s

    @classmethod
    def parse(cls, spec):
        """"countsketch:1024" or "sparsejl:512" (optionally "sparsejl:512:4" for s = 4)."""
        if isinstance(spec, SketchSpec):
            return spec
        m = re.fullmatch(r"\s*([a-z]+)\s*:\s*(\d+)\s*(?::\s*(\d+)\s*)?", str(spec), re.I)
        if not m:
            raise ValueError(
                f'sketch spec "{spec}": expected "<kind>:<k>" with kind one of {", ".join(KINDS)}, e.g. "countsketch:1024"'
            )
        return cls(m.group(1).lower(), int(m.group(2)), int(m.group(3)) if m.group(3) else None)

    def __repr__(self):
        return f"SketchSpec({self.kind}:{self.k}{'' if self.kind == 'countsketch' else f', s={self.s}'})"


def _bins_from_hash(h, q, k, s):
    """Bin in [0, 2k) for hash values h of row block q: row + k·negative."""
    m = k // s
    row = q * m + (((h >> 1) * m) >> 31)
    return row + k * (h & 1)


def bins_numpy(spec, tseed, start, count):
    """Bins (int64, shape (s, count)) of coordinates [start, start + count) of the tensor seeded `tseed`."""
    idx = np.arange(start, start + count, dtype=np.int64)
    out = np.empty((spec.s, count), dtype=np.int64)
    for q in range(spec.s):
        out[q] = _bins_from_hash(hash_index_array(derive_seed(tseed, HASH_STREAM_TAG, q), idx), q, spec.k, spec.s)
    return out


def _finish_numpy(acc, spec):
    return (acc[: spec.k] - acc[spec.k :]) / math.sqrt(spec.s)


def sketch_numpy(spec, seed, name, values, offset=0):
    """S·x for a flat slice `values` of tensor `name` starting at global coordinate `offset`, accumulated in float64.
    The numpy reference (and the JAX logger's sketch)."""
    x = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    tseed = tensor_seed(seed, name)
    acc = np.zeros(2 * spec.k, dtype=np.float64)
    for c in range(0, x.size, CHUNK):
        part = x[c : c + CHUNK]
        bins = bins_numpy(spec, tseed, offset + c, part.size)
        for q in range(spec.s):
            acc += np.bincount(bins[q], weights=part, minlength=2 * spec.k)
    return _finish_numpy(acc, spec)


class TorchHashingSketch:
    """The same sketch with torch ops on the tensors' device. One instance serves all tensors of a model; bin tables
    are cached per (tensor name, chunk) up to `cache_bytes` in total."""

    def __init__(self, spec, seed, cache_bytes=1 << 30):
        import torch

        self.torch = torch
        self.spec = SketchSpec.parse(spec)
        self.seed = seed
        self.cache_bytes = cache_bytes
        self.cached_bytes = 0
        self._cache = {}
        self._tseeds = {}

    def _tseed(self, name):
        t = self._tseeds.get(name)
        if t is None:
            t = self._tseeds[name] = tensor_seed(self.seed, name)
        return t

    def _bins(self, name, start, count, device):
        """int32 bins, shape (s, count), of coordinates [start, start + count) on `device` (cached when it fits)."""
        torch = self.torch
        key = (name, start, count, str(device))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        spec = self.spec
        tseed = self._tseed(name)
        idx = torch.arange(start, start + count, dtype=torch.int64, device=device)
        bins = torch.empty((spec.s, count), dtype=torch.int32, device=device)
        for q in range(spec.s):
            h = hash_index_array(derive_seed(tseed, HASH_STREAM_TAG, q), idx)
            bins[q] = _bins_from_hash(h, q, spec.k, spec.s).to(torch.int32)
        del idx
        size = bins.numel() * 4
        if self.cached_bytes + size <= self.cache_bytes:
            self._cache[key] = bins
            self.cached_bytes += size
        return bins

    def accumulate(self, name, flat, offset, acc):
        """acc (float32, 2k bins, on flat's device) += bincount of the slice `flat` (1-D, any float dtype) of tensor
        `name` at global coordinate `offset`. Chunks of CHUNK coordinates bound the temporaries; a chunk boundary is
        a fixed function of (offset, numel) so the cache keys repeat from step to step."""
        torch = self.torch
        n = flat.numel()
        for c in range(0, n, CHUNK):
            part = flat[c : c + CHUNK]
            if part.dtype != torch.float32:
                part = part.to(torch.float32)
            bins = self._bins(name, offset + c, part.numel(), part.device)
            for q in range(self.spec.s):
                acc.index_add_(0, bins[q], part)

    def new_accumulator(self, device):
        return self.torch.zeros(2 * self.spec.k, dtype=self.torch.float32, device=device)

    def finish(self, acc):
        """The k-vector S·x from an accumulator (still on its device)."""
        return (acc[: self.spec.k] - acc[self.spec.k :]) * (1.0 / math.sqrt(self.spec.s))

    def sketch(self, name, tensor, offset=0):
        """S·x for a whole tensor (or a flat slice at `offset`), on the tensor's device."""
        flat = tensor.detach().reshape(-1)
        acc = self.new_accumulator(flat.device)
        self.accumulate(name, flat, offset, acc)
        return self.finish(acc)
