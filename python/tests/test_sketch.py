"""Sketches: hashing against fixed values of the TypeScript implementation, numpy reference against torch, shard
additivity, linearity, and the range sketch's Ω (Gaussian statistics, slicing)."""
import math
import unittest

import numpy as np

from gradtrace_log import derive_seed, hash_index, tensor_seed
from gradtrace_log._hash import hash_index_array
from gradtrace_log.rangesketch import omega_numpy, range_sketch_numpy, range_sketch_slice_numpy
from gradtrace_log.sketch import SketchSpec, bins_numpy, sketch_numpy, sparsity_for

from .util import needs_torch, torch


class HashTest(unittest.TestCase):
    def test_matches_typescript_values(self):
        # Values printed by src/core/rng.ts deriveSeed and src/core/sketch/common.ts hashIndex (node, this commit).
        self.assertEqual(derive_seed(0), 0x811C9DC5)
        self.assertEqual(derive_seed(7, 2, 0), _TS["deriveSeed(7,2,0)"])
        self.assertEqual(hash_index(12345, 678), _TS["hashIndex(12345,678)"])
        self.assertEqual(tensor_seed(7, "layers.0.attn.ŵ"), _TS['tensorSketchSeed(7,"layers.0.attn.ŵ")'])

    def test_vectorised_equals_scalar(self):
        idx = np.array([0, 1, 2, 2**31 - 1, 2**32 - 1, 2**32, 2**40 + 3], dtype=np.int64)
        for base in (0, 1, 0xDEADBEEF, 0xFFFFFFFF):
            got = hash_index_array(base, idx)
            self.assertEqual([int(x) for x in got], [hash_index(base, int(i)) for i in idx])

    def test_names_give_independent_seeds(self):
        self.assertNotEqual(tensor_seed(0, "a.weight"), tensor_seed(0, "a.bias"))
        self.assertNotEqual(tensor_seed(0, "w"), tensor_seed(1, "w"))


class SketchTest(unittest.TestCase):
    def test_countsketch_is_a_signed_bucket_sum(self):
        spec = SketchSpec.parse("countsketch:8")
        x = np.arange(1, 41, dtype=np.float64)
        bins = bins_numpy(spec, tensor_seed(3, "w"), 0, x.size)[0]
        expected = np.zeros(8)
        for j, b in enumerate(bins):
            expected[b % 8] += -x[j] if b >= 8 else x[j]
        np.testing.assert_array_equal(sketch_numpy(spec, 3, "w", x), expected)

    def test_parse_and_sparsity(self):
        self.assertEqual(SketchSpec.parse("sparsejl:512").s, 8)
        self.assertEqual(SketchSpec.parse("sparsejl:12").s, 6)
        self.assertEqual(SketchSpec.parse("sparsejl:512:4").s, 4)
        self.assertEqual(sparsity_for(7), 7)
        for bad in ("jl:512", "countsketch", "countsketch:0", "sparsejl:10:3"):
            with self.assertRaises(ValueError):
                SketchSpec.parse(bad)

    def test_norm_is_preserved_in_expectation(self):
        # E‖Sx‖² = ‖x‖², Var ≤ 2‖x‖⁴/k: the mean over 200 seeds is within 5 standard errors.
        rng = np.random.default_rng(0)
        x = rng.standard_normal(2000)
        for spec in ("countsketch:64", "sparsejl:64"):
            ratios = [np.sum(sketch_numpy(SketchSpec.parse(spec), seed, "w", x) ** 2) / np.sum(x**2) for seed in range(200)]
            self.assertLess(abs(np.mean(ratios) - 1), 5 * math.sqrt(2 / 64 / 200))

    def test_slices_add_up(self):
        rng = np.random.default_rng(1)
        x = rng.standard_normal(1000)
        spec = SketchSpec.parse("sparsejl:32")
        whole = sketch_numpy(spec, 5, "t", x)
        parts = sketch_numpy(spec, 5, "t", x[:333]) + sketch_numpy(spec, 5, "t", x[333:], offset=333)
        np.testing.assert_allclose(parts, whole, rtol=0, atol=1e-12)

    @needs_torch
    def test_torch_equals_numpy(self):
        from gradtrace_log.sketch import TorchHashingSketch

        rng = np.random.default_rng(2)
        for spec in ("countsketch:64", "sparsejl:64", "countsketch:100"):
            for cache in (1 << 30, 0):
                sk = TorchHashingSketch(spec, 9, cache_bytes=cache)
                for name, n in (("a", 5000), ("b.weight", 70000)):
                    # Integer-valued inputs: every partial sum is exact in float32, so the results must be equal.
                    x = rng.integers(-8, 9, n).astype(np.float32)
                    ref = sketch_numpy(SketchSpec.parse(spec), 9, name, x)
                    got = sk.sketch(name, torch.from_numpy(x)).double().numpy()
                    s = SketchSpec.parse(spec).s
                    np.testing.assert_allclose(got, ref, rtol=2**-21 if s > 1 else 0, atol=0)

    @needs_torch
    def test_torch_shards_and_dtypes(self):
        from gradtrace_log.sketch import CHUNK, TorchHashingSketch

        rng = np.random.default_rng(3)
        x = rng.standard_normal(CHUNK + 1234).astype(np.float32)  # spans a chunk boundary
        sk = TorchHashingSketch("countsketch:256", 1)
        ref = sketch_numpy(SketchSpec.parse("countsketch:256"), 1, "w", x)
        acc = sk.new_accumulator("cpu")
        cut = 777_777
        sk.accumulate("w", torch.from_numpy(x[cut:]), cut, acc)
        sk.accumulate("w", torch.from_numpy(x[:cut]), 0, acc)
        got = sk.finish(acc).double().numpy()
        # float32 accumulation of ~n/k terms per row: error ≤ (n/k)·2⁻²⁴ times the row's |x| sum (~√ of it in practice).
        tol = (x.size / 256) * 2**-24 * (np.abs(x).sum() / 256) * 4
        self.assertLess(np.abs(got - ref).max(), tol)
        half = sk.sketch("w", torch.from_numpy(x).to(torch.bfloat16)).double().numpy()
        ref16 = sketch_numpy(SketchSpec.parse("countsketch:256"), 1, "w", torch.from_numpy(x).to(torch.bfloat16).float().numpy())
        self.assertLess(np.abs(half - ref16).max(), tol)


class RangeSketchTest(unittest.TestCase):
    def test_omega_is_standard_gaussian_over_s(self):
        om = omega_numpy(0, "w", 4000, 16)
        z = om.reshape(-1) * math.sqrt(16)
        self.assertLess(abs(z.mean()), 5 / math.sqrt(z.size))
        self.assertLess(abs(z.var() - 1), 5 * math.sqrt(2 / z.size))
        # Kurtosis of a normal is 3 (a uniform or a bad transform would miss it).
        self.assertLess(abs(np.mean(z**4) - 3), 0.2)
        # Independent of the row range asked for, dependent on the name.
        np.testing.assert_array_equal(omega_numpy(0, "w", 4000, 16, 1000, 10), om[1000:1010])
        self.assertFalse(np.allclose(omega_numpy(0, "v", 4000, 16), om))

    def test_slices_add_up_to_the_full_sketch(self):
        rng = np.random.default_rng(4)
        g = rng.standard_normal((7, 9))
        y = range_sketch_numpy(3, "m", g, 5)
        flat = g.reshape(-1)
        parts = sum(range_sketch_slice_numpy(3, "m", flat[a:b], a, 7, 9, 5) for a, b in ((0, 4), (4, 22), (22, 63)))
        np.testing.assert_allclose(parts, y, atol=1e-12)

    @needs_torch
    def test_torch_range_sketch(self):
        from gradtrace_log.rangesketch import TorchRangeSketch

        rng = np.random.default_rng(5)
        g = rng.standard_normal((6, 11)).astype(np.float32)
        rs = TorchRangeSketch(4, 2)
        acc = torch.zeros(6, 4)
        flat = torch.from_numpy(g.reshape(-1))
        for a, b in ((0, 13), (13, 44), (44, 66)):  # row-misaligned shards
            rs.accumulate("m", flat[a:b], a, 6, 11, acc)
        np.testing.assert_allclose(acc.numpy(), range_sketch_numpy(2, "m", g, 4), rtol=1e-5, atol=1e-5)


_TS = {
    "deriveSeed(7,2,0)": 525423091,
    "hashIndex(12345,678)": 1120423251,
    'tensorSketchSeed(7,"layers.0.attn.ŵ")': 3191742915,
}

if __name__ == "__main__":
    unittest.main()
