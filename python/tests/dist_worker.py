"""One rank of the distributed tests (run by test_distributed.py as 2 processes, gloo on 127.0.0.1).

    python -m tests.dist_worker MODE OUT_PATH        with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set

MODE "ddp": a DistributedDataParallel MLP, each rank training on its half of every batch; rank 0 writes the trace.
MODE "shard": tensors split across the ranks at uneven, row-misaligned offsets (one tensor held by rank 1 only),
gradients set by hand; every rank sketches its pieces and the logger reduces them to rank 0.
MODE "shard-full": the same pieces in full-gradient mode.
The single-process references are computed by the test itself with the functions below.
"""
import os
import sys

import torch
import torch.distributed as dist

from gradtrace_log import GradientLogger

STEPS = 3
SHAPES = {"emb.weight": (10, 7), "proj.weight": (5, 6), "proj.bias": (5,), "solo": (4, 3)}


def batches(step, world):
    g = torch.Generator().manual_seed(100 + step)
    x = torch.randn(8 * world, 12, generator=g)
    y = torch.randint(0, 3, (8 * world,), generator=g)
    return x, y


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(12, 10), torch.nn.Tanh(), torch.nn.Linear(10, 3))


def full_grads(step):
    """The gradient every tensor has at `step` in the sharded modes."""
    g = torch.Generator().manual_seed(1000 + step)
    return {n: torch.randn(*s, generator=g) for n, s in SHAPES.items()}


def pieces(rank, world):
    """(name, full shape, offset, count) this rank holds: splits at uneven offsets that cut rows apart."""
    out = []
    for n, s in SHAPES.items():
        total = 1
        for d in s:
            total *= d
        if n == "solo":
            if rank == world - 1:
                out.append((n, s, 0, total))
            continue
        cut = total // 2 + 3 if n != "proj.bias" else 1
        out.append((n, s, 0, cut) if rank == 0 else (n, s, cut, total - cut))
    return out


def main():
    mode, path = sys.argv[1], sys.argv[2]
    dist.init_process_group("gloo", init_method="env://")
    rank, world = dist.get_rank(), dist.get_world_size()
    if mode == "ddp":
        net = torch.nn.parallel.DistributedDataParallel(model())
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        log = GradientLogger(net, path, sketch="countsketch:16", seed=4, momentum=True, matrix_sketch=3).attach(opt)
        for step in range(STEPS):
            x, y = batches(step, world)
            mine = slice(rank * 8, (rank + 1) * 8)
            loss = torch.nn.functional.cross_entropy(net(x[mine]), y[mine])
            opt.zero_grad()
            loss.backward()
            opt.step()
        log.close()
    else:
        params = []
        shards = []
        for n, s, off, count in pieces(rank, world):
            p = torch.nn.Parameter(torch.zeros(count))
            params.append((n, off, count, p))
            shards.append((n, s, off, p))
        log = GradientLogger(
            None, path, sketch=None if mode == "shard-full" else "sparsejl:16", seed=4, shards=shards, matrix_sketch=3
        )
        for step in range(STEPS):
            full = full_grads(step)
            for n, off, count, p in params:
                p.grad = full[n].reshape(-1)[off : off + count].clone()
            log.log(step, loss=float(step))
        log.close()
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
