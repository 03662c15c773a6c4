"""The JAX (pytree of arrays) logger: numpy only, same sketches and layout as the PyTorch logger."""
import os
import unittest

import numpy as np

from gradtrace_log import read_gtrace
from gradtrace_log.jax_logger import JaxGradientLogger, flatten_tree
from gradtrace_log.rangesketch import range_sketch_numpy
from gradtrace_log.sketch import SketchSpec, sketch_numpy

from .util import needs_torch, tmpdir, torch


def grads_at(step):
    rng = np.random.default_rng(step)
    return {"dense1": {"kernel": rng.standard_normal((6, 4)), "bias": rng.standard_normal(4)}, "out": [rng.standard_normal((4, 2))]}


class JaxLoggerTest(unittest.TestCase):
    def test_names_sketches_ranges_and_momentum(self):
        self.assertEqual(sorted(flatten_tree(grads_at(0))), ["dense1.bias", "dense1.kernel", "out.0"])
        p = os.path.join(tmpdir(self), "j.gtrace")
        with JaxGradientLogger(p, sketch="countsketch:8", seed=2, every=2, matrix_sketch=3, exclude="*.bias") as log:
            for step in range(5):
                g = grads_at(step)
                log.log(step, g, loss=step * 0.1, momentum=grads_at(100 + step))
        r = read_gtrace(p)
        self.assertEqual([s["step"] for s in r["steps"]], [0, 2, 4])
        self.assertEqual([t["name"] for t in r["doc"]["tensors"]], ["dense1.kernel", "out.0"])
        self.assertEqual(r["doc"]["sketch"]["originalNumel"], {"dense1.kernel": 24, "out.0": 8})
        spec = SketchSpec.parse("countsketch:8")
        for s in r["steps"]:
            leaves = flatten_tree(grads_at(s["step"]))
            mom = flatten_tree(grads_at(100 + s["step"]))
            for n in ("dense1.kernel", "out.0"):
                np.testing.assert_allclose(s["values"][(n, 0)], sketch_numpy(spec, 2, n, leaves[n]), rtol=1e-6, atol=1e-6)
                np.testing.assert_allclose(s["values"][(n, 1)], sketch_numpy(spec, 2, n, mom[n]), rtol=1e-6, atol=1e-6)
                np.testing.assert_allclose(s["values"][(n, 2)], range_sketch_numpy(2, n, leaves[n], 3).reshape(-1), rtol=1e-6, atol=1e-6)

    @needs_torch
    def test_same_numbers_as_the_pytorch_logger(self):
        from gradtrace_log import GradientLogger

        d = tmpdir(self)
        torch.manual_seed(0)
        lin = torch.nn.Linear(5, 3)
        lin.weight.grad = torch.randn(3, 5)
        lin.bias.grad = torch.randn(3)
        a = GradientLogger(lin, os.path.join(d, "t.gtrace"), sketch="sparsejl:16", seed=1, matrix_sketch=2)
        a.log(0)
        a.close()
        b = JaxGradientLogger(os.path.join(d, "j.gtrace"), sketch="sparsejl:16", seed=1, matrix_sketch=2)
        b.log(0, {"weight": lin.weight.grad.numpy(), "bias": lin.bias.grad.numpy()})
        b.close()
        ra, rb = read_gtrace(os.path.join(d, "t.gtrace")), read_gtrace(os.path.join(d, "j.gtrace"))
        self.assertEqual(ra["doc"]["sketch"], rb["doc"]["sketch"])
        self.assertEqual(ra["doc"]["rangeSketch"], rb["doc"]["rangeSketch"])
        for key, v in rb["steps"][0]["values"].items():
            np.testing.assert_allclose(ra["steps"][0]["values"][key], v, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
    unittest.main()
