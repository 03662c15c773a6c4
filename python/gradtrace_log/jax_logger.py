"""Gradient logger for JAX (or any framework that hands out gradients as a pytree of arrays), numpy only: the same
sketches (CountSketch / sparse JL, name-seeded), range sketches and .gtrace output as the PyTorch GradientLogger, so
a JAX run and a PyTorch run of the same model are analysed the same way.

    from gradtrace_log.jax_logger import JaxGradientLogger
    log = JaxGradientLogger("runs/exp1.gtrace", sketch="countsketch:1024", seed=0)
    for step, batch in enumerate(data):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        log.log(step, grads, loss=float(loss))          # momentum=opt_state.mu to log Adam's first moment
        ...
    log.close()

Leaves are named by their path in the tree ("dense1.kernel", "layers.0.w"); arrays are pulled to the host with
np.asarray (JAX has no in-process hook like optimizer.step, and sketching a host copy costs O(p) per step).
The file is created at the first log() call, when the tensor names and shapes are known.
"""
import numpy as np

from . import __version__
from ._header import range_header, range_targets, sketch_header, stored_tensors
from .gtrace import ClosingContext, GtraceWriter
from .logger import select_names
from .rangesketch import range_sketch_numpy
from .sketch import SketchSpec, sketch_numpy


def flatten_tree(tree, prefix=""):
    """{dotted.path: leaf} for nested dicts / lists / tuples (also Flax/Haiku param trees and optax states built from
    them); dict keys are sorted so the order is stable."""
    if isinstance(tree, dict):
        items = sorted(tree.items(), key=lambda kv: str(kv[0]))
    elif isinstance(tree, (list, tuple)):
        items = list(enumerate(tree))
    else:
        return {prefix: tree}
    out = {}
    for key, sub in items:
        out.update(flatten_tree(sub, f"{prefix}.{key}" if prefix else str(key)))
    return out


class JaxGradientLogger(ClosingContext):
    """Options as GradientLogger's: sketch, seed, every, include, exclude, matrix_sketch, matrix_max_rows, fsync,
    mode, meta. log(step, grads, loss=None, lr=None, momentum=None) takes the gradient pytree (and optionally the
    optimizer's first-moment pytree, same structure) of one step."""

    def __init__(self, path, sketch=None, seed=0, *, every=1, include=None, exclude=None, matrix_sketch=None,
                 matrix_max_rows=8192, fsync="record", mode="create", meta=None):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if matrix_sketch is not None and (not isinstance(matrix_sketch, int) or matrix_sketch < 1):
            raise ValueError(f"matrix_sketch must be a positive integer number of columns s, got {matrix_sketch!r}")
        self.path, self.seed, self.every = path, seed, every
        self.spec = SketchSpec.parse(sketch) if sketch is not None else None
        self.include, self.exclude = include, exclude
        self.matrix_sketch, self.matrix_max_rows = matrix_sketch, matrix_max_rows
        self.fsync, self.mode, self.meta = fsync, mode, meta
        self.writer = None
        self.names = None
        self.bytes_written = 0

    def _open(self, leaves):
        names = select_names(list(leaves), self.include, self.exclude)
        self.names = names
        self.tensors = [(n, tuple(np.shape(leaves[n]))) for n in names]
        self.ranges = range_targets(self.tensors, self.matrix_max_rows) if self.matrix_sketch else {}
        self.writer = GtraceWriter(
            self.path,
            stored_tensors(self.spec, self.tensors),
            meta={"logger": f"gradtrace_log {__version__} (jax)", "every": self.every, **(self.meta or {})},
            sketch=sketch_header(self.spec, self.seed, self.tensors),
            range_sketch=range_header(self.matrix_sketch, self.seed, self.ranges),
            fsync=self.fsync,
            mode=self.mode,
        )

    def _values(self, leaves):
        out = {}
        for n, shape in self.tensors:
            if n not in leaves:
                raise ValueError(f"log: the pytree has no leaf {n} (it had one at the first step)")
            a = np.asarray(leaves[n], dtype=np.float64)
            if a.shape != shape:
                raise ValueError(f"log: leaf {n} has shape {a.shape}, it had {shape} at the first step")
            out[n] = sketch_numpy(self.spec, self.seed, n, a) if self.spec is not None else a
        return out

    def log(self, step, grads, loss=None, lr=None, momentum=None):
        step = int(step)
        if step % self.every != 0:
            return
        leaves = flatten_tree(grads)
        if self.writer is None:
            self._open(leaves)
        values = self._values(leaves)
        ranges = {
            n: range_sketch_numpy(self.seed, n, np.asarray(leaves[n], dtype=np.float64).reshape(r, c), self.matrix_sketch)
            for n, (r, c) in self.ranges.items()
        }
        mom = self._values(flatten_tree(momentum)) if momentum is not None else None
        self.bytes_written += self.writer.append(step, values, loss=loss, lr=lr, momentum=mom, ranges=ranges)

    def close(self):
        if self.writer is not None:
            self.writer.close()
