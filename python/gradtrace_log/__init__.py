"""gradtrace_log: log training gradients — sketched where they live, or in full — into gradtrace's .gtrace format.

    from gradtrace_log import GradientLogger
    log = GradientLogger(model, "runs/exp1.gtrace", sketch="countsketch:1024", seed=0)
    log.attach(optimizer)
    ...
    log.close()

Then `gradtrace analyze runs/exp1.gtrace` (or `gradtrace serve runs/` to follow it live). Needs numpy; torch for
GradientLogger; the JAX logger (gradtrace_log.jax) needs only numpy. Sketch scheme and file layout:
docs/trace-format.md in the gradtrace repository.
"""

__version__ = "0.1.0"

from ._hash import derive_seed, hash_index, tensor_seed  # noqa: E402
from .gtrace import GtraceError, GtraceWriter, read_gtrace, scan_records  # noqa: E402
from .rangesketch import matrix_shape, omega_numpy, range_sketch_numpy  # noqa: E402
from .sketch import SketchSpec, sketch_numpy  # noqa: E402


def __getattr__(name):
    # torch is imported only when the PyTorch logger is used, so the JAX / numpy parts work without it.
    if name in ("GradientLogger", "fsdp_shards"):
        from . import logger

        return getattr(logger, name)
    raise AttributeError(f"module 'gradtrace_log' has no attribute {name!r}")


__all__ = [
    "GradientLogger",
    "GtraceError",
    "GtraceWriter",
    "SketchSpec",
    "derive_seed",
    "fsdp_shards",
    "hash_index",
    "matrix_shape",
    "omega_numpy",
    "range_sketch_numpy",
    "read_gtrace",
    "scan_records",
    "sketch_numpy",
    "tensor_seed",
]
