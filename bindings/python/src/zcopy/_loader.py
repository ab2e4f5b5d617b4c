"""Finds and loads libzcopy.so, and declares the C signatures.

Lookup order (the first place that loads wins):

1. the ``ZCOPY_LIBRARY`` environment variable (a path to the .so). When it
   is set it is the only place tried: a wrong path is an ImportError, never
   a silent fallback to another copy;
2. a copy shipped inside the installed package: ``zcopy/_lib/libzcopy.so*``;
3. the zcopy repository this package sits in (found by walking up from this
   file to a directory whose ``Cargo.toml`` names the ``zcopy`` package):
   ``target/release/libzcopy.so`` then ``target/debug/libzcopy.so``;
4. the system: ``libzcopy.so.0``, ``libzcopy.so`` and whatever
   ``ctypes.util.find_library("zcopy")`` names, through the dynamic loader's
   own search (LD_LIBRARY_PATH, ld.so.cache, /usr/lib, ...).

When nothing loads, ImportError lists every place tried and why it failed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
from pathlib import Path
from typing import List, Optional, Tuple

ENV_VAR = "ZCOPY_LIBRARY"

_PKG_DIR = Path(__file__).resolve().parent
_CARGO_NAME = re.compile(r'^\s*name\s*=\s*"zcopy"\s*$', re.MULTILINE)


class Result(ctypes.Structure):
    """Mirror of ``struct zcopy_result`` (include/zcopy.h), field for field."""

    _fields_ = [
        ("written", ctypes.c_int64),
        ("error", ctypes.c_int32),
        ("method", ctypes.c_int32),
        ("handled", ctypes.c_bool),
        ("reserved", ctypes.c_uint8 * 7),
    ]


class PoolStatsStruct(ctypes.Structure):
    """Mirror of ``struct zcopy_pool_stats``."""

    _fields_ = [
        ("idle", ctypes.c_uint64),
        ("in_use", ctypes.c_uint64),
        ("created", ctypes.c_uint64),
        ("reused", ctypes.c_uint64),
        ("discarded", ctypes.c_uint64),
    ]


def find_repo_root(start: Path) -> Optional[Path]:
    """The nearest directory at or above ``start`` holding zcopy's Cargo.toml."""
    for d in (start, *start.parents):
        cargo = d / "Cargo.toml"
        try:
            if cargo.is_file() and _CARGO_NAME.search(cargo.read_text(errors="replace")):
                return d
        except OSError:
            continue
    return None


def candidates() -> List[Tuple[str, str]]:
    """The places to try, in order, as (description, path or soname)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return [(f"${ENV_VAR}", env)]
    out: List[Tuple[str, str]] = []
    shipped_dir = _PKG_DIR / "_lib"
    shipped = sorted(shipped_dir.glob("libzcopy.so*")) if shipped_dir.is_dir() else []
    if shipped:
        out.extend(("shipped in the package", str(p)) for p in shipped)
    else:
        out.append(("shipped in the package", str(shipped_dir / "libzcopy.so")))
    root = find_repo_root(_PKG_DIR)
    if root is not None:
        for profile in ("release", "debug"):
            out.append((f"repository target/{profile}", str(root / "target" / profile / "libzcopy.so")))
    else:
        out.append(("repository", f"(no zcopy Cargo.toml above {_PKG_DIR})"))
    names = ["libzcopy.so.0", "libzcopy.so"]
    found = ctypes.util.find_library("zcopy")
    if found and found not in names:
        names.append(found)
    out.extend(("system", n) for n in names)
    return out


def _is_path(s: str) -> bool:
    return "/" in s


def load() -> Tuple[ctypes.CDLL, str]:
    """Loads the first library that works; returns it and where it came from."""
    tried: List[str] = []
    for what, where in candidates():
        if where.startswith("("):
            tried.append(f"  {what}: {where}")
            continue
        if _is_path(where) and not os.path.exists(where):
            tried.append(f"  {what}: {where}: no such file")
            continue
        try:
            # CDLL (not PyDLL): every call releases the GIL.
            lib = ctypes.CDLL(where, use_errno=True)
            _declare(lib)
        except (OSError, ImportError) as e:
            tried.append(f"  {what}: {where}: {e}")
            continue
        return lib, where
    hint = (
        f"unset {ENV_VAR} to search the package, the repository and the system"
        if os.environ.get(ENV_VAR)
        else f"build it with `cargo build --release`, or set {ENV_VAR} to its path"
    )
    raise ImportError("zcopy: cannot load libzcopy.so; tried:\n" + "\n".join(tried) + "\n" + hint)


#: The library versions this package speaks to: the same major version
#: (for 0.x, the same minor too, as Cargo reads 0.x versions), at least this.
REQUIRED_VERSION = (0, 1, 0)


class OptionsStruct(ctypes.Structure):
    """Mirror of ``struct zcopy_options`` (40 bytes, version 2: zcopy_options_init writes all 40)."""

    _fields_ = [
        ("size", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("idle_timeout_ms", ctypes.c_int64),
        ("cancel_fd", ctypes.c_int32),
        ("reserved", ctypes.c_int32),
        ("rate_a_to_b", ctypes.c_int64),
        ("rate_b_to_a", ctypes.c_int64),
    ]


class RelayResultStruct(ctypes.Structure):
    """Mirror of ``struct zcopy_relay_result`` (24 bytes)."""

    _fields_ = [
        ("a_to_b", ctypes.c_int64),
        ("b_to_a", ctypes.c_int64),
        ("error", ctypes.c_int32),
        ("error_fd", ctypes.c_int32),
    ]


class EngineStatsStruct(ctypes.Structure):
    """Mirror of ``struct zcopy_engine_stats``."""

    _fields_ = [
        ("active", ctypes.c_uint64),
        ("finished", ctypes.c_uint64),
        ("bytes", ctypes.c_uint64),
        ("pipes_in_use", ctypes.c_uint64),
    ]


_c_int = ctypes.c_int
_i64 = ctypes.c_int64
_p_i64 = ctypes.POINTER(ctypes.c_int64)
_splicer = ctypes.c_void_p  # an opaque zcopy_splicer *
_engine = ctypes.c_void_p  # an opaque zcopy_engine *
_p_opts = ctypes.POINTER(OptionsStruct)
#: zcopy_relay_done_fn: void (*)(void *ctx, zcopy_relay_result result)
DONE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, RelayResultStruct)

# name -> (restype, argtypes): every function of include/zcopy.h
SIGNATURES = {
    "zcopy_version": (ctypes.c_char_p, []),
    "zcopy_method_name": (ctypes.c_char_p, [ctypes.c_int32]),
    "zcopy_splice": (Result, [_c_int, _c_int, _i64]),
    "zcopy_sendfile": (Result, [_c_int, _c_int, _i64]),
    "zcopy_copy_file_range": (Result, [_c_int, _c_int, _i64]),
    "zcopy_copy": (Result, [_c_int, _c_int, _i64]),
    "zcopy_sendfile_at": (Result, [_c_int, _c_int, _p_i64, _i64]),
    "zcopy_copy_file_range_at": (Result, [_c_int, _p_i64, _c_int, _p_i64, _i64]),
    "zcopy_pool_get_stats": (None, [ctypes.POINTER(PoolStatsStruct)]),
    "zcopy_pool_drain": (ctypes.c_uint64, []),
    "zcopy_pool_configure": (ctypes.c_int32, [ctypes.c_uint64, ctypes.c_uint64]),
    "zcopy_splicer_new": (_splicer, []),
    "zcopy_splicer_free": (None, [_splicer]),
    "zcopy_splicer_step": (Result, [_splicer, _c_int, _c_int, _i64]),
    "zcopy_splicer_pending": (_i64, [_splicer]),
    "zcopy_splicer_wants": (ctypes.c_int32, [_splicer]),
    "zcopy_splicer_eof": (ctypes.c_bool, [_splicer]),
    "zcopy_options_init": (None, [_p_opts]),
    "zcopy_copy_opts": (Result, [_c_int, _c_int, _i64, _p_opts]),
    "zcopy_splice_opts": (Result, [_c_int, _c_int, _i64, _p_opts]),
    "zcopy_sendfile_opts": (Result, [_c_int, _c_int, _i64, _p_opts]),
    "zcopy_copy_file_range_opts": (Result, [_c_int, _c_int, _i64, _p_opts]),
    "zcopy_sendfile_at_opts": (Result, [_c_int, _c_int, _p_i64, _i64, _p_opts]),
    "zcopy_copy_file_range_at_opts": (Result, [_c_int, _p_i64, _c_int, _p_i64, _i64, _p_opts]),
    "zcopy_held": (_i64, [_c_int, _c_int]),
    "zcopy_held_discard": (_i64, [_c_int, _c_int]),
    "zcopy_relay": (RelayResultStruct, [_c_int, _c_int, _p_opts]),
    "zcopy_relay_prefixed": (RelayResultStruct, [_c_int, _c_int, ctypes.c_char_p, ctypes.c_size_t,
                                                 ctypes.c_char_p, ctypes.c_size_t, _p_opts]),
    "zcopy_engine_add_prefixed_ex": (ctypes.c_uint64, [_engine, _c_int, _c_int, ctypes.c_char_p, ctypes.c_size_t,
                                                       ctypes.c_char_p, ctypes.c_size_t, _p_opts, DONE_FN,
                                                       ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32)]),
    "zcopy_engine_add_prefixed": (ctypes.c_int32, [_engine, _c_int, _c_int, ctypes.c_char_p, ctypes.c_size_t,
                                                    ctypes.c_char_p, ctypes.c_size_t, _p_opts, DONE_FN,
                                                    ctypes.c_void_p]),
    "zcopy_engine_add_ex": (ctypes.c_uint64, [_engine, _c_int, _c_int, _p_opts, DONE_FN, ctypes.c_void_p,
                                              ctypes.POINTER(ctypes.c_int32)]),
    "zcopy_engine_relay_counts": (ctypes.c_int32, [_engine, ctypes.c_uint64, _p_i64, _p_i64]),
    "zcopy_engine_cancel": (ctypes.c_int32, [_engine, ctypes.c_uint64]),
    "zcopy_engine_new": (_engine, [ctypes.c_uint32]),
    "zcopy_engine_add": (ctypes.c_int32, [_engine, _c_int, _c_int, _p_opts, DONE_FN, ctypes.c_void_p]),
    "zcopy_engine_get_stats": (None, [_engine, ctypes.POINTER(EngineStatsStruct)]),
    "zcopy_engine_free": (None, [_engine]),
    "zcopy_disable": (ctypes.c_uint32, [ctypes.c_uint32]),
    "zcopy_disabled": (ctypes.c_uint32, []),
    "zcopy_clone": (Result, [_c_int, _c_int]),
    # const struct iovec * arrays passed as void pointers (no Python caller yet)
    "zcopy_sendfile_hdr": (Result, [_c_int, ctypes.c_void_p, _c_int, _c_int, _p_i64, _i64, ctypes.c_void_p, _c_int,
                                    _p_opts]),
}


def compatible(version: str) -> bool:
    """Whether a library reporting ``version`` serves this package."""
    try:
        have = tuple(int(p) for p in version.split("-")[0].split(".")[:3])
    except ValueError:
        return False
    if len(have) != 3 or have[0] != REQUIRED_VERSION[0]:
        return False
    if have[0] == 0 and have[1] != REQUIRED_VERSION[1]:
        return False
    return have >= REQUIRED_VERSION


def _declare(lib: ctypes.CDLL) -> None:
    missing = [name for name in SIGNATURES if not hasattr(lib, name)]
    if missing:
        raise ImportError(f"not a usable libzcopy: lacks {', '.join(missing)}")
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    version = lib.zcopy_version().decode(errors="replace")
    if not compatible(version):
        want = ".".join(map(str, REQUIRED_VERSION))
        raise ImportError(f"libzcopy {version} does not serve this package (it needs {want}, same major)")


LIB, LIBRARY_PATH = load()
