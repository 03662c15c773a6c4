"""A .gtrace writer to be killed (SIGKILL) by test/python/crash.test.ts and bench/python-crash.bench.ts.

    crash_writer.py PATH MODE FIRST_STEP COUNT NUMEL FSYNC CHUNK_BYTES

MODE "create" or "resume". Appends COUNT records (steps FIRST_STEP, FIRST_STEP + 1, …) of one tensor "w" of NUMEL
float32 values, value[i] = step + i / NUMEL (so every record's content is known), written in CHUNK_BYTES pieces, and
prints "ok STEP" after each append returns. On resume it first prints "resumed LAST_STEP"."""
import sys

import numpy as np

from gradtrace_log.gtrace import GtraceWriter

path, mode, first, count, numel, fsync, chunk = sys.argv[1:8]
first, count, numel, chunk = int(first), int(count), int(numel), int(chunk)
GtraceWriter.chunk_bytes = chunk
w = GtraceWriter(path, [("w", (numel,))], meta={"test": "crash"}, fsync=fsync, mode=mode)
if mode == "resume":
    print(f"resumed {w.last_step}", flush=True)
ramp = np.arange(numel, dtype=np.float64) / numel
for step in range(first, first + count):
    w.append(step, {"w": (step + ramp).astype(np.float32)}, loss=float(step))
    print(f"ok {step}", flush=True)
w.close()
