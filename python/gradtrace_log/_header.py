"""The header fields both loggers (PyTorch, JAX) declare their sketches with (docs/trace-format.md, "gtrace")."""
import numpy as np

from .rangesketch import matrix_shape


def numel(shape):
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def sketch_header(spec, seed, tensors):
    """`sketch` field for a run that logs S·g (spec: SketchSpec) of tensors [(name, shape)]; None in full mode."""
    if spec is None:
        return None
    return {
        "kind": spec.kind,
        "k": spec.k,
        "seed": seed,
        "seeding": "name",
        **({"s": spec.s} if spec.kind == "sparsejl" else {}),
        "originalNumel": {n: numel(s) for n, s in tensors},
    }


def range_targets(tensors, max_rows):
    """{name: (rows, cols)} of the matrix-shaped tensors that get a range sketch."""
    out = {}
    for name, shape in tensors:
        ms = matrix_shape(shape)
        if ms is not None and ms[0] <= max_rows:
            out[name] = ms
    return out


def range_header(s, seed, targets):
    """`rangeSketch` field, or None when no tensor is range-sketched."""
    if not targets:
        return None
    return {
        "s": s,
        "seed": seed,
        "seeding": "name",
        "tensors": [{"name": n, "rows": r, "cols": c} for n, (r, c) in targets.items()],
    }


def stored_tensors(spec, tensors):
    """[(name, stored shape)]: [k] per tensor in sketch mode, the tensor's shape in full mode."""
    return [(n, (spec.k,) if spec is not None else tuple(s)) for n, s in tensors]
