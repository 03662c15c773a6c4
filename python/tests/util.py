"""Helpers shared by the gradtrace_log tests: temporary directories, free loopback ports, a tiny deterministic model."""
import os
import socket
import tempfile
import unittest

try:
    import torch
except ImportError:  # the numpy-only parts are still tested
    torch = None

needs_torch = unittest.skipIf(torch is None, "torch is not installed (apt-get install python3-torch)")


def tmpdir(test):
    d = tempfile.TemporaryDirectory(prefix="gt-py-")
    test.addCleanup(d.cleanup)
    return d.name


def free_port():
    """A free TCP port on 127.0.0.1 (bound and released; the caller binds it again at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlp(sizes=(12, 10, 3), seed=0):
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def repo_python_dir():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
