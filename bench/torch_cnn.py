"""Optional PyTorch CPU reference for bench/zoo.bench.ts: the zoo's `cnn` model (same layers, shapes, batch 32,
Adam lr 2e-3) on random MNIST-shaped data, timing full training steps (forward, backward, optimizer, gradients
copied to host numpy like gradtrace's logger does). Runs only where `python3 -c "import torch"` works; prints one
JSON line {"steps_per_s": ..., "threads": ...}. The figure of interest is gradtrace's CNN steps/s divided by this,
measured on the same machine with the same thread count (goal: within 3x).

Usage: python3 bench/torch_cnn.py [--threads N] [--steps N]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(7 * 7 * 16, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        # NHWC flattening order like the zoo model (only matters for weight layout, not for timing).
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return self.fc2(F.relu(self.fc1(x)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Cnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.rand(args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch,))
    def step() -> None:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        _ = [p.grad.detach().numpy().copy() for p in model.parameters()]
        opt.step()
    for _ in range(10):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    dt = time.perf_counter() - t0
    print(json.dumps({"steps_per_s": args.steps / dt, "threads": args.threads, "batch": args.batch}))


if __name__ == "__main__":
    main()
