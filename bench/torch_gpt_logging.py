"""Cost of gradient logging on a GPT-2-small-shaped model (PyTorch CPU), for bench/python-logger.bench.ts.

Modes, timed in interleaved rounds so machine-load drift hits them alike: no logging; GradientLogger with
countsketch:1024; countsketch:1024 + matrix_sketch=32; full gradients. One warm-up step per mode first (it builds
the sketch's hash tables and Ω, one-time state). Every step is timed in wall time and in this process's CPU time
(all threads; run with OMP_WAIT_POLICY=PASSIVE so waiting threads do not spin), and the time spent inside the
logger's hooks is measured separately — on a shared machine the difference of two step times is mostly noise, the
hooks' own time is not. Prints one JSON line:
{params, threads, tokens, modes: {mode: {wall_s: [...], cpu_s: [...], hook_wall_s: [...], hook_cpu_s: [...],
bytes_per_step}}, state_bytes: {...}}.

Usage: torch_gpt_logging.py [--layers 12 --width 768 --heads 12 --vocab 50257 --seq 256 --batch 4] [--rounds 3]
                            [--threads 2] [--dir /tmp]"""
import argparse
import json
import os
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))

from gradtrace_log import GradientLogger  # noqa: E402
from torch_gpt_sketched import GPT  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--layers", type=int, default=12)
ap.add_argument("--width", type=int, default=768)
ap.add_argument("--heads", type=int, default=12)
ap.add_argument("--vocab", type=int, default=50257)
ap.add_argument("--seq", type=int, default=256)
ap.add_argument("--batch", type=int, default=4)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--dir", default=tempfile.gettempdir())
a = ap.parse_args()

torch.manual_seed(0)
torch.set_num_threads(a.threads)
model = GPT(a.vocab, a.layers, a.heads, a.width, a.seq)
opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
n_params = sum(p.numel() for p in model.parameters())
work = tempfile.mkdtemp(prefix="gt-gpt-bench-", dir=a.dir)
modes = {
    "none": None,
    "countsketch:1024": dict(sketch="countsketch:1024"),
    "countsketch:1024 + matrix_sketch=32": dict(sketch="countsketch:1024", matrix_sketch=32),
    "full gradients": dict(sketch=None),
}
loggers = {m: (GradientLogger(model, os.path.join(work, f"{i}.gtrace"), **kw) if kw is not None else None) for i, (m, kw) in enumerate(modes.items())}
gen = torch.Generator().manual_seed(1)
times = {m: {"wall_s": [], "cpu_s": [], "hook_wall_s": [], "hook_cpu_s": []} for m in modes}
logged = {m: 0 for m in modes}


hook_time = {"wall": 0.0, "cpu": 0.0}


def timed(fn):
    def wrapper(*args, **kwargs):
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            hook_time["wall"] += time.perf_counter() - w
            hook_time["cpu"] += time.process_time() - c

    return wrapper


for log in loggers.values():
    if log is not None:
        log._before_step = timed(log._before_step)
        log._after_step = timed(log._after_step)


def step(mode):
    log = loggers[mode]
    if log is not None:
        log.attach(opt)
    x = torch.randint(a.vocab, (a.batch, a.seq), generator=gen)
    hook_time["wall"] = hook_time["cpu"] = 0.0
    w, c = time.perf_counter(), time.process_time()
    loss = model(x[:, :-1], x[:, 1:])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    if log is not None:
        log.detach()
        logged[mode] += 1
    return wall, cpu, hook_time["wall"], hook_time["cpu"]


try:
    for mode in modes:  # warm-up: one-time hash tables, Ω, allocator
        step(mode)
    for _ in range(a.rounds):
        for mode in modes:
            for key, v in zip(("wall_s", "cpu_s", "hook_wall_s", "hook_cpu_s"), step(mode)):
                times[mode][key].append(v)
    out = {
        "params": n_params,
        "threads": a.threads,
        "tokens": a.batch * (a.seq - 1),
        "modes": {},
        "state_bytes": {},
    }
    for mode in modes:
        log = loggers[mode]
        out["modes"][mode] = {
            **times[mode],
            "bytes_per_step": (log.bytes_written / logged[mode]) if log is not None else 0,
        }
        if log is not None:
            sk = log._sketcher.cached_bytes if log._sketcher is not None else 0
            om = sum(t.numel() * 4 for t in log._ranger._omega.values()) if log._ranger is not None else 0
            out["state_bytes"][mode] = {"hash_tables": sk, "omega": om}
    print(json.dumps(out))
finally:
    for log in loggers.values():
        if log is not None:
            log.close()
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    os.rmdir(work)
