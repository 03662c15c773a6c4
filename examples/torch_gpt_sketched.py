"""A small GPT trained on the bundled text with gradtrace's gradient logger attached: every step's gradients are
sketched where they live (CountSketch, k numbers per tensor) together with range sketches of the weight matrices,
so the run can be analysed — or followed live — with gradtrace while it trains.

    PYTHONPATH=python python3 examples/torch_gpt_sketched.py --steps 300 --out runs/gpt.gtrace
    npx gradtrace analyze runs/gpt.gtrace            # κ, r*(ε), layer geometry, each with its error bound
    npx gradtrace serve runs/                        # the dashboard, following the file as it grows

Text: node_modules/commander/Readme.md (installed with gradtrace's npm dependencies; MIT licence), character level;
falls back to the repository's README.md. Needs torch (Debian: apt-get install python3-torch) and numpy.
The GPT class is also the model of bench/torch_gpt_logging.py (GPT-2-small shape there)."""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

from gradtrace_log import GradientLogger  # noqa: E402


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.fc_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.shape[-1])
        mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc_proj(F.gelu(self.fc(self.ln_2(x))))


class GPT(nn.Module):
    """GPT-2 layout (pre-norm blocks, learned positions, tied input/output embedding)."""

    def __init__(self, vocab, n_layer, n_head, n_embd, block):
        super().__init__()
        self.block = block
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block, n_embd)
        self.h = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, idx, targets=None):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for blk in self.h:
            x = blk(x)
        logits = self.ln_f(x) @ self.wte.weight.T
        if targets is None:
            return logits
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def load_text():
    for path in (os.path.join(HERE, "..", "node_modules", "commander", "Readme.md"), os.path.join(HERE, "..", "README.md")):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return "".join(ch if 32 <= ord(ch) < 127 or ch == "\n" else "?" for ch in f.read()), path
    raise SystemExit("no text found (run `npm ci` to install node_modules/commander)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="runs/gpt.gtrace", help="trace file to write (refused if it exists, see --force)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--sketch", default="countsketch:1024", help='sketch spec, or "none" for full gradients')
    ap.add_argument("--matrix-sketch", type=int, default=32, help="columns s of the range sketches (0: none)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="overwrite an existing trace")
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    text, source = load_text()
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = GPT(len(chars), a.layers, a.heads, a.width, a.block).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    log = GradientLogger(
        model,
        a.out,
        sketch=None if a.sketch == "none" else a.sketch,
        seed=a.seed,
        matrix_sketch=a.matrix_sketch or None,
        momentum=True,
        mode="overwrite" if a.force else "create",
        meta={"example": "torch_gpt_sketched", "text": os.path.relpath(source, os.path.join(HERE, ".."))},
    )
    log.attach(opt)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"GPT {a.layers}×{a.width}, {n_params} parameters, {len(text)} characters of {os.path.basename(source)}, on {device}")
    gen = torch.Generator().manual_seed(a.seed)
    started = time.time()
    for step in range(a.steps):
        ix = torch.randint(len(data) - a.block - 1, (a.batch,), generator=gen)
        x = torch.stack([data[i : i + a.block] for i in ix]).to(device)
        y = torch.stack([data[i + 1 : i + a.block + 1] for i in ix]).to(device)
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        log.note_loss(loss)
        opt.step()
        if step % 50 == 0 or step == a.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.3f}  {time.time() - started:6.1f} s")
    log.close()
    print(f"wrote {a.out}: {log.bytes_written} bytes ({log.bytes_written / a.steps / 1024:.1f} KiB per step)")
    print(f"next: npx gradtrace analyze {a.out}")


if __name__ == "__main__":
    main()
