"""Both directions of a pair of connections: ``zcopy.relay`` (one call) and ``zcopy.Engine`` (many).

Both move a -> b and b -> a at once through pooled pipes, half-closing each
destination at its source's end of stream (``close_both``: the first end
of stream ends both), until both directions are done. A hard error on
either side ends both and names the side it came from.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import errno as _errno
import os
import threading
from typing import Any, Dict, NamedTuple, Optional, Tuple

from . import _loader, _objects
from ._control import OPT_CLOSE_BOTH, CancelToken, Control, run
from ._errors import EPANIC, Error, error_class

_lib = _loader.LIB


def _fd(obj: Any, name: str) -> int:
    end = _objects.source(obj)
    if end.held:
        raise TypeError(f"{name} holds {len(end.held)} bytes in its Python buffer that a relay "
                        "would skip; pass the socket itself")
    return end.fd


def _relay_error(err: int, error_fd: int, fds: Tuple[int, int], counts: Tuple[int, int]) -> Error:
    side = {fds[0]: "a", fds[1]: "b"}.get(error_fd)
    reason = "internal error in libzcopy (a caught panic)" if err == EPANIC else os.strerror(err)
    where = f"on {side}" if side else "relay"
    e = error_class(err)(err, f"{reason} ({where}; {counts[0]} bytes a->b, {counts[1]} b->a)")
    e.a_to_b, e.b_to_a = counts  # type: ignore[attr-defined]
    e.side = side  # type: ignore[attr-defined]
    e.written = counts[0] + counts[1]
    e.method = "relay"
    return e


def relay(a: Any, b: Any, *, timeout: Optional[float] = None, cancel: Optional[CancelToken] = None,
          close_both: bool = False) -> Tuple[int, int]:
    """Relays both ways between two connected sockets until both directions are done.

    Runs in the calling thread with the GIL released (no thread of its own).
    Each direction half-closes its destination (shutdown(SHUT_WR)) at its
    source's end of stream and the other goes on; with ``close_both`` the
    first end of stream shuts down both write sides and returns. The
    sockets are not closed. Returns ``(a_to_b, b_to_a)``.

    ``timeout``: seconds with no byte moved either way before TimeoutError
    (when not given, the sockets' own ``settimeout``); ``cancel``: a
    :class:`zcopy.CancelToken`. Ctrl-C raises KeyboardInterrupt within
    about 100 ms; a signal handler that does not raise lets the relay go on.

    Raises:
        TimeoutError, zcopy.Cancelled: as above, both sides still open (the
            caller is expected to close them).
        zcopy.Error: a hard error (ConnectionResetError, BrokenPipeError,
            ...) on one side: ``.side`` is "a" or "b"; both directions ended.
        Every exception carries ``.a_to_b`` and ``.b_to_a``.
    """
    fa, fb = _fd(a, "a"), _fd(b, "b")
    ctl = Control(timeout, cancel, (a, b), OPT_CLOSE_BOTH if close_both else 0)
    counts = [0, 0]
    last_fd = [-1]

    def step(opts: Any) -> Tuple[int, int]:
        r = _lib.zcopy_relay(fa, fb, opts)
        counts[0] += r.a_to_b
        counts[1] += r.b_to_a
        last_fd[0] = r.error_fd
        return r.a_to_b + r.b_to_a, r.error

    _, err = run(ctl, step)
    if err:
        raise _relay_error(err, last_fd[0], (fa, fb), (counts[0], counts[1]))
    return counts[0], counts[1]


class EngineStats(NamedTuple):
    """A relay engine's counters (each read atomically)."""

    active: int
    """Relays running now."""
    finished: int
    """Relays ended since the engine started."""
    bytes: int
    """Bytes delivered, both directions, all relays."""
    pipes_in_use: int
    """Pool pipes the engine's relays hold now (only while bytes are in flight)."""


class Engine:
    """Relays many connection pairs on the library's own threads (epoll loops).

    ``Engine(threads=0)``: 0 means one thread per CPU. :meth:`add` hands a
    pair of connected sockets over and returns a
    :class:`concurrent.futures.Future` of ``(a_to_b, b_to_a)``, or of the
    relay's exception (as :func:`relay`'s). The engine never closes the
    sockets; it keeps a reference to them until their relay ends. Future
    callbacks run on an engine thread: keep them short (``asyncio.wrap_future``
    hands the result to a loop). :meth:`close` (or ``with``) ends every
    relay still running with :class:`zcopy.Cancelled` and joins the threads.
    """

    _ptr: Optional[int] = None  # set before __init__ can fail, so that __del__ finds it

    def __init__(self, threads: int = 0) -> None:
        if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= 1024:
            raise ValueError(f"threads must be an int from 0 to 1024, got {threads!r}")
        self._lock = threading.Lock()
        self._relays: Dict[int, Tuple[concurrent.futures.Future, Any, Any, Tuple[int, int]]] = {}
        self._next = 1  # ctx 0 would reach the callback as None
        self._callback = _loader.DONE_FN(self._done)  # alive as long as the engine
        ptr = _lib.zcopy_engine_new(threads)
        if not ptr:
            err = ctypes.get_errno() or _errno.ENOMEM
            raise OSError(err, f"zcopy_engine_new: {os.strerror(err)}")
        self._ptr = ptr

    def add(self, a: Any, b: Any, *, timeout: Optional[float] = None,
            cancel: Optional[CancelToken] = None, close_both: bool = False) -> concurrent.futures.Future:
        """Starts relaying between a and b; returns the Future of ``(a_to_b, b_to_a)``."""
        if self._ptr is None:
            raise ValueError("the engine is closed")
        fa, fb = _fd(a, "a"), _fd(b, "b")
        opts = Control(timeout, cancel, (a, b), OPT_CLOSE_BOTH if close_both else 0).options()
        assert opts is not None  # a fresh clock has not run out
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        with self._lock:
            key = self._next
            self._next += 1
            self._relays[key] = (future, a, b, (fa, fb))
        rc = _lib.zcopy_engine_add(self._ptr, fa, fb, ctypes.byref(opts), self._callback, key)
        if rc:
            with self._lock:
                del self._relays[key]
            raise error_class(rc)(rc, f"zcopy_engine_add: {os.strerror(rc)}")
        return future

    def _done(self, ctx: int, result: Any) -> None:
        # on an engine thread, with the GIL (ctypes takes it for the callback)
        with self._lock:
            future, _, _, fds = self._relays.pop(ctx)
        counts = (result.a_to_b, result.b_to_a)
        if result.error:
            future.set_exception(_relay_error(result.error, result.error_fd, fds, counts))
        else:
            future.set_result(counts)

    def stats(self) -> EngineStats:
        """The engine's counters now."""
        s = _loader.EngineStatsStruct()
        if self._ptr is not None:
            _lib.zcopy_engine_get_stats(self._ptr, ctypes.byref(s))
        return EngineStats(s.active, s.finished, s.bytes, s.pipes_in_use)

    def close(self) -> None:
        """Ends every running relay (Cancelled) and joins the engine's threads. Idempotent.

        Blocks until every relay's Future is resolved. Must not be called
        from a Future callback of this engine (an engine thread).
        """
        ptr, self._ptr = self._ptr, None
        if ptr:
            _lib.zcopy_engine_free(ptr)  # the GIL is released: done callbacks can run

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass
