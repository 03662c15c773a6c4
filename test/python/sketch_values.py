"""Writes, for the cross-language test, one full trace of some tensors' values and one sketched trace per sketch spec,
sketched by GradientLogger with torch (the logger's own code path). Usage: sketch_values.py OUT_DIR SEED.

Two value sets: "int" (small integers: every float32 partial sum is exact, so the sketches must match exactly up to
the sparse-JL scale 1/√s) and "float" (standard normal float32)."""
import json
import os
import sys

import numpy as np
import torch

from gradtrace_log import GradientLogger

out, seed = sys.argv[1], int(sys.argv[2])
SPECS = ["countsketch:64", "countsketch:100", "sparsejl:64", "sparsejl:24"]
SHAPES = {"embed.weight": (300, 50), "blocks.0.attn.qkv.weight": (96, 32), "blocks.0.ln.bias": (32,), "héad.w": (7,)}
rng = np.random.default_rng(seed)
written = []
for kind in ("int", "float"):
    values = {
        n: (rng.integers(-8, 9, s) if kind == "int" else rng.standard_normal(s)).astype(np.float32)
        for n, s in SHAPES.items()
    }
    params = {n: torch.nn.Parameter(torch.zeros(*s)) for n, s in SHAPES.items()}
    for n, p in params.items():
        p.grad = torch.from_numpy(values[n].copy())
    for spec in [None, *SPECS]:
        name = f"{kind}-{'full' if spec is None else spec.replace(':', '-')}.gtrace"
        log = GradientLogger(None, os.path.join(out, name), sketch=spec, seed=seed, shards=[(n, p.shape, 0, p) for n, p in params.items()])
        log.log(0)
        log.close()
        written.append({"values": kind, "sketch": spec, "file": name})
print(json.dumps(written))
