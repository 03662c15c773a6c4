"""Log per-step gradients of a PyTorch model in a layout gradtrace reads (numpy only; no safetensors package).

    from pytorch_logger import log_gradients
    loss.backward()
    log_gradients(model, step, "runs/exp1", loss=loss.item(), lr=opt.param_groups[0]["lr"])

Formats: "safetensors" (step_<n>.safetensors, default), "npz" (step_<n>.npz via np.savez), or
GtraceWriter for gradtrace's single append-only .gtrace file (layout: docs/trace-format.md).
"""
import json, os, struct, zlib
import numpy as np

_ST_DTYPES = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16"}


def write_safetensors(path, arrays, metadata=None):
    """Writes {name: ndarray} as a safetensors file, atomically (temp file + rename)."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, a in arrays.items():
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        header[name] = {"dtype": _ST_DTYPES[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # 8-byte alignment, like the reference writer
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        f.flush(); os.fsync(f.fileno())
    os.replace(tmp, path)


def write_npz(path, arrays, loss=None, lr=None, compress=False):
    """Writes {name: ndarray} as step .npz; loss/lr become scalar members __loss__/__lr__."""
    extra = {k: np.float64(v) for k, v in (("__loss__", loss), ("__lr__", lr)) if v is not None}
    tmp = f"{path}.tmp.npz"
    (np.savez_compressed if compress else np.savez)(tmp, **arrays, **extra)
    os.replace(tmp, path)


def save_step(arrays, step, out_dir, fmt="safetensors", loss=None, lr=None):
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, f"step_{step:06d}")
    if fmt == "npz":
        write_npz(base + ".npz", arrays, loss, lr)
    else:
        meta = {k: v for k, v in (("loss", loss), ("lr", lr)) if v is not None}
        write_safetensors(base + ".safetensors", arrays, meta)


def log_gradients(model, step, out_dir, fmt="safetensors", loss=None, lr=None):
    """Saves every parameter's .grad (float32, bf16 upcast) for this step."""
    import torch  # imported here so the numpy writers above work without torch
    grads = {name: p.grad.detach().to(torch.float32).cpu().numpy()
             for name, p in model.named_parameters() if p.grad is not None}
    save_step(grads, step, out_dir, fmt, loss, lr)


class GtraceWriter:
    """Appends steps to a .gtrace file; each record is written then fsynced, so a crash loses at most one step."""
    _CODES = {"F64": (1, "<f8"), "F32": (2, "<f4"), "F16": (3, "<f2")}

    def __init__(self, path, tensors, meta=None):  # tensors: [(name, shape)] or [(name, shape, dtype)]
        self.specs = [(t[0], tuple(t[1]), t[2] if len(t) > 2 else "F32") for t in tensors]
        doc = {"tensors": [{"name": n, "shape": list(s), "dtype": d} for n, s, d in self.specs]}
        if meta:
            doc["meta"] = meta
        js = json.dumps(doc).encode()
        self.f = open(path, "xb")  # never overwrite an existing trace
        self.f.write(b"GTRACE" + struct.pack("<HII", 1, len(js), zlib.crc32(js)) + js)

    def append(self, step, grads, loss=None, lr=None, momentum=None):
        entries = [(i, 0, grads[n]) for i, (n, _, _) in enumerate(self.specs)]
        entries += [(i, 1, momentum[n]) for i, (n, _, _) in enumerate(self.specs) if momentum and n in momentum]
        table, payload = b"", []
        for i, kind, a in entries:
            code, descr = self._CODES[self.specs[i][2]]
            data = np.ascontiguousarray(a, dtype=descr).reshape(self.specs[i][1]).tobytes()
            table += struct.pack("<IBBHII", i, code, kind, 0, zlib.crc32(data), 0)
            payload.append(data)
        size = sum(len(p) for p in payload)
        flags = (1 if loss is not None else 0) | (2 if lr is not None else 0)
        head = b"GREC" + struct.pack("<IQdddI", len(entries), size, float(step), loss or 0.0, lr or 0.0, flags)
        self.f.write(head + struct.pack("<I", zlib.crc32(table, zlib.crc32(head))) + table + b"".join(payload))
        self.f.flush(); os.fsync(self.f.fileno())

    def close(self):
        self.f.close()
