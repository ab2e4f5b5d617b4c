"""Build hook for the zcopy Python package.

The package is pure Python (ctypes). At build time it can ship a copy of
libzcopy.so inside the package (``zcopy/_lib/``), so that an installed
package works without the repository or an environment variable:

- ``ZCOPY_BUNDLE_LIBRARY=/path/to/libzcopy.so``: ship that file (it must exist);
- ``ZCOPY_BUNDLE_LIBRARY=none``: ship nothing;
- unset: ship this repository's ``target/release/libzcopy.so`` when it exists
  (run ``cargo build --release`` first), else nothing.

With nothing shipped, the installed package looks for the library at run
time (``ZCOPY_LIBRARY``, the repository, the system; see zcopy/_loader.py).
"""
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent


def library_to_ship():
    choice = os.environ.get("ZCOPY_BUNDLE_LIBRARY")
    if choice is not None:
        if choice.strip().lower() in ("", "none", "0", "no"):
            return None
        path = Path(choice)
        if not path.is_file():
            raise SystemExit(f"ZCOPY_BUNDLE_LIBRARY={choice!r}: no such file")
        return path
    candidate = HERE.parent.parent / "target" / "release" / "libzcopy.so"
    return candidate if candidate.is_file() else None


SHIPPED = library_to_ship()


class BuildPyShippingLibrary(build_py):
    """build_py that also copies libzcopy.so into zcopy/_lib/ in the build tree."""

    def run(self):
        super().run()
        dest = Path(self.build_lib) / "zcopy" / "_lib"
        shutil.rmtree(dest, ignore_errors=True)  # never ship a stale copy from an earlier build
        if SHIPPED is not None:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(SHIPPED, dest / "libzcopy.so")
            print(f"zcopy: shipping {SHIPPED} as zcopy/_lib/libzcopy.so")


class PlatformDistribution(Distribution):
    """A wheel that carries a shared library is platform specific."""

    def has_ext_modules(self):
        return SHIPPED is not None


setup(cmdclass={"build_py": BuildPyShippingLibrary}, distclass=PlatformDistribution)
