"""Reference for bench/streaming.bench.ts: numpy doing the exact path's algorithm on a T x p float32 trace of the same
shape -- the T x T Gram K = G G^T in float64, then the spectra of K and of the increments' Gram D K D^T.
Prints JSON: wall and CPU seconds for Gram + eigh (vectors, as `numpy.linalg.eigh`) and/or Gram + eigvalsh (values
only, what the exact path needs), and the BLAS numpy was built against.
Usage: numpy_gram_eigh.py T p [eigh|eigvalsh|both]   or   numpy_gram_eigh.py dense n   (eigvalsh of a dense random
symmetric n x n matrix: the eigensolver alone, full rank)."""
import json
import sys
import time

import numpy as np


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}


def blas():
    try:
        info = np.__config__.blas_opt_info if hasattr(np.__config__, "blas_opt_info") else {}
        return ",".join(info.get("libraries", [])) or "unknown"
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


rng = np.random.default_rng(1)
if sys.argv[1] == "dense":
    n = int(sys.argv[2])
    a = rng.standard_normal((n, n))
    a = (a + a.T) / 2
    print(json.dumps({"eigvalsh": timed(lambda: np.linalg.eigvalsh(a)), "numpy": np.__version__, "blas": blas()}))
    sys.exit(0)

steps, p = int(sys.argv[1]), int(sys.argv[2])
which = sys.argv[3] if len(sys.argv) > 3 else "both"  # "eigh", "eigvalsh" or "both"
g = rng.standard_normal((steps, p)).astype(np.float32)


def run(values_only):
    g64 = g.astype(np.float64)
    k = g64 @ g64.T
    h = np.diff(k, axis=0)
    hk = np.diff(h, axis=1)  # D K D^T
    if values_only:
        np.linalg.eigvalsh(k)
        np.linalg.eigvalsh(hk)
    else:
        np.linalg.eigh(k)
        np.linalg.eigh(hk)


eigh = timed(lambda: run(False)) if which in ("eigh", "both") else None
eigvalsh = timed(lambda: run(True)) if which in ("eigvalsh", "both") else None
print(json.dumps({"eigh": eigh, "eigvalsh": eigvalsh, "numpy": np.__version__, "blas": blas()}))
