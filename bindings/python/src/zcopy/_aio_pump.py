"""The machinery under zcopy.aio: a splicer per direction, stepped from loop callbacks.

Each direction owns a kernel pipe from the pool (through the library's
``zcopy_splicer_*``); bytes move socket -> pipe -> socket without entering
Python, and bytes taken from the source wait in the pipe (never lost) while
the destination is full. add_reader / add_writer tell when to step again.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno as _errno
import os
import time
from typing import Any, Callable, Iterable, Optional

from . import ALL, Error, _lib, _loader
from ._errors import error_class, raise_for

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


class Pump:
    """Drives one splicer from loop callbacks until done; result in .future."""

    def __init__(self, loop: asyncio.AbstractEventLoop, dst: int, src: int, count: Optional[int],
                 idle: Optional["Idle"] = None) -> None:
        self.loop = loop
        self.idle = idle
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

    def fail(self, e: BaseException) -> None:
        """Ends the pump with ``e`` (its written and pending filled in)."""
        if isinstance(e, Error):
            e.written = self.written
            e.pending = self.splicer.pending
        self.stop()
        if not self.future.done():
            self.future.set_exception(e)

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
        before = sp.pending
        r = sp.step(self.dst, self.src, take)
        self.written += r.written
        if self.idle is not None and (r.written or sp.pending != before):
            self.idle.touch()
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


class Idle:
    """An idle clock over some pumps: no byte moved for ``timeout`` s fails them all.

    touch() is called on every step that moved bytes; it only records the
    time, and the one timer re-arms itself for what is left when it fires.
    The clock is time.monotonic(), not loop.time(): uvloop's loop time is
    in whole milliseconds, cached per iteration, and a timer on it can fire
    a little before the deadline measured by the caller.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float,
                 on_expire: Callable[[BaseException], None]) -> None:
        self.loop = loop
        self.timeout = timeout
        self.on_expire = on_expire
        self.last = time.monotonic()
        self.handle: Optional[asyncio.TimerHandle] = None
        self._arm(timeout)

    def _arm(self, left: float) -> None:
        self.handle = self.loop.call_later(left + 0.001, self._fire)

    def touch(self) -> None:
        self.last = time.monotonic()

    def _fire(self) -> None:
        left = self.last + self.timeout - time.monotonic()
        if left > 0:
            self._arm(left)
            return
        self.handle = None
        err = _errno.ETIMEDOUT
        self.on_expire(error_class(err)(err, f"{os.strerror(err)} (no byte moved for {self.timeout} s)"))

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


def fail_all(pumps: Iterable[Pump]) -> Callable[[BaseException], None]:
    """An Idle on_expire that fails every pump, each with its own exception."""
    def expire(e: BaseException) -> None:
        for p in pumps:
            p.fail(type(e)(*e.args))
    return expire
