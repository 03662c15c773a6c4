"""Writer (and a small reader) of gradtrace's append-only ``.gtrace`` file, byte-compatible with the TypeScript
writer (src/trace/gtraceWriter.ts; layout in docs/trace-format.md).

    file header  "GTRACE" | u16 version | u32 J | u32 crc32(json) | J bytes of UTF-8 JSON
    record       "GREC" | u32 E | u64 P | f64 step | f64 loss | f64 lr | u32 flags | u32 crc32(bytes 0..44 ‖ table)
                 E × (u32 tensor index | u8 dtype | u8 kind | u16 0 | u32 crc32(payload) | u32 0), then the payloads

Version 1 files hold gradient (kind 0) and momentum (kind 1) entries. Version 2 adds kind 2, the range sketch
Y = G·Ω of a matrix-shaped tensor (rows × s values, declared by the header's ``rangeSketch``); a file is written as
version 2 only when it declares range sketches, so every other file stays readable by version-1 readers.

Crash safety: the header is written to a temporary file, fsynced and hard-linked to the final name (so an existing
trace is never replaced and a crash never leaves a half-written header); each record is then encoded in memory and
written with positioned writes at the end of the last complete record, and fsynced under ``fsync="record"``. A
process killed at any moment therefore leaves every earlier record intact and at most one partial record, which the
readers report and skip, and ``GtraceWriter(path, ..., mode="resume")`` truncates away before appending again. An
advisory lock (``fcntl.flock``, exclusive) refuses a second writer on the same file while the first is alive.
"""
import json
import os
import struct
import zlib

import numpy as np

MAGIC = b"GTRACE"
RECORD_MAGIC = b"GREC"
FILE_HEADER_BYTES = 16
RECORD_HEADER_BYTES = 48
ENTRY_BYTES = 16
RECORD_CRC_PREFIX = 44
FLAG_LOSS, FLAG_LR = 1, 2
KIND_GRADIENT, KIND_MOMENTUM, KIND_RANGE = 0, 1, 2
DTYPES = {"F64": (1, "<f8"), "F32": (2, "<f4"), "F16": (3, "<f2")}
DTYPE_BY_CODE = {1: ("F64", "<f8"), 2: ("F32", "<f4"), 3: ("F16", "<f2"), 4: ("BF16", None)}
FSYNC_POLICIES = ("record", "close", "none")
_REC = struct.Struct("<4sIQdddI")
_ENTRY = struct.Struct("<IBBHII")


class ClosingContext:
    """`with` support for objects with close()."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class GtraceError(Exception):
    """A .gtrace file is not what it claims to be (message names the file, record and field)."""


def _numel(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _fsync_dir(path):
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def encode_header(doc, version):
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    return MAGIC + struct.pack("<HII", version, len(js), zlib.crc32(js)) + js


def read_header(path, f=None):
    """(version, header JSON, offset of the first record)."""
    own = f is None
    f = f or open(path, "rb")
    try:
        head = f.read(FILE_HEADER_BYTES)
        if len(head) < FILE_HEADER_BYTES or head[:6] != MAGIC:
            raise GtraceError(f"{path}: not a gtrace file (magic must be GTRACE)")
        version, jlen, crc = struct.unpack("<HII", head[6:])
        if version not in (1, 2):
            raise GtraceError(f"{path}: gtrace version {version} (this writer handles 1 and 2)")
        js = f.read(jlen)
        if len(js) != jlen:
            raise GtraceError(f"{path}: header JSON of {jlen} bytes is truncated")
        if zlib.crc32(js) != crc:
            raise GtraceError(f"{path}: header JSON fails its CRC-32 check")
        return version, json.loads(js.decode("utf-8")), FILE_HEADER_BYTES + jlen
    finally:
        if own:
            f.close()


def _entry_sizes(doc):
    """{(tensor index, kind): payload element count} for the kinds a header declares."""
    sizes = {}
    index = {}
    for i, t in enumerate(doc["tensors"]):
        index[t["name"]] = i
        sizes[(i, KIND_GRADIENT)] = sizes[(i, KIND_MOMENTUM)] = _numel(t["shape"])
    rs = doc.get("rangeSketch")
    if rs:
        for t in rs["tensors"]:
            sizes[(index[t["name"]], KIND_RANGE)] = int(t["rows"]) * int(rs["s"])
    return sizes


def scan_records(path, verify="last"):
    """Index of the complete, checksum-valid records of a .gtrace file, the way the TypeScript reader builds it.

    Returns (header doc, version, records, end, problem): records is a list of dicts {step, loss, lr, offset, entries:
    [(tensor index, kind, dtype code, payload offset, crc)]}, `end` the byte offset just past the last good record and
    `problem` None or a message about the skipped tail (truncated or corrupt last record). A bad record followed by
    more data raises GtraceError (we never resynchronise inside a damaged file)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        version, doc, pos = read_header(path, f)
        sizes = _entry_sizes(doc)
        records, problem = [], None
        while pos < size:
            where = f"{path}: record {len(records)} at offset {pos}"
            if pos + RECORD_HEADER_BYTES > size:
                problem = f"{where}: file ends inside the record header ({size - pos} bytes); skipped"
                break
            f.seek(pos)
            head = f.read(RECORD_HEADER_BYTES)
            magic, n_entries, payload, step, loss, lr, flags = _REC.unpack_from(head)
            (crc_stored,) = struct.unpack_from("<I", head, RECORD_CRC_PREFIX)
            if magic != RECORD_MAGIC or n_entries > 3 * len(doc["tensors"]):
                rest = f.read(min(size - pos - RECORD_HEADER_BYTES, 64 << 20))
                if not any(head) and not any(rest):
                    problem = f"{where}: {size - pos} zero bytes where a record should start; skipped"
                    break
                raise GtraceError(f"{where}: not a valid record header; file is corrupt")
            total = RECORD_HEADER_BYTES + ENTRY_BYTES * n_entries + payload
            if pos + total > size:
                problem = f"{where}: step {step:g}: record needs {total} bytes, file ends after {size - pos}; skipped"
                break
            table = f.read(ENTRY_BYTES * n_entries)
            is_last = pos + total == size
            if zlib.crc32(table, zlib.crc32(head[:RECORD_CRC_PREFIX])) != crc_stored:
                if is_last:
                    problem = f"{where}: record checksum mismatch in the last record; skipped"
                    break
                raise GtraceError(f"{where}: record checksum mismatch; file is corrupt")
            entries, off = [], pos + RECORD_HEADER_BYTES + ENTRY_BYTES * n_entries
            for e in range(n_entries):
                ti, code, kind, _, crc, _ = _ENTRY.unpack_from(table, e * ENTRY_BYTES)
                count = sizes.get((ti, kind))
                if count is None or code not in DTYPE_BY_CODE:
                    raise GtraceError(f"{where}: entry {e} has tensor index {ti}, dtype code {code}, kind {kind}")
                nbytes = count * (8 if code == 1 else 4 if code == 2 else 2)
                entries.append((ti, kind, code, off, crc, nbytes))
                off += nbytes
            if off - (pos + RECORD_HEADER_BYTES + ENTRY_BYTES * n_entries) != payload:
                raise GtraceError(f"{where}: payload length {payload} does not match its entries")
            if verify == "all" or is_last:
                bad = None
                for ti, kind, code, eoff, crc, nbytes in entries:
                    f.seek(eoff)
                    if zlib.crc32(f.read(nbytes)) != crc:
                        bad = f"tensor {doc['tensors'][ti]['name']} (kind {kind})"
                        break
                if bad is not None:
                    if is_last:
                        problem = f"{where}: step {step:g}: {bad} fails its checksum in the last record; skipped"
                        break
                    raise GtraceError(f"{where}: {bad} fails its checksum; file is corrupt")
            records.append(
                {
                    "step": int(step),
                    "loss": loss if flags & FLAG_LOSS else None,
                    "lr": lr if flags & FLAG_LR else None,
                    "offset": pos,
                    "entries": entries,
                }
            )
            pos += total
        return doc, version, records, pos, problem


def read_gtrace(path):
    """The whole file in memory (tests and small traces): header doc, steps, losses, and per step a dict
    {(tensor name, kind): float64 array} plus the tail problem (None when the file ended cleanly)."""
    doc, version, records, end, problem = scan_records(path, verify="all")
    names = [t["name"] for t in doc["tensors"]]
    steps = []
    with open(path, "rb") as f:
        for r in records:
            values = {}
            for ti, kind, code, off, crc, nbytes in r["entries"]:
                f.seek(off)
                values[(names[ti], kind)] = np.frombuffer(f.read(nbytes), dtype=DTYPE_BY_CODE[code][1]).astype(np.float64)
            steps.append({"step": r["step"], "loss": r["loss"], "lr": r["lr"], "values": values})
    return {"doc": doc, "version": version, "steps": steps, "end": end, "problem": problem}


class GtraceWriter(ClosingContext):
    """Appends steps to a .gtrace file.

    tensors: [(name, shape)] or [(name, shape, dtype)] with dtype F32 (default), F64 or F16. sketch / range_sketch /
    meta: header fields (docs/trace-format.md). fsync: "record" (default; a crash, even of the OS, loses at most the
    record being written), "close" (a killed process still loses at most one record; an OS crash may lose unsynced
    ones), "none". mode: "create" (refuse an existing file), "overwrite", or "resume" (append to an existing trace
    after its last complete record, truncating a partial one; its header must declare the same tensors)."""

    #: Bytes per write call: a record larger than this (full gradients of a large model) is written in pieces, so a
    #: crash can leave a partial record (Linux also caps one write at ~2 GiB).
    chunk_bytes = 64 << 20

    def __init__(self, path, tensors, meta=None, sketch=None, range_sketch=None, fsync="record", mode="create", lock=True):
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync must be one of {FSYNC_POLICIES}, got {fsync!r}")
        if mode not in ("create", "overwrite", "resume"):
            raise ValueError(f'mode must be "create", "overwrite" or "resume", got {mode!r}')
        self.path, self.fsync = path, fsync
        self.specs = []
        for t in tensors:
            name, shape, dtype = t[0], tuple(int(d) for d in t[1]), (t[2] if len(t) > 2 else "F32")
            if dtype not in DTYPES:
                raise ValueError(f"tensor {name}: dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
            self.specs.append((name, shape, dtype))
        self.index = {n: i for i, (n, _, _) in enumerate(self.specs)}
        if len(self.index) != len(self.specs):
            raise ValueError("tensor names must be unique")
        doc = {"tensors": [{"name": n, "shape": list(s), "dtype": d} for n, s, d in self.specs]}
        if sketch:
            doc["sketch"] = sketch
        if range_sketch:
            doc["rangeSketch"] = range_sketch
        if meta:
            doc["meta"] = meta
        self.range_rows = {t["name"]: int(t["rows"]) * int(range_sketch["s"]) for t in range_sketch["tensors"]} if range_sketch else {}
        self.version = 2 if range_sketch else 1
        self.last_step = -1
        self.fd = None
        self.resumed_problem = None
        if mode == "resume" and os.path.exists(path):
            self._resume(doc, lock)
        else:
            self._create(doc, overwrite=(mode == "overwrite"))
            if lock:
                self._lock()

    def _create(self, doc, overwrite):
        data = encode_header(doc, self.version)
        tmp = f"{self.path}.tmp-{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            if overwrite:
                os.replace(tmp, self.path)
            else:
                try:
                    os.link(tmp, self.path)  # atomic, and fails if the trace exists
                except FileExistsError:
                    raise FileExistsError(f"{self.path} exists; pass mode='overwrite' to replace it or mode='resume' to append") from None
                os.unlink(tmp)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _fsync_dir(self.path)
        self.fd = os.open(self.path, os.O_RDWR)
        self.end = len(data)

    def _resume(self, doc, lock):
        # Lock before looking: truncating the tail of a file another live writer is appending to would destroy it.
        self.fd = os.open(self.path, os.O_RDWR)
        if lock:
            self._lock()
        try:
            old, version, records, end, problem = scan_records(self.path, verify="last")
        except BaseException:
            self.close()
            raise
        if old.get("tensors") != doc["tensors"] or old.get("rangeSketch") != doc.get("rangeSketch") or old.get("sketch") != doc.get("sketch"):
            self.close()
            raise GtraceError(f"{self.path}: cannot resume: its header declares other tensors / sketches than this writer")
        self.version = version
        if os.path.getsize(self.path) > end:
            os.ftruncate(self.fd, end)  # drop the partial record a crash left behind
            os.fsync(self.fd)
        self.end = end
        self.last_step = records[-1]["step"] if records else -1
        self.resumed_problem = problem

    def _lock(self):
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory locking
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            raise GtraceError(f"{self.path}: another writer holds its lock; refusing to write concurrently") from None

    def append(self, step, grads, loss=None, lr=None, momentum=None, ranges=None):
        """One record: grads {name: array} for every declared tensor; optional momentum {name: array} and range
        sketches {name: rows × s array}. Values are converted to the declared dtype, little-endian, C order."""
        if self.fd is None:
            raise GtraceError(f"append: writer for {self.path} is closed")
        step = int(step)
        if step <= self.last_step:
            raise ValueError(f"append({self.path}, step {step}): steps must increase (previous {self.last_step})")
        missing = [n for n, _, _ in self.specs if n not in grads]
        if missing:
            raise ValueError(f"append({self.path}, step {step}): tensor(s) {', '.join(missing)} missing")
        entries = []
        for i, (n, shape, dtype) in enumerate(self.specs):
            entries.append((i, KIND_GRADIENT, dtype, grads[n], _numel(shape), n))
        for n, a in (momentum or {}).items():
            i = self._known(n, step, "momentum of")
            entries.append((i, KIND_MOMENTUM, self.specs[i][2], a, _numel(self.specs[i][1]), n))
        for n, a in (ranges or {}).items():
            i = self._known(n, step, "range sketch of")
            if n not in self.range_rows:
                raise ValueError(f"append({self.path}, step {step}): {n} has no range sketch declared in the header")
            entries.append((i, KIND_RANGE, "F32", a, self.range_rows[n], n))
        table, payload = [], []
        for i, kind, dtype, a, count, n in entries:
            code, descr = DTYPES[dtype]
            data = np.ascontiguousarray(np.asarray(a).reshape(-1), dtype=descr).tobytes()
            if len(data) != count * np.dtype(descr).itemsize:
                raise ValueError(f"append({self.path}, step {step}): {n} (kind {kind}) has {len(data) // np.dtype(descr).itemsize} values, expected {count}")
            table.append(_ENTRY.pack(i, code, kind, 0, zlib.crc32(data), 0))
            payload.append(data)
        table = b"".join(table)
        size = sum(len(p) for p in payload)
        flags = (FLAG_LOSS if loss is not None else 0) | (FLAG_LR if lr is not None else 0)
        head = _REC.pack(RECORD_MAGIC, len(entries), size, float(step), float(loss or 0.0), float(lr or 0.0), flags)
        record = b"".join([head, struct.pack("<I", zlib.crc32(table, zlib.crc32(head))), table, *payload])
        try:
            view, done = memoryview(record), 0
            while done < len(record):
                done += os.pwrite(self.fd, view[done : done + self.chunk_bytes], self.end + done)
            if self.fsync == "record":
                os.fsync(self.fd)
        except OSError:
            try:
                os.ftruncate(self.fd, self.end)  # leave no partial record behind when we can
            except OSError:
                pass
            raise
        self.end += len(record)
        self.last_step = step
        return len(record)

    def _known(self, name, step, what):
        i = self.index.get(name)
        if i is None:
            raise ValueError(f"append({self.path}, step {step}): {what} {name}: tensor was not declared")
        return i

    def close(self):
        if self.fd is None:
            return
        try:
            if self.fsync != "none":
                os.fsync(self.fd)
        finally:
            os.close(self.fd)  # also releases the flock
            self.fd = None
