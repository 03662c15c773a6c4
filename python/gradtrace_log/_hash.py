"""Integer hashing shared bit for bit with gradtrace's TypeScript sketches (src/core/rng.ts, src/core/sketch/common.ts).

Every random choice a sketch makes is a function of (seed, tensor name, global coordinate index) only:

* ``derive_seed(base, *parts)`` is ``deriveSeed`` (FNV-style fold with a xorshift-multiply per part);
* ``tensor_seed(seed, name)`` folds the tensor name's UTF-8 bytes into the run seed (``tensorSketchSeed`` in TS), so a
  tensor keeps its sketch whatever other tensors the model has and whatever order they are logged in;
* ``hash_index(base, j)`` is ``hashIndex``: MurmurHash3's fmix32 of ``base ^ (j * 0x9e3779b1)``.

All arithmetic is modulo 2^32 like JavaScript's ``Math.imul`` / ``>>> 0``. The vectorised forms work on numpy uint64
arrays (values < 2^32) and on torch int64 tensors; 32-bit products are split into 16-bit halves so no intermediate
exceeds 2^48 (int64 overflow would be undefined behaviour in C++ even where it happens to wrap).
"""

MASK32 = 0xFFFFFFFF
#: Stream tags, as in the TypeScript sketches: 1 Gaussian JL, 2 hashing sketches, 3 SRHT; 4 the range sketch's Ω.
HASH_STREAM_TAG = 2
RANGE_STREAM_TAG = 4
#: "NAME" as a u32: first part folded into a tensor's seed before its name's bytes.
NAME_TAG = 0x4E414D45


def _imul(a, b):
    return (a * b) & MASK32


def derive_seed(base, *parts):
    """deriveSeed(base, ...parts) of src/core/rng.ts."""
    h = ((base & MASK32) ^ 0x811C9DC5) & MASK32
    for p in parts:
        h = _imul(h ^ (p & MASK32), 0x01000193)
        h = _imul(h ^ (h >> 15), 0x2C1B3C6D)
    return h


def tensor_seed(seed, name):
    """Seed of one tensor's sketch: derive_seed(seed, NAME_TAG, byte length, *UTF-8 bytes of the name)."""
    data = name.encode("utf-8")
    return derive_seed(seed, NAME_TAG, len(data), *data)


def hash_index(base, index):
    """hashIndex(base, index) of src/core/sketch/common.ts, for one Python int."""
    h = ((base & MASK32) ^ _imul(index & MASK32, 0x9E3779B1)) & MASK32
    h = _imul(h ^ (h >> 16), 0x85EBCA6B)
    h = _imul(h ^ (h >> 13), 0xC2B2AE35)
    return (h ^ (h >> 16)) & MASK32


def _mul32(x, c):
    """(x * c) mod 2^32 for an array/tensor x of values in [0, 2^32) and a Python constant c, without products
    above 2^48 (works for numpy uint64/int64 and torch int64 alike)."""
    lo = c & 0xFFFF
    hi = c >> 16
    return (x * lo + (((x * hi) & 0xFFFF) << 16)) & MASK32


def hash_index_array(base, index):
    """hash_index over an integer array (numpy uint64/int64 or torch int64), values in [0, 2^63)."""
    base &= MASK32
    h = (_mul32(index & MASK32, 0x9E3779B1)) ^ base
    h = _mul32(h ^ (h >> 16), 0x85EBCA6B)
    h = _mul32(h ^ (h >> 13), 0xC2B2AE35)
    return h ^ (h >> 16)
