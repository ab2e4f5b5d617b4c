"""Build hook for the zcopy Python package: builds libzcopy.so with setuptools-rust.

The package is ctypes over libzcopy.so, a Rust cdylib with a C ABI and no
Python binding. Installing it builds that library with cargo (release
profile) and ships it inside the package as ``zcopy/_lib/libzcopy.so``:

- from a checkout, the crate is the repository's (``../../Cargo.toml``);
- from an sdist, it is the copy the sdist carries in ``rust/`` (the
  ``sdist`` command below puts the crate's sources there).

Without a Rust toolchain the install fails and says so (cargo and rustc
must be on PATH; https://rustup.rs). Two ways around a build:

- ``ZCOPY_BUNDLE_LIBRARY=/path/to/libzcopy.so``: ship that file instead;
  (``make wheels`` ships the glibc 2.17 library it linked, naming the
  wheel's platform in ``ZCOPY_WHEEL_PLATFORM``);
- ``ZCOPY_BUNDLE_LIBRARY=none``: ship no library; the package then finds
  one at run time (``ZCOPY_LIBRARY``, a checkout, the system; see
  zcopy/_loader.py).

The wheel is tagged ``py3-none-<platform>``: nothing in it is compiled
against CPython, so one wheel serves every Python 3 on that platform.
"""

import os
import re
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools_rust import Binding, RustExtension
from setuptools_rust.build import build_rust

HERE = Path(__file__).resolve().parent
LIB_NAME = "libzcopy.so"

#: What of the crate a build needs; the sdist carries exactly these.
CRATE_FILES = ["Cargo.toml", "Cargo.lock", "build.rs", "cbindgen.toml", "zcopy.map"]
CRATE_DIRS = ["src", "include"]


def is_zcopy_crate(d):
    cargo = d / "Cargo.toml"
    return cargo.is_file() and re.search(r'^\s*name\s*=\s*"libzcopy"\s*$', cargo.read_text(), re.M)


def crate_dir():
    """The crate to build: the sdist's copy, else the checkout this package sits in."""
    for d in (HERE / "rust", HERE.parent.parent):
        if is_zcopy_crate(d):
            return d
    raise SystemExit(
        f"zcopy: no Rust crate to build libzcopy from (looked in {HERE / 'rust'} and "
        f"{HERE.parent.parent}); install from a zcopy checkout or sdist, or set "
        "ZCOPY_BUNDLE_LIBRARY to a built libzcopy.so"
    )


def bundle_choice():
    """None: build with cargo; "none": ship nothing; else the path of a library to ship."""
    choice = os.environ.get("ZCOPY_BUNDLE_LIBRARY")
    if choice is None:
        return None
    if choice.strip().lower() in ("", "none", "0", "no"):
        return "none"
    if not Path(choice).is_file():
        raise SystemExit(f"ZCOPY_BUNDLE_LIBRARY={choice!r}: no such file")
    return choice


BUNDLE = bundle_choice()


class BuildRustCdylib(build_rust):
    """build_rust that names the library libzcopy.so, not as a CPython extension module.

    setuptools-rust names a NoBinding cdylib like an extension module
    (``libzcopy.cpython-311-x86_64-linux-gnu.so``); the loader, and any C
    program, want the plain name.
    """

    def get_dylib_ext_path(self, ext, target_fname):
        path = super().get_dylib_ext_path(ext, target_fname)
        return os.path.join(os.path.dirname(path), LIB_NAME)


class WheelForAnyPython3(bdist_wheel):
    """A platform wheel (it holds a shared library) for every Python 3: py3-none-<platform>."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = BUNDLE == "none"

    def get_tag(self):
        _, _, plat = super().get_tag()
        # make wheels bundles a library built for another machine (aarch64)
        # and names its platform; auditwheel then checks and retags it.
        plat = os.environ.get("ZCOPY_WHEEL_PLATFORM") or plat
        return "py3", "none", "any" if BUNDLE == "none" else plat


class SdistWithCrate(sdist):
    """An sdist that carries the crate (in rust/), so that it builds on its own."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        src = crate_dir()
        dest = Path(base_dir) / "rust"
        dest.mkdir(parents=True, exist_ok=True)
        for name in CRATE_FILES:
            shutil.copy2(src / name, dest / name)
        for name in CRATE_DIRS:
            shutil.copytree(src / name, dest / name, dirs_exist_ok=True)
        # the checkout's [workspace] names members (the CLI, ...) the sdist
        # does not carry: the copy's table is emptied, a workspace of itself
        cargo = dest / "Cargo.toml"
        text = re.sub(r"(?ms)^\[workspace\][ \t]*\n.*?(?=^\[|\Z)", "[workspace]\n\n", cargo.read_text())
        cargo.write_text(text)


class BuildPyShippingLibrary(build_py):
    """build_py that copies ZCOPY_BUNDLE_LIBRARY into zcopy/_lib/ (no cargo build)."""

    def run(self):
        super().run()
        dest = Path(self.build_lib) / "zcopy" / "_lib"
        shutil.rmtree(dest, ignore_errors=True)  # never ship a stale copy from an earlier build
        if BUNDLE not in (None, "none"):
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(BUNDLE, dest / LIB_NAME)
            print(f"zcopy: shipping {BUNDLE} as zcopy/_lib/{LIB_NAME}")


kwargs = {}
if BUNDLE is None:
    cargo_toml = crate_dir() / "Cargo.toml"
    kwargs["rust_extensions"] = [
        RustExtension(
            "zcopy._lib.libzcopy",
            path=os.path.relpath(cargo_toml),
            binding=Binding.NoBinding,
        )
    ]
    cmdclass = {"build_rust": BuildRustCdylib}
else:
    cmdclass = {"build_py": BuildPyShippingLibrary}

class DistributionWithLibrary(Distribution):
    """A distribution that ships a shared library (a bundled one too).

    Without an extension module setuptools installs the package as purelib
    (zcopy-X.data/purelib/ in the wheel), where auditwheel refuses to look
    at a shared library; a library inside makes it platlib.
    """

    def has_ext_modules(self):
        return BUNDLE != "none"


cmdclass.update(bdist_wheel=WheelForAnyPython3, sdist=SdistWithCrate)
setup(cmdclass=cmdclass, distclass=DistributionWithLibrary, zip_safe=False, **kwargs)
