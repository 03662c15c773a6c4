"""Log per-step gradients of a JAX pytree (e.g. the grads from jax.grad) in a layout gradtrace reads, numpy only.

    grads = jax.grad(loss_fn)(params, batch)
    log_gradients(grads, step, "runs/exp1", loss=float(loss))

Leaves are named by their path in the tree ("dense1.kernel"); writers come from pytorch_logger.py (same directory).
"""
import numpy as np

from pytorch_logger import save_step


def flatten_tree(tree, prefix=""):
    """{dotted.path: leaf} for nested dicts / lists / tuples (also what Flax/Haiku param trees are)."""
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


def log_gradients(grads, step, out_dir, fmt="safetensors", loss=None, lr=None):
    """Saves every leaf as float32 (bfloat16 leaves are upcast: .npy has no bfloat16)."""
    arrays = {name: np.asarray(leaf, dtype=np.float32) for name, leaf in flatten_tree(grads).items()}
    save_step(arrays, step, out_dir, fmt, loss, lr)
