"""Trains a small MLP on synthetic data (a random teacher's labels) with GradientLogger attached, for the TypeScript
tests. Usage:

    train_mlp.py OUT_DIR --sizes 784,1536,512,10 --steps 60 [--sketch countsketch:512] [--full] [--matrix-sketch 32]
                 [--momentum] [--optimizer sgd|adam] [--seed 0]

Writes OUT_DIR/sketch.gtrace (with --sketch) and OUT_DIR/full.gtrace (with --full): two loggers on one optimizer,
so both record exactly the same run. Prints a JSON line {params, steps, bytes: {sketch, full}}."""
import argparse
import json
import os

import torch

from gradtrace_log import GradientLogger

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--sizes", default="784,1536,512,10")
ap.add_argument("--steps", type=int, default=60)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--sketch")
ap.add_argument("--full", action="store_true")
ap.add_argument("--matrix-sketch", type=int)
ap.add_argument("--momentum", action="store_true")
ap.add_argument("--optimizer", default="sgd")
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()

torch.manual_seed(a.seed)
torch.set_num_threads(2)
sizes = [int(x) for x in a.sizes.split(",")]
layers = []
for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
    layers.append(torch.nn.Linear(n_in, n_out))
    if i < len(sizes) - 2:
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
teacher = torch.nn.Linear(sizes[0], sizes[-1])
opt = (
    torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    if a.optimizer == "sgd"
    else torch.optim.Adam(model.parameters(), lr=1e-3)
)
os.makedirs(a.out, exist_ok=True)
loggers = {}
common = dict(seed=a.seed, momentum=a.momentum, matrix_sketch=a.matrix_sketch)
if a.sketch:
    loggers["sketch"] = GradientLogger(model, os.path.join(a.out, "sketch.gtrace"), sketch=a.sketch, **common).attach(opt)
if a.full:
    loggers["full"] = GradientLogger(model, os.path.join(a.out, "full.gtrace"), fsync="close", **common).attach(opt)
gen = torch.Generator().manual_seed(a.seed + 1)
for step in range(a.steps):
    x = torch.randn(a.batch, sizes[0], generator=gen)
    y = teacher(x).argmax(1)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    for log in loggers.values():
        log.note_loss(loss)
    opt.step()
for log in loggers.values():
    log.close()
print(json.dumps({
    "params": sum(p.numel() for p in model.parameters()),
    "steps": a.steps,
    "bytes": {k: log.bytes_written for k, log in loggers.items()},
}))
