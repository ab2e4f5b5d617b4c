"""`pip install ./bindings/python` builds libzcopy itself, as a newcomer would run it.

Each install goes into a fresh virtual environment, from a fresh copy of the
checkout (the files git knows, as a clone has them: no build/, no
egg-info, no target/), and builds in pip's isolated build environment
(setuptools and setuptools-rust from PyPI, the crate with cargo). cargo's
output goes to target/python-install, not to the target/ directory
`cargo test` is using. Slow (release builds), but every
step is bounded by a timeout; a machine without venv, pip or PyPI fails
here with the reason.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

from _util import REPO

TARGET_DIR = REPO / "target" / "python-install"

CHECK = r"""
import json, os, sys, zcopy
src, dst = sys.argv[1], sys.argv[2]
with open(src, "wb") as f:
    f.write(b"installed zcopy copies" * 1000)
with open(src, "rb") as f, open(dst + ".copy", "wb") as g:
    n = zcopy.copy(src=f, dst=g)
same = zcopy.copyfile(src, dst) == dst and open(dst, "rb").read() == open(src, "rb").read()
print(json.dumps({"file": zcopy.__file__, "lib": zcopy.library_path, "n": n, "same": same,
                  "typed": os.path.exists(os.path.join(os.path.dirname(zcopy.__file__), "py.typed"))}))
"""


def clean_env(**extra):
    """The caller's environment without anything that would point at this checkout's library."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZCOPY_LIBRARY", "ZCOPY_BUNDLE_LIBRARY", "PYTHONPATH", "PYTHONHOME",
                        "VIRTUAL_ENV", "CARGO_TARGET_DIR")}
    env.update(extra)
    return env


def without_rust(env):
    """env with every PATH entry that holds cargo or rustc removed."""
    keep = [d for d in env.get("PATH", "").split(os.pathsep)
            if d and not any(os.path.exists(os.path.join(d, t)) for t in ("cargo", "rustc"))]
    out = {k: v for k, v in env.items() if k not in ("CARGO", "RUSTC", "RUSTUP_TOOLCHAIN")}
    out["PATH"] = os.pathsep.join(keep)
    return out


def fresh_checkout(dest):
    """Copies the working tree's files that git tracks or would track into dest."""
    p = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError(f"git ls-files failed in {REPO} (a git checkout is needed): {p.stderr.decode()}")
    for rel in p.stdout.decode().split("\0"):
        src = REPO / rel
        if rel and src.is_file():  # a file deleted in the working tree is listed but gone
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


class PipInstall(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="zcopy-venv-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.elsewhere = self.tmp / "elsewhere"
        self.elsewhere.mkdir()
        self.pkg = fresh_checkout(self.tmp / "clone") / "bindings" / "python"

    def run_step(self, what, argv, timeout, ok=True, **kw):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            self.fail(f"{what}: timed out after {timeout}s: {argv}")
        if ok and p.returncode != 0:
            self.fail(f"{what} failed (exit {p.returncode}): {argv}\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}")
        return p

    def venv(self, name):
        venv = self.tmp / name
        self.run_step("python3 -m venv (needs ensurepip: Debian's python3-venv)",
                      [sys.executable, "-m", "venv", str(venv)], 180, env=clean_env())
        return str(venv / "bin" / "python"), venv

    def pip_install(self, py, what, target, ok=True, env=None):
        argv = [py, "-m", "pip", "install", "-v", "--no-cache-dir", "--disable-pip-version-check",
                "--no-input", str(target)]
        env = env or clean_env(CARGO_TARGET_DIR=str(TARGET_DIR))
        return self.run_step(what, argv, 900, ok=ok, env=env, cwd=str(self.elsewhere))

    def check_import(self, py, venv):
        p = self.run_step("import zcopy from the venv", [py, "-c", CHECK, "a", "b"], 60,
                          env=clean_env(), cwd=str(self.elsewhere))
        out = json.loads(p.stdout.strip().splitlines()[-1])
        site = str(venv / "lib")
        self.assertTrue(out["file"].startswith(site), out)
        self.assertTrue(out["lib"].startswith(site) and out["lib"].endswith("/zcopy/_lib/libzcopy.so"), out)
        self.assertEqual(out["n"], 22000)
        self.assertTrue(out["same"])
        self.assertTrue(out["typed"])
        return out

    def wheel_tags(self, venv):
        found = list(venv.glob("lib/python*/site-packages/zcopy-*.dist-info/WHEEL"))
        self.assertEqual(len(found), 1, found)
        return re.findall(r"^Tag: (\S+)$", found[0].read_text(), re.M)

    def test_from_the_checkout_builds_the_library(self):
        py, venv = self.venv("venv")
        p = self.pip_install(py, "pip install ./bindings/python (needs PyPI and a Rust toolchain)", self.pkg)
        self.assertIn("cargo rustc", p.stdout + p.stderr, "the install did not build the crate")
        m = re.search(r"filename=(zcopy-[^ ]+\.whl)", p.stdout)
        self.assertIsNotNone(m, p.stdout[-2000:])
        self.assertRegex(m.group(1), r"^zcopy-[0-9.]+-py3-none-linux_[a-z0-9_]+\.whl$")
        tags = self.wheel_tags(venv)
        self.assertEqual(len(tags), 1, tags)
        self.assertTrue(tags[0].startswith("py3-none-linux_"), tags)
        self.check_import(py, venv)
        # ZCOPY_LIBRARY still wins over the shipped copy
        lib = os.environ.get("ZCOPY_LIBRARY")
        if lib:
            p = self.run_step("import zcopy with ZCOPY_LIBRARY", [py, "-c", CHECK, "c", "d"], 60,
                              env=clean_env(ZCOPY_LIBRARY=lib), cwd=str(self.elsewhere))
            self.assertEqual(json.loads(p.stdout.strip().splitlines()[-1])["lib"], lib)

    def test_sdist_carries_the_crate_and_builds_alone(self):
        py, venv = self.venv("venv")
        self.run_step("pip install the build backend",
                      [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "setuptools>=77",
                       "setuptools-rust==1.13.0"], 300, env=clean_env())
        out = self.tmp / "sdist"
        build = ("import sys; from setuptools import build_meta as b; "
                 "print(b.build_sdist(sys.argv[1]))")
        p = self.run_step("build the sdist (PEP 517 build_sdist)", [py, "-c", build, str(out)], 300,
                          env=clean_env(), cwd=str(self.pkg))
        sdist = out / p.stdout.strip().splitlines()[-1]
        with tarfile.open(sdist) as t:
            names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
            cargo = t.extractfile(next(n for n in t.getnames() if n.endswith("/rust/Cargo.toml"))).read()
        for need in ("rust/Cargo.toml", "rust/Cargo.lock", "rust/build.rs", "rust/cbindgen.toml",
                     "rust/zcopy.map", "rust/src/lib.rs", "rust/include/zcopy.h", "setup.py",
                     "pyproject.toml", "README.md", "src/zcopy/__init__.py"):
            self.assertIn(need, names)
        self.assertNotIn(b'"cli"', cargo, "the sdist's Cargo.toml names workspace members it lacks")
        # unpacked far from any checkout, the sdist must build on its own
        fresh, fresh_venv = self.venv("fresh")
        p = self.pip_install(fresh, "pip install the sdist", sdist)
        self.assertIn("rust/Cargo.toml", p.stdout + p.stderr)
        self.assertTrue(self.wheel_tags(fresh_venv)[0].startswith("py3-none-linux_"))
        self.check_import(fresh, fresh_venv)

    def test_no_rust_toolchain_fails_loudly(self):
        py, venv = self.venv("venv")
        env = without_rust(clean_env(CARGO_TARGET_DIR=str(TARGET_DIR)))
        self.assertIsNone(shutil.which("cargo", path=env["PATH"]))
        p = self.pip_install(py, "pip install without Rust", self.pkg, ok=False, env=env)
        self.assertNotEqual(p.returncode, 0, "the install succeeded without a Rust toolchain")
        self.assertIn("can't find Rust compiler", p.stdout + p.stderr)
        self.assertEqual(list(venv.glob("lib/python*/site-packages/zcopy*")), [])


if __name__ == "__main__":
    unittest.main()
