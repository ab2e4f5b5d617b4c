"""Zero-copy splicing on an asyncio event loop (default loop or uvloop).

Built on the library's non-blocking splicer (``zcopy_splicer_*``): each
direction owns a kernel pipe from the pool, bytes move socket -> pipe ->
socket without entering Python, and bytes taken from the source wait in the
pipe (never lost) while the destination is full. The loop's add_reader /
add_writer tell when to step again.

The fds must be non-blocking (``sock.setblocking(False)``) and must not be
driven by another reader or writer on the same loop at the same time (e.g.
a socket owned by an asyncio transport): pass plain sockets, such as those
from ``loop.sock_accept`` or ``socket.create_connection(...)`` followed by
``setblocking(False)``.

Cancelling the awaiting task stops cleanly: the readers and writers are
removed, the splicer is freed (bytes it still held are dropped with its
pipe) and CancelledError propagates.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno as _errno
import os
import socket
from typing import Any, Optional, Tuple

from . import ALL, Error, FileLike, _count, _fd, _lib, _loader, _objects
from ._errors import raise_for

__all__ = ["Splicer", "relay", "splice"]

WANT_READ = 1
"""zcopy_splicer_wants(): wait until src is readable."""
WANT_WRITE = 2
"""zcopy_splicer_wants(): wait until dst is writable."""


class Splicer:
    """A non-blocking splicer for one direction (wraps ``zcopy_splicer_*``).

    Low level: most code wants :func:`splice` or :func:`relay`. Use as a
    context manager or call :meth:`close`; a splicer must not be used by two
    threads at once.
    """

    # set before __init__ can fail, so that __del__ finds it
    _ptr: Optional[int] = None

    def __init__(self) -> None:
        ptr = _lib.zcopy_splicer_new()
        if not ptr:
            err = ctypes.get_errno() or _errno.ENOMEM
            raise OSError(err, f"zcopy_splicer_new: {os.strerror(err)}")
        self._ptr = ptr

    def step(self, dst_fd: int, src_fd: int, remain: int = ALL) -> _loader.Result:
        """One non-blocking step; returns the raw ``zcopy_result``."""
        if self._ptr is None:
            raise ValueError("the splicer is closed")
        r: _loader.Result = _lib.zcopy_splicer_step(self._ptr, dst_fd, src_fd, remain)
        return r

    @property
    def pending(self) -> int:
        """Bytes taken from src and not yet delivered to dst."""
        return int(_lib.zcopy_splicer_pending(self._ptr)) if self._ptr else 0

    @property
    def wants(self) -> int:
        """What the last step waits for: WANT_READ, WANT_WRITE or 0."""
        return int(_lib.zcopy_splicer_wants(self._ptr)) if self._ptr else 0

    @property
    def eof(self) -> bool:
        """True once src reached end of stream and nothing is pending."""
        return bool(_lib.zcopy_splicer_eof(self._ptr)) if self._ptr else False

    def close(self) -> None:
        """Frees the splicer (an empty pipe goes back to the pool). Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            _lib.zcopy_splicer_free(ptr)

    def __enter__(self) -> "Splicer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


class _Pump:
    """Drives one splicer from loop callbacks until done; result in .future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, dst: int, src: int, count: Optional[int]) -> None:
        self.loop = loop
        self.dst = dst
        self.src = src
        self.count = count  # None: until EOF
        self.written = 0
        self.splicer = Splicer()
        self.future: asyncio.Future[int] = loop.create_future()
        self.reading = False
        self.writing = False
        self.handle: Optional[asyncio.Handle] = None

    def _watch(self, want: int) -> None:
        # keep a registration across steps while the same readiness is wanted
        if want == WANT_READ:
            if self.writing:
                self.loop.remove_writer(self.dst)
                self.writing = False
            if not self.reading:
                self.loop.add_reader(self.src, self.run)
                self.reading = True
        else:
            if self.reading:
                self.loop.remove_reader(self.src)
                self.reading = False
            if not self.writing:
                self.loop.add_writer(self.dst, self.run)
                self.writing = True

    def stop(self) -> None:
        """Removes every registration and frees the splicer."""
        if self.reading:
            self.loop.remove_reader(self.src)
            self.reading = False
        if self.writing:
            self.loop.remove_writer(self.dst)
            self.writing = False
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self.splicer.close()

    def run(self) -> None:
        self.handle = None
        if self.future.done():
            return
        try:
            self._run()
        except BaseException as e:  # report through the future
            self.stop()
            if not self.future.done():
                self.future.set_exception(e)

    def _run(self) -> None:
        sp = self.splicer
        if self.count is None:
            take = ALL
        else:
            take = self.count - self.written - sp.pending
        r = sp.step(self.dst, self.src, take)
        self.written += r.written
        err = r.error
        if err == _errno.EAGAIN and r.handled:
            self._watch(sp.wants)
            return
        if err or not r.handled:
            pending = sp.pending
            try:
                raise_for(r)
            except Error as e:
                e.written = self.written
                e.pending = pending
                raise
        done = sp.eof or (self.count is not None and self.written >= self.count and sp.pending == 0)
        if done:
            self.stop()
            self.future.set_result(self.written)
            return
        # the step's budget ran out: let the loop run others, then go on
        self.handle = self.loop.call_soon(self.run)


def _src_fd(obj: FileLike, name: str) -> int:
    """src's fd; a Python buffer holding bytes read ahead is refused (the loop splices the fd only)."""
    end = _objects.source(obj)
    if end.held:
        raise TypeError(f"{name} holds {len(end.held)} bytes in its Python buffer that a splice would skip; "
                        "pass the socket itself")
    return end.fd


def _nonblocking(fd: int, name: str) -> None:
    if os.get_blocking(fd):
        raise ValueError(f"{name} must be non-blocking (call setblocking(False) on it)")


async def splice(dst: FileLike, src: FileLike, count: Optional[int] = None) -> int:
    """Moves up to ``count`` bytes from src to dst on the running loop.

    ``count=None`` moves until src reaches end of stream. Returns the bytes
    delivered to dst. dst is not half-closed (see :func:`relay`).

    Raises:
        NotHandled: the kernel cannot splice from src (nothing consumed).
        zcopy.Error: a hard error (BrokenPipeError, ConnectionResetError,
            ...) with ``.written`` (bytes delivered) and ``.pending`` (bytes
            taken from src but not delivered, dropped with the splicer).
        ValueError: a negative count, or a blocking fd.
        asyncio.CancelledError: the task was cancelled; registrations are
            removed and the splicer freed first.
    """
    n = None if count is None else _count(count)
    d = _objects.sink(dst).fd
    s = _src_fd(src, "src")
    _nonblocking(d, "dst")
    _nonblocking(s, "src")
    if n == 0:
        return 0
    pump = _Pump(asyncio.get_running_loop(), d, s, n)
    try:
        pump.run()
        return await pump.future
    finally:
        pump.stop()


def _shutdown(obj: FileLike, how: int) -> None:
    """shutdown(2) on a socket object or a bare fd; a peer already gone is fine."""
    try:
        if hasattr(obj, "shutdown"):
            obj.shutdown(how)
        else:
            s = socket.socket(fileno=os.dup(_fd(obj)))
            try:
                s.shutdown(how)
            finally:
                s.close()
    except OSError:
        pass  # the peer is gone already: nothing to tell it


async def relay(a: FileLike, b: FileLike) -> Tuple[int, int]:
    """Relays both ways between two connected non-blocking sockets.

    Each direction splices until its source reaches end of stream, then
    half-closes its destination (shutdown(SHUT_WR)). Returns
    ``(a_to_b, b_to_a)``, the bytes moved each way, when both are done. The
    sockets are not closed.

    Raises:
        zcopy.Error: a direction failed (reset, broken pipe); the other
            direction is stopped and both sockets are shut down; the
            exception's ``.written`` counts the failed direction's bytes.
        asyncio.CancelledError: cancelled; both directions stopped and
            their splicers freed.
    """
    fa, fb = _src_fd(a, "a"), _src_fd(b, "b")
    _nonblocking(fa, "a")
    _nonblocking(fb, "b")
    loop = asyncio.get_running_loop()
    ab = _Pump(loop, fb, fa, None)
    try:
        ba = _Pump(loop, fa, fb, None)
    except BaseException:
        ab.stop()
        raise
    pumps = ((ab, b), (ba, a))
    try:
        for p, _ in pumps:
            p.run()
        pending = {p.future for p, _ in pumps}
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for p, dst in pumps:
                if p.future in done:
                    if p.future.exception() is not None:
                        for q in (a, b):
                            _shutdown(q, socket.SHUT_RDWR)
                        raise p.future.exception()  # type: ignore[misc]
                    _shutdown(dst, socket.SHUT_WR)
        return ab.future.result(), ba.future.result()
    finally:
        for p, _ in pumps:
            p.stop()
            if not p.future.done():
                p.future.cancel()
