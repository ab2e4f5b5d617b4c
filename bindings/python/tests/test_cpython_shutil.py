"""CPython's own shutil copy tests, run on zcopy's functions swapped into shutil as a user does.

The tests are CPython 3.11.7's Lib/test/test_shutil.py, vendored unchanged
in tests/cpython/ (PSF licence, see its header). For each test, shutil's
``copyfile``, ``copyfileobj`` and ``copy2`` are replaced by zcopy's
(``shutil.copyfile = zcopy.copyfile``: how a program adopts a drop-in)
and put back afterwards. ``shutil.copy`` and ``copytree`` stay shutil's
own: they call the module's ``copyfile``, which is then zcopy's, so their
cases run zcopy's data path too (``zcopy.copy`` is the fd-level dispatch,
not shutil.copy's stand-in).

Classes run: TestCopy (copy, copy2, copyfile, copymode, copystat,
copyxattr), TestCopyTree, TestCopyFile (failing open/close), TestCopyFileObj
and TestZeroCopySendfile. Two of the latter's cases are left out, because
they check how shutil's own copyfile moves bytes, which is exactly what
zcopy replaces: test_unhandled_exception and test_blocksize_arg patch
os.sendfile and expect shutil.copyfile to call it. (The other cases that
patch os.sendfile call ``shutil._fastcopy_sendfile`` directly and run.)

CPython's test package (test.support) comes with the interpreter; Debian
ships it apart (libpython3.X-testsuite), which is installed when missing.

Where shutil's behaviour differs between versions, zcopy follows the
running interpreter's. So each other CPython 3.8-3.13 found on the machine
(none on a bare CI box) also runs this runner on its own installed
test_shutil (``ZCOPY_CPYTHON_TEST_SHUTIL=installed``; 3.8 keeps the copy
cases in one class, TestShutil, which runs whole).
"""

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import zcopy
from _util import PKG_SRC, TESTS_DIR, other_pythons

VENDORED = TESTS_DIR / "cpython" / "test_shutil.py"
SWAPS = {"copyfile": zcopy.copyfile, "copyfileobj": zcopy.copyfileobj, "copy2": zcopy.copy2}
LEFT_OUT = {
    "TestZeroCopySendfile": {"test_unhandled_exception", "test_blocksize_arg"},
}
SOURCE = os.environ.get("ZCOPY_CPYTHON_TEST_SHUTIL", "vendored")


def _ensure_test_support():
    """Imports test.support, installing Debian's split-out test package when it is missing."""
    try:
        import test.support  # noqa: F401
        return
    except ImportError:
        pass
    pkg = f"libpython3.{sys.version_info[1]}-testsuite"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", pkg]):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            break
    import test.support  # noqa: F401,F811  (raises: the runner fails, never skips)


def _load():
    _ensure_test_support()
    if SOURCE == "installed":
        return importlib.import_module("test.test_shutil")
    spec = importlib.util.spec_from_file_location("cpython_test_shutil", VENDORED)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cpython = _load()
CLASSES = [c for c in ("TestCopy", "TestCopyTree", "TestCopyFile", "TestCopyFileObj", "TestZeroCopySendfile",
                       "TestShutil") if hasattr(cpython, c)]


class Swapped:
    """Mixin: zcopy's functions are shutil's for the test (its setUp, body and cleanups)."""

    def setUp(self):
        saved = {name: getattr(shutil, name) for name in SWAPS}
        for name, fn in SWAPS.items():
            setattr(shutil, name, fn)

        def restore():
            for name, fn in saved.items():
                setattr(shutil, name, fn)

        self.addCleanup(restore)
        super().setUp()


def _swapped_class(name):
    base = getattr(cpython, name)
    attrs = {"__module__": __name__, "__qualname__": name, "__doc__": f"CPython's {name} on zcopy."}
    for method in LEFT_OUT.get(name, ()):
        attrs[method] = None  # not a test here (see the module docstring)
    return type(name, (Swapped, base), attrs)


for _name in CLASSES:
    globals()[_name] = _swapped_class(_name)
del _name

_cwd = None
_tmp = None


def setUpModule():
    # CPython's tests write TESTFN and friends in the current directory, as
    # regrtest runs them in a scratch one
    global _cwd, _tmp
    _cwd = os.getcwd()
    _tmp = tempfile.mkdtemp(prefix="zcopy-cpython-shutil-")
    os.chdir(_tmp)


def tearDownModule():
    os.chdir(_cwd)
    shutil.rmtree(_tmp, ignore_errors=True)


class RunnerSwapsForReal(Swapped, unittest.TestCase):
    """The swap reaches the code under test, and only the two named cases are left out."""

    def test_shutil_functions_are_zcopys_during_a_test(self):
        self.assertIs(shutil.copyfile, zcopy.copyfile)
        self.assertIs(shutil.copyfileobj, zcopy.copyfileobj)
        self.assertIs(shutil.copy2, zcopy.copy2)

    def test_selection(self):
        cls = globals()["TestZeroCopySendfile"]
        names = set(unittest.defaultTestLoader.getTestCaseNames(cls))
        self.assertIn("test_non_regular_file_src", names)
        self.assertIn("test_same_file", names)
        self.assertFalse(names & LEFT_OUT["TestZeroCopySendfile"])
        if SOURCE == "vendored":
            self.assertEqual(len(CLASSES), 5)
            self.assertGreaterEqual(len(unittest.defaultTestLoader.getTestCaseNames(globals()["TestCopy"])), 23)


if SOURCE == "vendored":  # not in the child runs it starts
    class OtherInterpreters(unittest.TestCase):
        """Each other CPython 3.8-3.13 here runs its own installed test_shutil through this runner."""

        def test_each_interpreters_own_copy_tests(self):
            for version, python in other_pythons().items():
                with self.subTest(version=version):
                    env = dict(os.environ, ZCOPY_CPYTHON_TEST_SHUTIL="installed", PYTHONDONTWRITEBYTECODE="1",
                               PYTHONPATH=os.pathsep.join([str(PKG_SRC), str(TESTS_DIR)]))
                    p = subprocess.run([python, "-m", "unittest", "test_cpython_shutil"], cwd=TESTS_DIR,
                                       env=env, capture_output=True, text=True, timeout=600)
                    self.assertEqual(p.returncode, 0, p.stderr[-6000:])
                    self.assertRegex(p.stderr, r"\nRan [1-9]\d+ tests")


if __name__ == "__main__":
    unittest.main()
