"""`pip install ./bindings/python` into a fresh virtual environment.

Slow (a venv, and pip fetching setuptools from PyPI for the isolated build),
but bounded: every step has a timeout. A machine without venv/pip support
fails here with the reason, it does not pass quietly.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from _util import PKG_SRC

PKG_DIR = PKG_SRC.parent

CHECK = r"""
import json, os, socket, zcopy
a, b = socket.socketpair(); c, d = socket.socketpair()
b.sendall(b"venv works"); b.close()
n = zcopy.splice(c, a); c.close()
print(json.dumps({"file": zcopy.__file__, "lib": zcopy.library_path, "n": n,
                  "got": d.recv(100).decode(), "version": zcopy.__version__,
                  "typed": os.path.exists(os.path.join(os.path.dirname(zcopy.__file__), "py.typed"))}))
"""


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZCOPY_LIBRARY", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(extra)
    return env


class PipInstall(unittest.TestCase):
    def run_step(self, what, argv, timeout, **kw):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            self.fail(f"{what}: timed out after {timeout}s: {argv}")
        if p.returncode != 0:
            self.fail(f"{what} failed (exit {p.returncode}): {argv}\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
        return p

    def test_fresh_venv_install_imports_from_anywhere(self):
        lib = os.environ.get("ZCOPY_LIBRARY")
        if not lib:
            import zcopy
            lib = zcopy.library_path
        self.assertTrue(os.path.isfile(lib), lib)
        tmp = Path(tempfile.mkdtemp(prefix="zcopy-venv-"))
        self.addCleanup(shutil.rmtree, tmp, True)
        venv = tmp / "venv"
        self.run_step("python3 -m venv (needs ensurepip: Debian's python3-venv)",
                      [sys.executable, "-m", "venv", str(venv)], 180, env=clean_env())
        py = str(venv / "bin" / "python")
        self.run_step("pip install ./bindings/python (needs PyPI for setuptools)",
                      [py, "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                       str(PKG_DIR)], 300, env=clean_env(ZCOPY_BUNDLE_LIBRARY=lib), cwd=str(tmp))
        elsewhere = tmp / "elsewhere"
        elsewhere.mkdir()
        p = self.run_step("import zcopy from the venv", [py, "-c", CHECK], 60,
                          env=clean_env(), cwd=str(elsewhere))
        out = json.loads(p.stdout.strip().splitlines()[-1])
        site = str(venv / "lib")
        self.assertTrue(out["file"].startswith(site), out)
        self.assertTrue(out["lib"].startswith(site) and "/zcopy/_lib/" in out["lib"], out)
        self.assertEqual((out["n"], out["got"]), (10, "venv works"))
        self.assertTrue(out["typed"])
        # ZCOPY_LIBRARY still wins over the shipped copy
        p = self.run_step("import zcopy with ZCOPY_LIBRARY", [py, "-c", CHECK], 60,
                          env=clean_env(ZCOPY_LIBRARY=lib), cwd=str(elsewhere))
        self.assertEqual(json.loads(p.stdout.strip().splitlines()[-1])["lib"], lib)


if __name__ == "__main__":
    unittest.main()
