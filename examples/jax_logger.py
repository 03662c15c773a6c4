"""Log per-step gradients of a JAX pytree (e.g. the grads from jax.grad) in a layout gradtrace reads, numpy only.

    grads = jax.grad(loss_fn)(params, batch)
    log_gradients(grads, step, "runs/exp1", loss=float(loss))

Leaves are named by their path in the tree ("dense1.kernel"); writers come from pytorch_logger.py (same directory).
For sketched logging of large runs use gradtrace_log.jax_logger.JaxGradientLogger (python/ in this repository).
"""
import os
import sys

import numpy as np

from pytorch_logger import save_step

# The pytree naming is shared with the sketching JAX logger of python/gradtrace_log (numpy only as well).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from gradtrace_log.jax_logger import flatten_tree  # noqa: E402


def log_gradients(grads, step, out_dir, fmt="safetensors", loss=None, lr=None):
    """Saves every leaf as float32 (bfloat16 leaves are upcast: .npy has no bfloat16)."""
    arrays = {name: np.asarray(leaf, dtype=np.float32) for name, leaf in flatten_tree(grads).items()}
    save_step(arrays, step, out_dir, fmt, loss, lr)
