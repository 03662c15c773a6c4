"""Reference for bench/numpy.bench.ts: numpy reads a directory of safetensors steps (float32 tensors) and forms each
tensor's Gram matrix K = G G^T over the steps in float64 (the same Gram gradtrace's exact mode forms), then the
whole model's K as their sum. Prints JSON: seconds (reading + Gram), the model's trace(K) and
sum_t ||g_t - g_{t-1}||^2 (to check both sides computed the same thing), and which BLAS ran (library, OpenBLAS
config and core). Usage: numpy_gram.py DIR [float32]  (float32: G G^T in float32 instead, for information)."""
import ctypes
import json
import os
import struct
import sys
import time

import numpy as np


def blas_info():
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1]})
    info = {"libraries": libs}
    for lib in libs:
        if "openblas" in lib and lib.endswith(".so") or "libopenblas" in lib:
            try:
                ob = ctypes.CDLL(lib)
                ob.openblas_get_config.restype = ctypes.c_char_p
                ob.openblas_get_corename.restype = ctypes.c_char_p
                info["config"] = ob.openblas_get_config().decode()
                info["core"] = ob.openblas_get_corename().decode()
                info["threads"] = ob.openblas_get_num_threads()
            except (OSError, AttributeError):
                pass
    return info


def header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        meta = json.loads(f.read(n))
    meta.pop("__metadata__", None)
    return 8 + n, meta


def main():
    root = sys.argv[1]
    dtype = np.float32 if len(sys.argv) > 2 and sys.argv[2] == "float32" else np.float64
    files = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".safetensors"))
    started = time.perf_counter()
    base, meta = header(files[0])
    names = sorted(meta)
    T = len(files)
    grams = []
    for name in names:
        begin, end = meta[name]["data_offsets"]
        count = (end - begin) // 4
        g = np.empty((T, count), dtype=dtype)
        for t, path in enumerate(files):
            off, m = header(path)
            b0, _ = m[name]["data_offsets"]
            g[t] = np.fromfile(path, dtype="<f4", count=count, offset=off + b0)
        grams.append(g @ g.T)
    k = np.sum(grams, axis=0, dtype=np.float64)
    seconds = time.perf_counter() - started
    d = np.diag(k)
    path_last = float(d[0] + np.sum(d[1:] - 2 * np.diag(k, -1) + d[:-1]))
    print(json.dumps({"seconds": seconds, "gradNormSq": float(np.trace(k)), "pathLengthLast": path_last,
                      "numpy": np.__version__, "blas": blas_info()}))


main()
