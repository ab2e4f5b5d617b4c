"""zcopy: zero-copy I/O between file descriptors on Linux.

Plain ctypes over ``libzcopy.so`` (splice through a pipe pool, sendfile,
copy_file_range, and a best-path ``copy``). Every fd-level function takes
its two ends by keyword only, ``src=`` and ``dst=``, each an ``int`` file
descriptor or an object with ``fileno()`` (sockets, files), moves at most
``count`` bytes (``None``: until end of file) and returns the number of
bytes moved: ``zcopy.copy(src=f, dst=sock)``. A positional call raises a
TypeError that shows that form (see zcopy/_keywords.py for why).

The shutil-like functions keep shutil's ``(src, dst)``: :func:`copyfile`,
:func:`copyfileobj` and :func:`copy2` (paths and file objects, drop-in
replacements for shutil's). :func:`copy` is not ``shutil.copy``: it is the
fd-level best-path dispatch, like Go's ``io.Copy``.

The GIL is released during every call, so threads relay in parallel.
Every blocking call takes ``timeout=`` (seconds without a byte moved:
TimeoutError; by default a socket's own ``settimeout``) and ``cancel=`` (a
:class:`CancelToken`: :class:`Cancelled`), and Ctrl-C interrupts it within
about 100 ms (see zcopy/_control.py); :mod:`zcopy.aio` runs on an event loop.

Errors raise :class:`zcopy.Error`, an :class:`OSError` whose class also
matches the errno (``BrokenPipeError``, ``ConnectionResetError``, ...), with
``.written`` (bytes that reached dst before the error) and ``.method``. A
mechanism that cannot serve the pair of fds raises :class:`NotHandled`
without consuming anything, so the caller can fall back.

A negative ``count`` raises ValueError before any system call.

Python file objects: a buffered object gives exactly the bytes its reader
would see next (its read-ahead first, or its fd moved back over it), a
buffered dst's pending writes are flushed first, and both objects' positions
are right afterwards. Objects whose bytes are not their fd's (ssl.SSLSocket,
text files, gzip/bz2/lzma files, io.BytesIO) raise TypeError before anything
moves: :func:`copyfileobj` copies those with shutil's own loop.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import os
from typing import NamedTuple, Optional, Protocol, Union

from . import _loader
from ._control import OPT_NOWAIT, CancelToken, Control
from ._keywords import ends_by_keyword
from ._errors import EPANIC, Cancelled, Error, NotHandled, method_name
from ._transfer import ALL, offset_arg, transfer

__all__ = [
    "ALL",
    "CancelToken",
    "Cancelled",
    "EPANIC",
    "Error",
    "FileLike",
    "NotHandled",
    "PoolStats",
    "copy",
    "copy2",
    "copy_file_range",
    "copyfile",
    "copyfileobj",
    "Engine",
    "EngineStats",
    "RelayFuture",
    "clone",
    "disable",
    "disabled",
    "relay",
    "library_path",
    "method_name",
    "pool_configure",
    "pool_drain",
    "pool_stats",
    "sendfile",
    "splice",
]

_lib = _loader.LIB

#: Path (or soname) of the libzcopy that was loaded.
library_path: str = _loader.LIBRARY_PATH

#: The C library's version string, from ``zcopy_version()``.
__version__: str = _lib.zcopy_version().decode()


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


#: What the transfer functions accept for dst and src.
FileLike = Union[int, _HasFileno]


def _controlled(timeout: Optional[float], cancel: Optional[CancelToken], src: FileLike, dst: FileLike,
                flags: int = 0) -> Control:
    return Control(timeout, cancel, (src, dst), flags)


@ends_by_keyword("splice")
def splice(*, src: FileLike, dst: FileLike, count: Optional[int] = None,
           timeout: Optional[float] = None, cancel: Optional[CancelToken] = None) -> int:
    """Moves up to ``count`` bytes from src to dst with splice(2).

    Socket to socket (or file) goes through a pipe borrowed from the
    library's pool; when either side is a pipe it splices directly. Returns
    the bytes moved; fewer than ``count`` means src reached end of file.
    Blocking fds block; non-blocking ones are waited on with poll(2).

    Raises:
        NotHandled: the kernel cannot splice from src, dst is O_APPEND, or
            no pipe could be had (nothing consumed).
        TimeoutError: ``timeout`` seconds (or the socket's own timeout) passed
            with no byte moved; a zcopy.Error with ``.written``.
        zcopy.Cancelled: ``cancel`` was cancelled; with ``.written``.
        Error: any other failure, as the matching OSError subclass
            (BrokenPipeError when dst's peer is gone, ...), with ``.written``.
            Bytes taken from src but not delivered are lost.
        ValueError: ``count`` is negative.
    """
    return transfer(_lib.zcopy_splice_opts, src=src, dst=dst, count=count,
                    control=_controlled(timeout, cancel, src, dst))


@ends_by_keyword("sendfile")
def sendfile(*, src: FileLike, dst: FileLike, count: Optional[int] = None, offset: Optional[int] = None,
             timeout: Optional[float] = None, cancel: Optional[CancelToken] = None, nowait: bool = False) -> int:
    """Moves up to ``count`` bytes from the file src to dst with sendfile(2).

    With ``offset=None`` the bytes come from src's file position, which
    advances. With an ``offset`` they come from that position in src, and
    src's own file position is neither used nor changed (so threads can
    serve ranges of one shared fd); the caller's next offset is
    ``offset + returned``. Returns the bytes moved (fewer than ``count`` at
    end of file).

    ``nowait=True`` (for event loops, like ``socket.send`` on a
    non-blocking socket): the call never waits for room in dst. It returns
    the bytes that fitted (possibly fewer than ``count`` before end of
    file: wait until dst is writable, then call again from where it
    stopped), and raises BlockingIOError when not one byte fitted.
    ``timeout`` has no effect then; ``cancel`` is looked at once.

    Raises:
        NotHandled: src is not a file the kernel can send from, or dst is
            O_APPEND (nothing consumed).
        TimeoutError: ``timeout`` seconds (or the socket's own timeout) passed
            with no byte moved; a zcopy.Error with ``.written``.
        zcopy.Cancelled: ``cancel`` was cancelled; with ``.written``.
        BlockingIOError: ``nowait=True`` and dst had no room (a zcopy.Error,
            ``.written`` 0).
        Error: any other failure, as the matching OSError subclass.
        ValueError: ``count`` or ``offset`` is negative.
    """
    control = _controlled(timeout, cancel, src, dst, OPT_NOWAIT if nowait else 0)
    try:
        if offset is None:
            return transfer(_lib.zcopy_sendfile_opts, src=src, dst=dst, count=count, control=control)
        off = offset_arg("offset", offset)
        return transfer(lambda d, s, n, o: _lib.zcopy_sendfile_at_opts(d, s, ctypes.byref(off), n, o),
                        src=src, dst=dst, count=count, control=control, positional=True)
    except BlockingIOError as e:
        # nowait: what fitted is the result, as socket.send returns it
        written = getattr(e, "written", 0)
        if nowait and written:
            return int(written)
        raise


@ends_by_keyword("copy_file_range")
def copy_file_range(
    *,
    src: FileLike,
    dst: FileLike,
    count: Optional[int] = None,
    src_offset: Optional[int] = None,
    dst_offset: Optional[int] = None,
    timeout: Optional[float] = None,
    cancel: Optional[CancelToken] = None,
) -> int:
    """Copies up to ``count`` bytes between regular files with copy_file_range(2).

    An offset left None uses and advances that file's position; a given
    offset is used instead, and that file's position is untouched (the new
    offset is ``offset + returned``). Returns the bytes copied (fewer than
    ``count`` at end of file).

    Raises:
        NotHandled: the kernel cannot copy between these files (other
            filesystem, procfs source that reports size 0, O_APPEND dst,
            seccomp, ...): nothing was copied; fall back.
        TimeoutError: ``timeout`` seconds (or the socket's own timeout) passed
            with no byte moved; a zcopy.Error with ``.written``.
        zcopy.Cancelled: ``cancel`` was cancelled; with ``.written``.
        Error: any other failure, as the matching OSError subclass.
        ValueError: ``count`` or an offset is negative.
    """
    control = _controlled(timeout, cancel, src, dst)
    if src_offset is None and dst_offset is None:
        return transfer(_lib.zcopy_copy_file_range_opts, src=src, dst=dst, count=count, control=control)
    so = None if src_offset is None else offset_arg("src_offset", src_offset)
    do = None if dst_offset is None else offset_arg("dst_offset", dst_offset)

    def call(d: int, s: int, n: int, opts: object) -> _loader.Result:
        # zcopy_copy_file_range_at_opts takes both offsets: a side given
        # none copies at that file's position, which then moves on by the
        # bytes copied, as copy_file_range(2) with a NULL offset does.
        try:
            dp = do if do is not None else ctypes.c_int64(os.lseek(d, 0, os.SEEK_CUR))
            sp = so if so is not None else ctypes.c_int64(os.lseek(s, 0, os.SEEK_CUR))
        except OSError:  # ESPIPE: a pipe or socket, which copy_file_range refuses
            r0 = _loader.Result()
            r0.error, r0.method, r0.handled = _errno.EINVAL, 3, False
            return r0
        r: _loader.Result = _lib.zcopy_copy_file_range_at_opts(d, ctypes.byref(dp), s, ctypes.byref(sp), n, opts)
        if do is None and r.written:
            os.lseek(d, dp.value, os.SEEK_SET)
        if so is None and r.written:
            os.lseek(s, sp.value, os.SEEK_SET)
        return r

    return transfer(call, src=src, dst=dst, count=count, control=control, positional=so is not None)


@ends_by_keyword("copy")
def copy(*, src: FileLike, dst: FileLike, count: Optional[int] = None,
         timeout: Optional[float] = None, cancel: Optional[CancelToken] = None) -> int:
    """Copies up to ``count`` bytes from src to dst by the fastest safe path.

    ``zcopy.copy(src=f, dst=sock)``: the fd-level dispatch, like Go's
    io.Copy, not ``shutil.copy``: src and dst are open files, sockets,
    pipes or fds, by keyword only. For paths, :func:`zcopy.copy2` is
    ``shutil.copy2`` and :func:`zcopy.copyfile` is ``shutil.copyfile``.

    Picks copy_file_range, sendfile, splice or a read/write loop from the
    kinds of the two fds (splicing socket to socket too), falling back as
    needed; it never raises NotHandled. Returns the bytes moved.

    Raises:
        TimeoutError: ``timeout`` seconds (or the socket's own timeout) passed
            with no byte moved; a zcopy.Error with ``.written``.
        zcopy.Cancelled: ``cancel`` was cancelled; with ``.written``.
        Error: the copy failed, as the matching OSError subclass, with
            ``.written`` counting every mechanism's bytes and ``.method``
            the mechanism that failed.
        ValueError: ``count`` is negative.
    """
    return transfer(_lib.zcopy_copy_opts, src=src, dst=dst, count=count,
                    control=_controlled(timeout, cancel, src, dst))


class PoolStats(NamedTuple):
    """A snapshot of the pipe pool's counters (each read atomically)."""

    idle: int
    """Pipes parked in the pool now."""
    in_use: int
    """Pipes lent to calls and splicers now."""
    created: int
    """Pipes created since the library was loaded."""
    reused: int
    """Times a call got an idle pipe instead of a new one."""
    discarded: int
    """Pipes closed because they held data, overflowed the idle cap, or were inherited across fork()."""


def pool_stats() -> PoolStats:
    """Returns the pipe pool's counters as an immutable :class:`PoolStats`."""
    s = _loader.PoolStatsStruct()
    _lib.zcopy_pool_get_stats(ctypes.byref(s))
    return PoolStats(s.idle, s.in_use, s.created, s.reused, s.discarded)


def pool_drain() -> int:
    """Closes the pool's idle pipes (shared list and this thread's own); returns how many."""
    return int(_lib.zcopy_pool_drain())


def pool_configure(max_idle: Optional[int] = None, pipe_size: Optional[int] = None) -> None:
    """Configures the pipe pool; None keeps a setting as it is.

    Args:
        max_idle: the most idle pipes kept (1 to 65536; default 16).
        pipe_size: bytes every new pipe is grown to (4096 to 1 GiB; the
            kernel rounds up to a power-of-two number of pages). Changing
            it closes the idle pipes of the old size. Never set: 1 MiB,
            except that a process without CAP_SYS_RESOURCE sizes new pipes
            down (to 16 KiB at least) once its pipes use half of
            /proc/sys/fs/pipe-user-pages-soft. Either way a pipe the kernel
            refused to grow is kept and used at its real size.

    Raises:
        ValueError: a value is out of range (nothing changed).
    """
    vals = []
    for name, v in (("max_idle", max_idle), ("pipe_size", pipe_size)):
        if v is None:
            vals.append(0)
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be an int or None, got {type(v).__name__}")
        if v <= 0 or v >= 1 << 64:
            raise ValueError(f"{name} out of range: {v}")
        vals.append(v)
    rc = _lib.zcopy_pool_configure(vals[0], vals[1])
    if rc == _errno.EINVAL:
        raise ValueError(f"pool_configure: out of range (max_idle={max_idle}, pipe_size={pipe_size})")
    if rc:
        raise OSError(rc, os.strerror(rc))


from ._relay import Engine, EngineStats, RelayFuture, relay  # noqa: E402
from ._mechanisms import clone, disable, disabled  # noqa: E402
from ._shutil_like import copy2, copyfile, copyfileobj  # noqa: E402 (they call copy, defined above)
