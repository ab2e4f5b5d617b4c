"""Library lookup order, the ImportError, the version and the C signatures."""

import ctypes
import ctypes.util
import os
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import zcopy
from zcopy import _loader
from _util import PKG_SRC, REPO

PRINT_PATH = "import zcopy; print(zcopy.library_path)"


def real_library():
    """The libzcopy this test run uses (ZCOPY_LIBRARY from the runner, else what loaded)."""
    return os.environ.get("ZCOPY_LIBRARY") or zcopy.library_path


class LookupOrder(unittest.TestCase):
    def setUp(self):
        lib = real_library()
        self.assertTrue(os.path.isfile(lib), f"no library file to copy: {lib}")
        self.lib = lib
        self.tmp = Path(tempfile.mkdtemp(prefix="zcopy-loader-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # a fake checkout: Cargo.toml naming zcopy, the package under bindings/python/src
        self.repo = self.tmp / "repo"
        self.src = self.repo / "bindings" / "python" / "src"
        shutil.copytree(PKG_SRC / "zcopy", self.src / "zcopy",
                        ignore=shutil.ignore_patterns("__pycache__", "_lib"))
        (self.repo / "Cargo.toml").write_text('[package]\nname = "zcopy"\nversion = "0.0.0"\n')

    def run_fake(self, env_extra=None):
        env = {"PYTHONPATH": str(self.src)}
        env.update(env_extra or {})
        # cwd is a directory with nothing in it: lookup must not depend on it
        return run_python_plain(PRINT_PATH, env, cwd=str(self.tmp))

    def place(self, rel):
        p = self.repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.lib, p)
        return str(p)

    def test_order(self):
        # nothing anywhere (and no system libzcopy on this machine): ImportError naming every place
        p = self.run_fake()
        if p.returncode == 0:
            # a system-wide libzcopy exists; it must then be a system name, not a path of ours
            self.assertNotIn(str(self.repo), p.stdout)
        else:
            self.assertIn("ImportError", p.stderr)
            for what in ("shipped in the package", "repository target/release",
                         "repository target/debug", "system", "libzcopy.so.0",
                         str(self.src / "zcopy" / "_lib" / "libzcopy.so"),
                         str(self.repo / "target" / "release" / "libzcopy.so"),
                         str(self.repo / "target" / "debug" / "libzcopy.so")):
                self.assertIn(what, p.stderr)
        debug = self.place("target/debug/libzcopy.so")
        p = self.run_fake()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), debug)
        release = self.place("target/release/libzcopy.so")
        p = self.run_fake()
        self.assertEqual(p.stdout.strip(), release, p.stderr)
        shipped = self.place("bindings/python/src/zcopy/_lib/libzcopy.so")
        p = self.run_fake()
        self.assertEqual(p.stdout.strip(), shipped, p.stderr)
        env_lib = str(self.tmp / "elsewhere" / "libzcopy-custom.so")
        os.makedirs(os.path.dirname(env_lib))
        shutil.copy2(self.lib, env_lib)
        p = self.run_fake({"ZCOPY_LIBRARY": env_lib})
        self.assertEqual(p.stdout.strip(), env_lib, p.stderr)

    def test_bad_env_var_is_import_error(self):
        self.place("target/release/libzcopy.so")  # present, but must not be used silently
        missing = str(self.tmp / "nope" / "libzcopy.so")
        p = self.run_fake({"ZCOPY_LIBRARY": missing})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn(missing, p.stderr)
        self.assertIn("no such file", p.stderr)
        self.assertIn("unset ZCOPY_LIBRARY", p.stderr)
        junk = self.tmp / "junk.so"
        junk.write_bytes(b"not an ELF file")
        p = self.run_fake({"ZCOPY_LIBRARY": str(junk)})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(str(junk), p.stderr)
        # a real library that is not libzcopy
        libc = ctypes.util.find_library("c")
        p = self.run_fake({"ZCOPY_LIBRARY": libc})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a usable libzcopy: lacks", p.stderr)
        self.assertIn("zcopy_splice", p.stderr)


def run_python_plain(code, env, cwd):
    """python3 -c code with exactly PYTHONPATH from env and no inherited ZCOPY_LIBRARY."""
    import subprocess
    import sys
    full = {k: v for k, v in os.environ.items() if k not in ("ZCOPY_LIBRARY", "PYTHONPATH")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


class Basics(unittest.TestCase):
    def test_version_matches_cargo(self):
        cargo = (REPO / "Cargo.toml").read_text()
        m = re.search(r'^version\s*=\s*"([^"]+)"', cargo, re.M)
        self.assertIsNotNone(m)
        self.assertEqual(zcopy.__version__, m.group(1))

    def test_env_var_is_what_loaded(self):
        env = os.environ.get("ZCOPY_LIBRARY")
        if env is None:
            self.skipTest("ZCOPY_LIBRARY not set by the runner")
        self.assertEqual(zcopy.library_path, env)

    def test_result_struct_mirrors_c(self):
        fields = [(n, t) for n, t in _loader.Result._fields_]
        self.assertEqual(fields, [("written", ctypes.c_int64), ("error", ctypes.c_int32),
                                  ("method", ctypes.c_int32), ("handled", ctypes.c_bool),
                                  ("reserved", ctypes.c_uint8 * 7)])
        self.assertEqual([getattr(_loader.Result, f).offset for f in ("written", "error", "method", "handled",
                                                                      "reserved")], [0, 8, 12, 16, 17])
        self.assertEqual(ctypes.sizeof(_loader.RelayResultStruct), 24)
        self.assertEqual(ctypes.sizeof(_loader.EngineStatsStruct), 32)
        self.assertEqual(ctypes.sizeof(_loader.Result), 24)
        self.assertEqual(ctypes.sizeof(_loader.PoolStatsStruct), 40)
        self.assertEqual(ctypes.sizeof(_loader.OptionsStruct), 40)
        self.assertEqual([getattr(_loader.OptionsStruct, f).offset for f in
                          ("size", "flags", "idle_timeout_ms", "cancel_fd", "reserved", "rate_a_to_b",
                           "rate_b_to_a")], [0, 4, 8, 16, 20, 24, 32])
        o = _loader.OptionsStruct(size=7, flags=9, idle_timeout_ms=5, cancel_fd=3, reserved=1, rate_a_to_b=2,
                                  rate_b_to_a=4)
        _loader.LIB.zcopy_options_init(ctypes.byref(o))
        self.assertEqual((o.size, o.flags, o.idle_timeout_ms, o.cancel_fd, o.reserved, o.rate_a_to_b, o.rate_b_to_a),
                         (40, 0, 0, -1, 0, 0, 0))

    def test_every_function_declared(self):
        header = (REPO / "include" / "zcopy.h").read_text()
        header = re.sub(r"/\*.*?\*/", "", header, flags=re.S)  # drop comments
        header = re.sub(r"//[^\n]*", "", header)
        declared = set(re.findall(r"\b(zcopy_[a-z_]+)\s*\(", header))
        self.assertTrue(declared)
        self.assertEqual(declared - set(_loader.SIGNATURES), set(),
                         "functions in include/zcopy.h without a ctypes signature")
        for name in declared:
            fn = getattr(_loader.LIB, name)
            self.assertIsNotNone(fn.argtypes, name)
            self.assertEqual(fn.argtypes, _loader.SIGNATURES[name][1], name)
            self.assertEqual(fn.restype, _loader.SIGNATURES[name][0], name)

    def test_one_version_check(self):
        for version, ok in (("0.1.0", True), ("0.1.7", True), ("0.2.0", False), ("1.1.0", False),
                            ("0.0.9", False), ("garbage", False), ("0.1", False)):
            self.assertIs(_loader.compatible(version), ok, version)

        class Lib:
            """Every function present, but the library reports another version."""

        for name in _loader.SIGNATURES:
            setattr(Lib, name, staticmethod(lambda *a: None))
        Lib.zcopy_version = staticmethod(lambda: b"0.9.0")
        with self.assertRaises(ImportError) as cm:
            _loader._declare(Lib())
        self.assertIn("libzcopy 0.9.0 does not serve this package", str(cm.exception))
        del Lib.zcopy_splicer_step
        with self.assertRaises(ImportError) as cm:
            _loader._declare(Lib())
        self.assertIn("lacks zcopy_splicer_step", str(cm.exception))

    def test_constants_match_the_header(self):
        import zcopy.aio as aio
        header = (REPO / "include" / "zcopy.h").read_text()
        defines = dict(re.findall(r"^#define (ZCOPY_[A-Z_]+) (-?\d+)$", header, re.M))
        self.assertEqual(int(defines["ZCOPY_EPANIC"]), zcopy.EPANIC)
        self.assertEqual(int(defines["ZCOPY_OPT_EINTR"]), zcopy._control.OPT_EINTR)
        self.assertEqual(int(defines["ZCOPY_OPT_CLOSE_BOTH"]), zcopy._control.OPT_CLOSE_BOTH)
        self.assertEqual(int(defines["ZCOPY_WANT_READ"]), aio.WANT_READ)
        self.assertEqual(int(defines["ZCOPY_WANT_WRITE"]), aio.WANT_WRITE)
        for name in ("NONE", "SPLICE", "SENDFILE", "COPY_FILE_RANGE", "READ_WRITE", "CLONE"):
            self.assertEqual(zcopy.method_name(int(defines[f"ZCOPY_METHOD_{name}"])), name.lower())

    def test_method_names(self):
        self.assertEqual([zcopy.method_name(i) for i in range(7)],
                         ["none", "splice", "sendfile", "copy_file_range", "read_write", "clone", "unknown"])

    def test_error_classes(self):
        import errno
        for err, builtin in ((errno.EPIPE, BrokenPipeError), (errno.ECONNRESET, ConnectionResetError),
                             (errno.EAGAIN, BlockingIOError), (errno.ENOENT, FileNotFoundError)):
            cls = zcopy._errors.error_class(err)
            self.assertTrue(issubclass(cls, builtin))
            self.assertTrue(issubclass(cls, zcopy.Error))
        self.assertIs(zcopy._errors.error_class(errno.EBADF), zcopy.Error)
        self.assertTrue(issubclass(zcopy.NotHandled, OSError))


if __name__ == "__main__":
    unittest.main()
