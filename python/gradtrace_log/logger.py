"""GradientLogger: logs a PyTorch model's gradients (sketched where they live, or in full) into a .gtrace file.

    log = GradientLogger(model, "runs/exp1.gtrace", sketch="countsketch:1024", seed=0)
    log.attach(optimizer)      # logs the gradients of every optimizer.step()
    ...                        # train as usual
    log.close()

Per logged step and tensor the record holds S·g (k numbers) in sketch mode, or g itself in full mode; with
``matrix_sketch=s`` also Y = G·Ω (rows × s) for each matrix-shaped tensor, and with ``momentum=True`` the optimizer's
momentum buffer (SGD ``momentum_buffer``, Adam/AdamW ``exp_avg``) after the step, sketched with the same S.

Distributed runs. The logger is created on every rank (collectively: the constructor exchanges tensor names when
shards are involved). Parameters of the model are taken as replicated (DDP: after backward every rank holds the
all-reduced gradient), so only rank 0 reads them. Sharded tensors — pieces a rank holds of a larger tensor, given as
``shards=[(name, full_shape, offset, param)]`` (the flattened C-order coordinates [offset, offset + param.numel())
of tensor `name`; ``param.grad`` holds their gradient) or ``(name, full_shape, offset, param, lo, hi)`` for a range
[lo, hi) of a flat parameter (``fsdp_shards`` builds these for FSDP) — are sketched by every rank at their global
offsets; because sketches are linear, the sum over ranks (one ``reduce`` to rank 0 per logged step) is the sketch of
the whole tensor, bit-for-bit the same sketch as a single process would compute up to float32 summation order.
Only rank 0 writes the file.
"""
import functools
import re

import numpy as np

from . import __version__
from ._hash import tensor_seed
from .gtrace import ClosingContext, GtraceWriter
from ._header import numel, range_header, range_targets, sketch_header, stored_tensors
from .rangesketch import TorchRangeSketch
from .sketch import SketchSpec, TorchHashingSketch

#: Optimizer state keys that hold the first moment / momentum (SGD, Adam, AdamW, RMSprop with momentum, Lion).
MOMENTUM_KEYS = ("momentum_buffer", "exp_avg")
#: Prefixes that wrappers add to parameter names; stripped so a wrapped model logs the same names (and sketches).
WRAPPER_PREFIXES = ("module.", "_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.")


def compile_pattern(pattern):
    """A glob (``*`` any run of characters, ``?`` one character; anchored) or a ``/regex/flags`` pattern (searched
    anywhere), the semantics of ``gradtrace analyze --tensors`` (compilePattern in src/analysis/select.ts)."""
    m = re.fullmatch(r"/(.*)/([a-z]*)", pattern)
    if m:
        return re.compile(m.group(1), re.I if "i" in m.group(2) else 0)
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")


def select_names(names, include=None, exclude=None):
    """Names kept by the include patterns (all when none) minus the exclude patterns; an error when none is left."""
    inc = [compile_pattern(p) for p in ([include] if isinstance(include, str) else include or [])]
    exc = [compile_pattern(p) for p in ([exclude] if isinstance(exclude, str) else exclude or [])]
    kept = [n for n in names if (not inc or any(r.search(n) for r in inc)) and not any(r.search(n) for r in exc)]
    if not kept:
        shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
        raise ValueError(f"no tensor matches include={include!r} exclude={exclude!r}; the model has: {shown}")
    return kept


def clean_name(name):
    changed = True
    while changed:
        changed = False
        for p in WRAPPER_PREFIXES:
            if name.startswith(p):
                name, changed = name[len(p) :], True
            name = name.replace("." + p, ".")
    return name


class _Piece:
    """A contiguous run of one tensor's flattened coordinates held by this process: global coordinates
    [offset, offset + hi − lo) of tensor `name` are param.grad.reshape(-1)[lo:hi]."""

    __slots__ = ("name", "shape", "offset", "param", "lo", "hi", "replicated")

    def __init__(self, name, shape, offset, param, lo, hi, replicated):
        self.name, self.shape, self.offset = name, tuple(int(d) for d in shape), int(offset)
        self.param, self.lo, self.hi, self.replicated = param, int(lo), int(hi), replicated

    def flat(self, t):
        return t.detach().reshape(-1)[self.lo : self.hi]


def fsdp_shards(fsdp_module):
    """Shards of every FSDP FlatParameter under `fsdp_module` as (name, full_shape, offset, flat_param, lo, hi) for
    GradientLogger(shards=...). Reads the FlatParameter metadata of torch 1.13 (``_param_infos``, ``_shapes``,
    ``_shard_indices``, ``_shard_param_offsets``) and raises when a FlatParameter lacks it (other torch versions name
    it differently: build the tuples from your version's metadata then). Untested against a real FSDP run: FSDP
    cannot be imported with Debian's torch 1.13 on Python 3.11, and needs CUDA there; the generic shards path it
    feeds is tested with real torch.distributed. Call after wrapping, before training."""
    out = []
    for mod_name, mod in fsdp_module.named_modules():
        fp = getattr(mod, "_flat_param", None)
        if fp is None:
            fp = getattr(mod, "flat_param", None)
        if fp is None:
            continue
        missing = [a for a in ("_param_infos", "_shapes", "_shard_indices", "_shard_param_offsets") if not hasattr(fp, a)]
        if missing:
            raise RuntimeError(
                f"fsdp_shards: the FlatParameter of {mod_name or 'the root module'} has no {', '.join(missing)} "
                f"(torch {__import__('torch').__version__}); pass shards=[(name, full_shape, offset, param, lo, hi)] built from "
                "your FSDP version's metadata"
            )
        prefix = clean_name(mod_name)
        if len(fp._shard_param_offsets) == 0:
            continue  # this rank holds no part of this flat parameter
        first, last = fp._shard_indices
        local = 0
        for i in range(first, last + 1):
            pname, _, sub_prefix = fp._param_infos[i]  # (param name, module, module prefix)
            start, end = fp._shard_param_offsets[i - first]  # inclusive range inside the original parameter
            full = ".".join(x for x in (prefix, clean_name(sub_prefix), pname) if x)
            count = end - start + 1
            out.append((full, tuple(fp._shapes[i]), start, fp, local, local + count))
            local += count
    return out


class GradientLogger(ClosingContext):
    """See the module docstring. Options:

    sketch: "countsketch:1024", "sparsejl:512" (or "sparsejl:512:4" for 4 nonzeros per column), or None for full
      gradients. seed: the sketches' seed (with the tensor name it determines every sketch; docs/trace-format.md).
    every: log every N-th optimizer step (steps 0, N, 2N, …). include / exclude: glob or /regex/ patterns on tensor
      names. matrix_sketch: s, to log Y = G·Ω (rows × s) for matrix-shaped tensors with at most matrix_max_rows rows.
    momentum: also log the optimizer's momentum / first-moment buffers (sketched with the same S in sketch mode).
    fsync: "record" (default), "close" or "none" (see GtraceWriter). mode: "create" (default, refuses an existing
      file), "overwrite", or "resume" (append after the last complete record; step numbering continues from there).
    shards: pieces of sharded tensors this rank holds (module docstring). process_group: for the reduce (default:
      the world). cache_bytes: device memory the sketch may keep for its hash tables (default 1 GiB; beyond it the
      bins are recomputed every step). meta: JSON-serialisable run metadata stored in the header."""

    def __init__(
        self,
        model,
        path,
        sketch=None,
        seed=0,
        *,
        every=1,
        include=None,
        exclude=None,
        matrix_sketch=None,
        matrix_max_rows=8192,
        momentum=False,
        fsync="record",
        mode="create",
        shards=None,
        process_group=None,
        cache_bytes=1 << 30,
        meta=None,
    ):
        import torch

        self.torch = torch
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.path, self.every, self.seed, self.momentum = path, every, seed, momentum
        self.spec = SketchSpec.parse(sketch) if sketch is not None else None
        self._sketcher = TorchHashingSketch(self.spec, seed, cache_bytes) if self.spec else None
        self._ranger = TorchRangeSketch(matrix_sketch, seed) if matrix_sketch is not None else None

        # Distributed context.
        dist = torch.distributed
        self._dist = dist if dist.is_available() and dist.is_initialized() else None
        self._group = process_group
        self.rank = self._dist.get_rank(process_group) if self._dist else 0
        self.world = self._dist.get_world_size(process_group) if self._dist else 1

        self._pieces = self._collect_pieces(model, shards or [], include, exclude)
        self._reduce = self.world > 1 and any(not p.replicated for p in self._pieces)
        self._tensors = self._global_tensors(include, exclude)
        self._ranges = range_targets(self._tensors, matrix_max_rows) if self._ranger is not None else {}
        self._layout()

        self.optimizer = None
        self._restore = None
        self._wrapper = None
        self._handles = []
        self._pending = None
        self._loss = None
        self.step = 0
        self.bytes_written = 0
        self.writer = None
        failure = None
        if self.rank == 0:
            try:
                self.writer = GtraceWriter(
                    path,
                    stored_tensors(self.spec, self._tensors),
                    meta={
                        "logger": f"gradtrace_log {__version__}",
                        "torch": torch.__version__,
                        "world": self.world,
                        "every": every,
                        **({"model": type(model).__name__} if model is not None else {}),
                        **(meta or {}),
                    },
                    sketch=sketch_header(self.spec, seed, self._tensors),
                    range_sketch=range_header(matrix_sketch, seed, self._ranges),
                    fsync=fsync,
                    mode=mode,
                )
                self.step = self.writer.last_step + 1
            except Exception as err:  # tell the other ranks before raising, so they do not wait forever
                failure, self.step = err, -1
        if self._dist is not None and self.world > 1:
            # Every rank continues the step numbering from where rank 0's (possibly resumed) file stands.
            t = torch.tensor([self.step], dtype=torch.int64, device=self._collective_device())
            self._dist.broadcast(t, 0, group=self._group)
            self.step = int(t.item())
        if failure is not None:
            raise failure
        if self.step < 0:
            raise RuntimeError(f"GradientLogger: rank 0 could not open {path} (see its error)")

    def _collective_device(self):
        """Device of small control tensors: NCCL only moves CUDA tensors."""
        if self._dist.get_backend(self._group) == "nccl":
            return self.torch.device("cuda", self.torch.cuda.current_device())
        return self.torch.device("cpu")

    # ----- tensors -------------------------------------------------------------------------------------------------

    def _collect_pieces(self, model, shards, include, exclude):
        pieces, sharded_params = [], set()
        for sh in shards:
            if len(sh) == 4:
                name, shape, offset, param = sh
                lo, hi = 0, param.numel()
            elif len(sh) == 6:
                name, shape, offset, param, lo, hi = sh
            else:
                raise ValueError(f"shards entries are (name, full_shape, offset, param) or (…, lo, hi); got {len(sh)} fields")
            full = numel(shape)
            if offset < 0 or offset + (hi - lo) > full:
                raise ValueError(f"shard of {name}: coordinates [{offset}, {offset + hi - lo}) are outside its {full} elements")
            sharded_params.add(id(param))
            pieces.append(_Piece(name, shape, offset, param, lo, hi, replicated=False))
        if model is not None:
            flat = [n for n, p in model.named_parameters() if type(p).__name__ == "FlatParameter" and id(p) not in sharded_params]
            if flat:
                raise ValueError(
                    f"the model holds FSDP flat parameters ({', '.join(flat[:3])}): pass shards=fsdp_shards(model) "
                    "so each rank logs its shard of every original parameter"
                )
            for name, p in model.named_parameters():
                if not p.requires_grad or id(p) in sharded_params:
                    continue
                pieces.append(_Piece(clean_name(name), p.shape, 0, p, 0, p.numel(), replicated=True))
        names = list(dict.fromkeys(p.name for p in pieces))
        keep = set(select_names(names, include, exclude)) if names else set()
        return [p for p in pieces if p.name in keep]

    def _global_tensors(self, include, exclude):
        """[(name, full shape)] in a fixed order all ranks agree on."""
        local = list(dict.fromkeys((p.name, p.shape) for p in self._pieces))
        if self._reduce:
            gathered = [None] * self.world
            self._dist.all_gather_object(gathered, local, group=self._group)
            merged = {}
            for lst in gathered:
                for name, shape in lst:
                    if name in merged and merged[name] != tuple(shape):
                        raise ValueError(f"tensor {name}: ranks disagree on its shape ({merged[name]} vs {tuple(shape)})")
                    merged.setdefault(name, tuple(shape))
            local = list(merged.items())
        if not local:
            raise ValueError("no tensor to log: the model has no trainable parameter matching the selection and no shards were given")
        return local

    def _layout(self):
        """Offsets of every logged quantity in the one flat vector a step produces (and reduces across ranks)."""
        per = self.spec.k if self.spec else None
        self._slots, at = {}, 0
        for name, shape in self._tensors:
            n = per or numel(shape)
            self._slots[("g", name)] = (at, n)
            at += n
        for name, (rows, _) in self._ranges.items():
            self._slots[("r", name)] = (at, rows * self._ranger.s)
            at += rows * self._ranger.s
        self._grad_size = at
        self._mom_slots, at = {}, 0
        for name, shape in self._tensors:
            n = per or numel(shape)
            self._mom_slots[name] = (at, n)
            at += n
        self._mom_size = at

    # ----- hooks ---------------------------------------------------------------------------------------------------

    def attach(self, optimizer):
        """Logs before every optimizer.step() (the gradients it is about to use) and completes the record after it
        (momentum buffers, learning rate). Uses Optimizer.register_step_pre_hook / register_step_post_hook where
        torch has them (≥ 2.0) and wraps optimizer.step otherwise (torch 1.13)."""
        if self.optimizer is not None:
            raise RuntimeError("GradientLogger.attach: already attached to an optimizer")
        self.optimizer = optimizer
        if hasattr(optimizer, "register_step_pre_hook") and hasattr(optimizer, "register_step_post_hook"):
            self._handles = [
                optimizer.register_step_pre_hook(lambda opt, args, kwargs: self._before_step()),
                optimizer.register_step_post_hook(lambda opt, args, kwargs: self._after_step()),
            ]
        else:
            original = optimizer.step

            @functools.wraps(original)
            def step(*args, **kwargs):
                # After detach() this wrapper may still sit inside another one's chain: it then only passes through.
                live = self._wrapper is step
                if live:
                    self._before_step()
                out = original(*args, **kwargs)
                if live:
                    self._after_step()
                return out

            optimizer.step = step
            self._restore = original
            self._wrapper = step
        return self

    def detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []
        if self._restore is not None:
            # Unwrap only when ours is the outermost wrapper; otherwise ours stays in the chain as a pass-through.
            if self.optimizer.step is self._wrapper:
                self.optimizer.step = self._restore
            self._restore = None
            self._wrapper = None
        self.optimizer = None

    def note_loss(self, loss):
        """The loss of the current step, stored with its record (a tensor is read only when the record is written)."""
        self._loss = loss

    def _before_step(self):
        if self.step % self.every == 0:
            self._pending = (self.step, self._gather_grads())
        else:
            self._pending = None

    def _after_step(self):
        if self._pending is not None:
            step, vec = self._pending
            self._pending = None
            lr = self.optimizer.param_groups[0].get("lr") if self.optimizer is not None else None
            self._write(step, vec, self._gather_momentum() if self.momentum else None, lr)
        self.step += 1
        self._loss = None

    def log(self, step, loss=None, lr=None):
        """Logs the gradients now in .grad as step `step` (for loops that call it themselves; not needed with attach).
        Call it after optimizer.step() and before zero_grad() to log the momentum buffers of this step with them."""
        step = int(step)
        if loss is not None:
            self._loss = loss
        if self.optimizer is not None and lr is None:
            lr = self.optimizer.param_groups[0].get("lr")
        self._write(step, self._gather_grads(), self._gather_momentum() if self.momentum else None, lr)
        self.step = step + 1
        self._loss = None

    # ----- sketching -----------------------------------------------------------------------------------------------

    def _active(self, piece):
        # Replicated parameters are read on rank 0 only; shards on every rank.
        return self.rank == 0 or not piece.replicated

    def _device(self):
        for p in self._pieces:
            return p.param.device
        return self.torch.device("cpu")

    def _gather_grads(self):
        """One flat float32 vector on the model's device: every tensor's S·g (or g), then every range sketch."""
        torch = self.torch
        if self.rank != 0 and not self._reduce:
            return None
        dev = self._device()
        out = torch.zeros(self._grad_size, dtype=torch.float32, device=dev)
        accs = {}
        with torch.no_grad():
            for p in self._pieces:
                if not self._active(p) or p.param.grad is None:
                    continue  # a parameter without .grad (unused this step) contributes a zero gradient
                g = p.flat(p.param.grad)
                self._add(p, g, self._slots[("g", p.name)][0], out, accs, dev)
                if p.name in self._ranges:
                    rows, cols = self._ranges[p.name]
                    rat, rn = self._slots[("r", p.name)]
                    y = out[rat : rat + rn].view(rows, self._ranger.s)
                    if y.device == g.device:
                        self._ranger.accumulate(p.name, g, p.offset, rows, cols, y)
                    else:
                        tmp = torch.zeros((rows, self._ranger.s), dtype=torch.float32, device=g.device)
                        self._ranger.accumulate(p.name, g, p.offset, rows, cols, tmp)
                        y += tmp.to(dev)
            self._finish(accs, {name: self._slots[("g", name)] for name in accs}, out, dev)
        return out

    def _add(self, piece, flat, at, out, accs, dev):
        """Adds one piece's values (gradient or buffer) to the step vector: into its tensor's sketch accumulator in
        sketch mode, at its global offset in the tensor's slot (starting at `at`) in full mode."""
        if self._sketcher is None:
            out[at + piece.offset : at + piece.offset + flat.numel()] += flat.to(device=dev, dtype=self.torch.float32)
            return
        acc = accs.get(piece.name)
        if acc is None:
            acc = accs[piece.name] = self._sketcher.new_accumulator(flat.device)
        self._sketcher.accumulate(piece.name, flat, piece.offset, acc)

    def _finish(self, accs, slots, out, dev):
        """Writes each tensor's finished sketch S·x into its slot (at, k) of the step vector."""
        for name, acc in accs.items():
            at, n = slots[name]
            out[at : at + n] = self._sketcher.finish(acc).to(dev)

    def _state_of(self, param):
        if self.optimizer is None:
            return None
        st = self.optimizer.state.get(param)
        if not st:
            return None
        for key in MOMENTUM_KEYS:
            if key in st and st[key] is not None:
                return st[key]
        return None

    def _gather_momentum(self):
        torch = self.torch
        if self.optimizer is None:
            raise RuntimeError("momentum=True needs the optimizer: call attach(optimizer) first")
        if self.rank != 0 and not self._reduce:
            return None
        dev = self._device()
        out = torch.zeros(self._mom_size, dtype=torch.float32, device=dev)
        present = torch.zeros(len(self._tensors), dtype=torch.float32, device=dev)
        order = {n: i for i, (n, _) in enumerate(self._tensors)}
        accs = {}
        with torch.no_grad():
            for p in self._pieces:
                buf = self._state_of(p.param) if self._active(p) else None
                if buf is None:
                    continue
                present[order[p.name]] = 1.0
                self._add(p, p.flat(buf), self._mom_slots[p.name][0], out, accs, dev)
            self._finish(accs, self._mom_slots, out, dev)
        return torch.cat([out, present])

    def _reduced(self, vec):
        """Sum over ranks to rank 0 (gloo needs CPU tensors; NCCL device tensors)."""
        if not self._reduce:
            return vec
        dist = self._dist
        send = vec
        if dist.get_backend(self._group) == "gloo" and vec.device.type != "cpu":
            send = vec.cpu()
        dist.reduce(send, dst=0, op=dist.ReduceOp.SUM, group=self._group)
        return send

    def _write(self, step, grads, mom, lr):
        if grads is None and not self._reduce:
            return  # a non-zero rank of a replicated (DDP) run: nothing to contribute
        grads = self._reduced(grads)
        if mom is not None:
            mom = self._reduced(mom)
        if self.rank != 0:
            return
        g = grads.cpu().numpy()
        values = {name: g[at : at + n] for (kind, name), (at, n) in self._slots.items() if kind == "g"}
        ranges = {name: g[at : at + n] for (kind, name), (at, n) in self._slots.items() if kind == "r"}
        momentum = None
        if mom is not None:
            m = mom.cpu().numpy()
            flags = m[self._mom_size :]
            momentum = {
                name: m[at : at + n] for i, (name, (at, n)) in enumerate(self._mom_slots.items()) if flags[i] > 0
            }
        loss = self._loss
        if loss is not None and hasattr(loss, "item"):
            loss = loss.item()
        self.bytes_written += self.writer.append(step, values, loss=loss, lr=lr, momentum=momentum, ranges=ranges)

    def close(self):
        """Detaches from the optimizer and closes the file (fsync under the "record" and "close" policies)."""
        self.detach()
        if self.writer is not None:
            self.writer.close()

    @property
    def tensor_seeds(self):
        """{tensor name: seed of its sketch} (what the TypeScript side derives as tensorSketchSeed(seed, name))."""
        return {n: tensor_seed(self.seed, n) for n, _ in self._tensors}
