"""Real torch.distributed (gloo, 2 processes on 127.0.0.1): a DDP run and a manually sharded run write the same
trace as a single process computing the same gradients — the sketch of a tensor is the sum of its shards' sketches."""
import os
import subprocess
import sys
import unittest

import numpy as np

from gradtrace_log import read_gtrace

from .util import free_port, needs_torch, repo_python_dir, tmpdir, torch

WORLD = 2


def run_ranks(mode, path):
    port = free_port()
    procs = []
    for rank in range(WORLD):
        env = dict(
            os.environ,
            RANK=str(rank),
            WORLD_SIZE=str(WORLD),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            PYTHONPATH=repo_python_dir(),
            OMP_NUM_THREADS="1",
            GLOO_SOCKET_IFNAME="lo",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.dist_worker", mode, path],
                cwd=repo_python_dir(),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=180)
            outputs.append(out)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for rank, (p, out) in enumerate(zip(procs, outputs)):
        if p.returncode != 0:
            raise AssertionError(f"rank {rank} of {mode} failed ({p.returncode}):\n{out}")


def assert_same_trace(test, got, ref, rtol, atol):
    test.assertEqual(got["doc"]["tensors"], ref["doc"]["tensors"])
    test.assertEqual(got["doc"].get("sketch"), ref["doc"].get("sketch"))
    test.assertEqual(got["doc"].get("rangeSketch"), ref["doc"].get("rangeSketch"))
    test.assertEqual([s["step"] for s in got["steps"]], [s["step"] for s in ref["steps"]])
    for a, b in zip(got["steps"], ref["steps"]):
        test.assertEqual(sorted(a["values"]), sorted(b["values"]))
        for key in b["values"]:
            np.testing.assert_allclose(a["values"][key], b["values"][key], rtol=rtol, atol=atol, err_msg=str(key))


@needs_torch
class DistributedTest(unittest.TestCase):
    def setUp(self):
        if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
            self.skipTest("torch.distributed with gloo is not available")
        from gradtrace_log import GradientLogger

        from . import dist_worker

        self.Logger, self.w, self.dir = GradientLogger, dist_worker, tmpdir(self)

    def test_ddp_equals_single_process(self):
        path = os.path.join(self.dir, "ddp.gtrace")
        run_ranks("ddp", path)
        # Single process: the whole batch with a mean loss gives the gradient DDP averages over the two halves.
        net = self.w.model()
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        ref_path = os.path.join(self.dir, "single.gtrace")
        log = self.Logger(net, ref_path, sketch="countsketch:16", seed=4, momentum=True, matrix_sketch=3).attach(opt)
        for step in range(self.w.STEPS):
            x, y = self.w.batches(step, WORLD)
            loss = torch.nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        log.close()
        got, ref = read_gtrace(path), read_gtrace(ref_path)
        self.assertEqual(got["doc"]["meta"]["world"], WORLD)
        # Same gradients up to the all-reduce's float32 rounding (and its effect on later steps' parameters).
        assert_same_trace(self, got, ref, rtol=1e-4, atol=1e-6)

    def test_sharded_pieces_reduce_to_the_single_process_sketch(self):
        for mode, sketch in (("shard", "sparsejl:16"), ("shard-full", None)):
            path = os.path.join(self.dir, f"{mode}.gtrace")
            run_ranks(mode, path)
            ref_path = os.path.join(self.dir, f"{mode}-single.gtrace")
            params = {n: torch.nn.Parameter(torch.zeros(*s)) for n, s in self.w.SHAPES.items()}
            log = self.Logger(None, ref_path, sketch=sketch, seed=4, matrix_sketch=3, shards=[(n, p.shape, 0, p) for n, p in params.items()])
            for step in range(self.w.STEPS):
                for n, g in self.w.full_grads(step).items():
                    params[n].grad = g.clone()
                log.log(step, loss=float(step))
            log.close()
            got, ref = read_gtrace(path), read_gtrace(ref_path)
            self.assertEqual([s["loss"] for s in got["steps"]], [0.0, 1.0, 2.0])
            assert_same_trace(self, got, ref, rtol=1e-5, atol=1e-6)


if __name__ == "__main__":
    unittest.main()
