"""Minimal PEP 517 / PEP 660 build backend (standard library only) for the pure-Python package gradtrace_log.

Why not setuptools: `pip install ./python` builds in an isolated environment and would download setuptools from PyPI,
which gradtrace's users (and its CI) may not reach. A pure-Python wheel is a zip with three metadata files, so the
backend writes it directly. Version and name come from pyproject.toml's [project] table (read with tomllib on
Python ≥ 3.11, or a line parser for the two keys otherwise).
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "gradtrace_log"


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _project():
    text = _read(os.path.join(ROOT, "pyproject.toml")).decode("utf-8")
    try:
        import tomllib

        p = tomllib.loads(text)["project"]
        return p["name"], p["version"], p.get("description", ""), p.get("requires-python", "")
    except ImportError:
        get = lambda key: re.search(rf'^{key}\s*=\s*"([^"]*)"', text, re.M).group(1)  # noqa: E731
        return get("name"), get("version"), get("description"), get("requires-python")


def _dist_name():
    name, version, _, _ = _project()
    return re.sub(r"[-_.]+", "_", name), version


def _metadata():
    name, version, description, requires = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Summary: {description}"]
    if requires:
        lines.append(f"Requires-Python: {requires}")
    return "\n".join(lines) + "\n"


def _package_files():
    base = os.path.join(ROOT, PACKAGE)
    for d, dirs, files in os.walk(base):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for f in sorted(files):
            if f.endswith(".py") or f == "py.typed":
                full = os.path.join(d, f)
                yield full, os.path.relpath(full, ROOT).replace(os.sep, "/")


def _record_line(arc, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arc},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory, files):
    dist, version = _dist_name()
    info = f"{dist}-{version}.dist-info"
    name = f"{dist}-{version}-py3-none-any.whl"
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        entries = list(files) + [
            (f"{info}/METADATA", _metadata().encode()),
            (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: gradtrace_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        ]
        for arc, data in entries:
            z.writestr(arc, data)
            records.append(_record_line(arc, data))
        records.append(f"{info}/RECORD,,")
        z.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = [(arc, _read(full)) for full, arc in _package_files()]
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth file pointing at the checkout: edits to python/gradtrace_log take effect without reinstalling.
    return _write_wheel(wheel_directory, [(f"{PACKAGE}_editable.pth", (ROOT + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    dist, version = _dist_name()
    base = f"{dist}-{version}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "_build/gradtrace_build.py"]:
            t.add(os.path.join(ROOT, rel), arcname=f"{base}/{rel}")
        for full, arc in _package_files():
            t.add(full, arcname=f"{base}/{arc}")
        data = _metadata().encode()
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return name
