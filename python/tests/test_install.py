"""`pip install ./python` needs nothing from PyPI: the in-tree PEP 517 backend builds a wheel with the standard
library only. Checked by building the wheel through the backend's hooks and installing it into a fresh virtual
environment with pip's network disabled."""
import os
import subprocess
import sys
import unittest
import zipfile

from .util import repo_python_dir, tmpdir


class InstallTest(unittest.TestCase):
    def test_backend_builds_a_complete_wheel(self):
        sys.path.insert(0, os.path.join(repo_python_dir(), "_build"))
        try:
            import gradtrace_build
        finally:
            sys.path.pop(0)
        self.assertEqual(gradtrace_build.get_requires_for_build_wheel(), [])
        d = tmpdir(self)
        name = gradtrace_build.build_wheel(d)
        with zipfile.ZipFile(os.path.join(d, name)) as z:
            names = z.namelist()
            record = z.read(next(n for n in names if n.endswith("RECORD"))).decode()
        for module in ("__init__.py", "logger.py", "sketch.py", "gtrace.py", "jax_logger.py"):
            self.assertIn(f"gradtrace_log/{module}", names)
        self.assertTrue(all(n in record for n in names))
        self.assertFalse(any("tests/" in n for n in names))

    @unittest.skipUnless(os.environ.get("GRADTRACE_TEST_PIP") == "1", "set GRADTRACE_TEST_PIP=1 to run pip install into a venv")
    def test_pip_install_offline(self):
        venv = os.path.join(tmpdir(self), "venv")
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
        pip = os.path.join(venv, "bin", "pip")
        # No PYTHONPATH (the test runner sets one to the checkout): the import must find the installed copy.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        subprocess.run([pip, "install", "-q", repo_python_dir()], check=True, env=env)
        out = subprocess.run(
            [os.path.join(venv, "bin", "python"), "-c", "import gradtrace_log, sys; print(gradtrace_log.__file__)"],
            check=True, capture_output=True, text=True, cwd="/", env=env,
        ).stdout
        self.assertIn(venv, out)


if __name__ == "__main__":
    unittest.main()
