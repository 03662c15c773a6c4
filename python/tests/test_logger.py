"""GradientLogger on a real (small) PyTorch training loop: what each record holds against the gradients and optimizer
buffers captured independently, in full and sketched mode, with every / include / exclude / matrix_sketch / momentum,
attach and manual log, resume."""
import os
import unittest
import warnings

import numpy as np

from gradtrace_log import read_gtrace
from gradtrace_log.rangesketch import range_sketch_numpy
from gradtrace_log.sketch import SketchSpec, sketch_numpy

from .util import mlp, needs_torch, tmpdir, torch


def train(model, opt, steps, capture, seed=1, hook=None):
    """Runs `steps` optimizer steps; capture(step) is called after backward (grads) and after step (buffers)."""
    gen = torch.Generator().manual_seed(seed)
    for t in range(steps):
        x = torch.randn(16, model[0].in_features, generator=gen)
        y = torch.randint(0, model[-1].out_features, (16,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        if hook:
            hook(loss)
        capture("grad", t, {n: p.grad.detach().clone().numpy() for n, p in model.named_parameters()})
        opt.step()
        bufs = {}
        for n, p in model.named_parameters():
            st = opt.state.get(p, {})
            b = st.get("momentum_buffer", st.get("exp_avg"))
            if b is not None:
                bufs[n] = b.detach().clone().numpy()
        capture("buf", t, bufs)


def recorder():
    seen = {"grad": {}, "buf": {}}
    return seen, lambda kind, t, v: seen[kind].__setitem__(t, v)


@needs_torch
class GradientLoggerTest(unittest.TestCase):
    def setUp(self):
        from gradtrace_log import GradientLogger

        self.Logger = GradientLogger
        self.dir = tmpdir(self)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_full_mode_logs_the_gradient_each_step_uses(self):
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        log = self.Logger(model, self.path("f.gtrace"), momentum=True).attach(opt)
        seen, cap = recorder()
        train(model, opt, 4, cap, hook=log.note_loss)
        log.close()
        r = read_gtrace(self.path("f.gtrace"))
        self.assertEqual([s["step"] for s in r["steps"]], [0, 1, 2, 3])
        self.assertEqual(r["doc"]["meta"]["logger"].split()[0], "gradtrace_log")
        self.assertNotIn("sketch", r["doc"])
        for t, s in enumerate(r["steps"]):
            self.assertEqual(s["lr"], 0.1)
            self.assertIsNotNone(s["loss"])
            for n, g in seen["grad"][t].items():
                np.testing.assert_array_equal(s["values"][(n, 0)], g.reshape(-1).astype(np.float64))
                # The momentum entry of step t is the buffer after step t's update (docs/trace-format.md).
                np.testing.assert_array_equal(s["values"][(n, 1)], seen["buf"][t][n].reshape(-1))

    def test_sketch_mode_equals_the_numpy_sketch_of_the_same_gradients(self):
        model = mlp((30, 20, 4))
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        log = self.Logger(model, self.path("s.gtrace"), sketch="countsketch:16", seed=5, momentum=True, matrix_sketch=3).attach(opt)
        seen, cap = recorder()
        train(model, opt, 3, cap)
        log.close()
        r = read_gtrace(self.path("s.gtrace"))
        spec = SketchSpec.parse("countsketch:16")
        self.assertEqual(r["version"], 2)
        self.assertEqual(r["doc"]["sketch"]["seeding"], "name")
        self.assertEqual(r["doc"]["sketch"]["originalNumel"]["0.weight"], 600)
        self.assertEqual([t["name"] for t in r["doc"]["rangeSketch"]["tensors"]], ["0.weight", "2.weight"])
        for t, s in enumerate(r["steps"]):
            for n, g in seen["grad"][t].items():
                ref = sketch_numpy(spec, 5, n, g)
                np.testing.assert_allclose(s["values"][(n, 0)], ref, rtol=1e-5, atol=1e-6 * np.abs(g).sum())
                mref = sketch_numpy(spec, 5, n, seen["buf"][t][n])
                np.testing.assert_allclose(s["values"][(n, 1)], mref, rtol=1e-5, atol=1e-6 * np.abs(seen["buf"][t][n]).sum())
                if g.ndim == 2:
                    y = range_sketch_numpy(5, n, g, 3).reshape(-1)
                    np.testing.assert_allclose(s["values"][(n, 2)], y, rtol=1e-4, atol=1e-5 * np.abs(y).max())

    def test_every_include_exclude_and_manual_log(self):
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        log = self.Logger(model, self.path("e.gtrace"), sketch="sparsejl:8", every=2, include="*.weight", exclude="2.*").attach(opt)
        seen, cap = recorder()
        train(model, opt, 5, cap)
        log.close()
        r = read_gtrace(self.path("e.gtrace"))
        self.assertEqual([s["step"] for s in r["steps"]], [0, 2, 4])
        self.assertEqual([t["name"] for t in r["doc"]["tensors"]], ["0.weight"])
        self.assertEqual(r["doc"]["sketch"]["s"], 8)
        with self.assertRaises(ValueError):
            self.Logger(model, self.path("x.gtrace"), include="nothing*")

        # Manual logging after optimizer.step(): the .grad of this step is still there.
        log = self.Logger(model, self.path("m.gtrace"), sketch="countsketch:8")
        seen2, cap2 = recorder()

        def after(kind, t, v):
            cap2(kind, t, v)
            if kind == "buf":
                log.log(10 + t, loss=float(t))

        train(model, opt, 2, after)
        log.close()
        r = read_gtrace(self.path("m.gtrace"))
        self.assertEqual([(s["step"], s["loss"]) for s in r["steps"]], [(10, 0.0), (11, 1.0)])
        g = seen2["grad"][1]["2.bias"]
        np.testing.assert_allclose(r["steps"][1]["values"][("2.bias", 0)], sketch_numpy(SketchSpec.parse("countsketch:8"), 0, "2.bias", g), rtol=1e-6)

    def test_resume_continues_the_step_numbering(self):
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        p = self.path("r.gtrace")
        log = self.Logger(model, p, sketch="countsketch:8").attach(opt)
        train(model, opt, 3, lambda *a: None)
        log.close()
        log = self.Logger(model, p, sketch="countsketch:8", mode="resume").attach(opt)
        self.assertEqual(log.step, 3)
        train(model, opt, 2, lambda *a: None)
        log.close()
        self.assertEqual([s["step"] for s in read_gtrace(p)["steps"]], [0, 1, 2, 3, 4])
        with self.assertRaises(Exception):  # another sketch than the file's
            self.Logger(model, p, sketch="countsketch:16", mode="resume")

    def test_wrapped_models_log_plain_names_and_schedulers_are_undisturbed(self):
        from gradtrace_log.logger import clean_name

        self.assertEqual(clean_name("module._fsdp_wrapped_module.layer.0.weight"), "layer.0.weight")
        self.assertEqual(clean_name("encoder.module.x"), "encoder.x")
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        a = self.Logger(model, self.path("a.gtrace")).attach(opt)
        b = self.Logger(model, self.path("b.gtrace"), sketch="countsketch:8").attach(opt)  # two loggers, one optimizer
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "lr_scheduler.step() before optimizer.step()" would be raised here
            for _ in range(3):
                train(model, opt, 1, lambda *x: None)
                sched.step()
        a.close()  # not in LIFO order: a's wrapper stays inside b's as a pass-through
        train(model, opt, 1, lambda *x: None)
        b.close()
        train(model, opt, 1, lambda *x: None)
        ra, rb = read_gtrace(self.path("a.gtrace")), read_gtrace(self.path("b.gtrace"))
        self.assertEqual([s["lr"] for s in ra["steps"]], [0.1, 0.05, 0.025])
        self.assertEqual(len(rb["steps"]), 4)

if __name__ == "__main__":
    unittest.main()


@needs_torch
class FsdpShardsTest(unittest.TestCase):
    def test_maps_flat_parameter_metadata_to_global_offsets(self):
        from gradtrace_log import fsdp_shards

        # A stand-in for torch 1.13's FlatParameter on rank 1 of 2: params a (2×3) and b (4) flattened to 10 numbers,
        # chunk [5, 9] → a's elements 5..5 and b's 0..3 (both inclusive, as FSDP records them).
        class Flat(torch.nn.Parameter):
            pass

        fp = Flat(torch.zeros(5))
        fp._param_infos = (("weight", None, "enc"), ("bias", None, "enc"))
        fp._shapes = (torch.Size([2, 3]), torch.Size([4]))
        fp._shard_indices = (0, 1)
        fp._shard_param_offsets = [(5, 5), (0, 3)]
        root = torch.nn.Module()
        root._flat_param = fp
        self.assertEqual(
            fsdp_shards(root),
            [("enc.weight", (2, 3), 5, fp, 0, 1), ("enc.bias", (4,), 0, fp, 1, 5)],
        )
        del fp._shard_param_offsets
        with self.assertRaises(RuntimeError):
            fsdp_shards(root)
