"""Both directions of a pair of connections: ``zcopy.relay`` (one call) and ``zcopy.Engine`` (many).

Both move a -> b and b -> a at once through pooled pipes, half-closing each
destination at its source's end of stream (``close_both``: the first end
of stream ends both), until both directions are done. A hard error on
either side ends both and names the side it came from.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import errno as _errno
import os
import threading
import weakref
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


def _prefix(value: Any, name: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes-like, got {type(value).__name__}")
    return bytes(value)


def _rates(rate: Any) -> Tuple[int, int]:
    """``rate=``: None (no limit) or (a_to_b, b_to_a) bytes per second, each an int >= 0 (0: no limit)."""
    if rate is None:
        return 0, 0
    if not isinstance(rate, tuple) or len(rate) != 2:
        raise TypeError(f"rate must be None or a tuple (a_to_b, b_to_a), got {rate!r}")
    for r in rate:
        if isinstance(r, bool) or not isinstance(r, int) or r < 0:
            raise ValueError(f"each rate must be an int >= 0 (bytes per second, 0: no limit), got {r!r}")
    return rate[0], rate[1]


def relay(a: Any, b: Any, *, timeout: Optional[float] = None, cancel: Optional[CancelToken] = None,
          close_both: bool = False, a_to_b: bytes = b"", b_to_a: bytes = b"",
          rate: Optional[Tuple[int, int]] = None) -> Tuple[int, int]:
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

    ``a_to_b`` / ``b_to_a``: bytes the caller already read (a request line,
    a PROXY header) that go to b / to a before anything else, counted in
    that direction. ``rate``: ``(a_to_b, b_to_a)`` bytes per second, 0 for
    no limit in that direction.

    Raises:
        TimeoutError, zcopy.Cancelled: as above; both sockets are left open
            and not shut down (their peers see no end of stream), as
            zcopy.aio.relay leaves them on a timeout: the caller closes them.
        zcopy.Error: a hard error (ConnectionResetError, BrokenPipeError,
            ...) on one side: ``.side`` is "a" or "b"; both directions ended.
        Every exception carries ``.a_to_b`` and ``.b_to_a``.
    """
    fa, fb = _fd(a, "a"), _fd(b, "b")
    pre = [_prefix(a_to_b, "a_to_b"), _prefix(b_to_a, "b_to_a")]
    ctl = Control(timeout, cancel, (a, b), OPT_CLOSE_BOTH if close_both else 0, rates=_rates(rate))
    counts = [0, 0]
    last_fd = [-1]

    def step(opts: Any) -> Tuple[int, int]:
        if pre[0] or pre[1]:
            # the first call takes the prefixes; a call after EINTR resumes
            r = _lib.zcopy_relay_prefixed(fa, fb, pre[0], len(pre[0]), pre[1], len(pre[1]), opts)
            pre[0] = pre[1] = b""
        else:
            r = _lib.zcopy_relay(fa, fb, opts)
        counts[0] += r.a_to_b
        counts[1] += r.b_to_a
        last_fd[0] = r.error_fd
        return r.a_to_b + r.b_to_a, r.error

    _, err = run(ctl, step, (fa, fb))
    if err:
        raise _relay_error(err, last_fd[0], (fa, fb), (counts[0], counts[1]))
    return counts[0], counts[1]


class RelayFuture(concurrent.futures.Future):  # type: ignore[type-arg]
    """The Future of an engine relay's ``(a_to_b, b_to_a)``, and its handle while it runs.

    :meth:`counts` reads the live byte counts and :meth:`cancel` ends the
    relay (unlike a plain Future's cancel, which cannot stop what is
    running: here the engine is told to end it, and the Future then holds
    :class:`zcopy.Cancelled` with the counts; ``cancelled()`` stays False).
    """

    def __init__(self, engine: "Engine") -> None:
        super().__init__()
        # weak: the engine must be free to go when its last relay ends
        # (the registry of running relays holds it while this one runs)
        self._engine = weakref.ref(engine)
        #: The relay's id in its engine (>= 1).
        self.id = 0

    def _call(self, fn: Any, *args: Any) -> int:
        eng = self._engine()
        if eng is None:
            return _errno.ENOENT
        with eng._use:
            return int(fn(eng._ptr, self.id, *args)) if eng._ptr else _errno.ENOENT

    def counts(self) -> Tuple[int, int]:
        """Bytes delivered so far ``(a_to_b, b_to_a)``, live; the final counts once it is done."""
        if self.done():
            e = self.exception()
            if e is not None:
                return getattr(e, "a_to_b", 0), getattr(e, "b_to_a", 0)
            result: Tuple[int, int] = self.result()
            return result
        ab, ba = ctypes.c_int64(0), ctypes.c_int64(0)
        rc = self._call(_lib.zcopy_engine_relay_counts, ctypes.byref(ab), ctypes.byref(ba))
        if rc == 0:
            return ab.value, ba.value
        # it ended meanwhile: its done callback is about to resolve this future
        self.exception(timeout=5)
        return self.counts()

    def cancel(self) -> bool:
        """Ends the relay now (within milliseconds); True if it was still running.

        The Future then holds :class:`zcopy.Cancelled` with the counts
        reached; ``cancelled()`` stays False (the relay did run).
        """
        if self.done():
            return False
        return self._call(_lib.zcopy_engine_cancel) == 0

    cancel_relay = cancel


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

    ``Engine(threads=None)``: None (or 0) means one thread per CPU.
    :meth:`relay` hands a pair of connected sockets over and returns a
    :class:`concurrent.futures.Future` of ``(a_to_b, b_to_a)``, or of the
    relay's exception (as :func:`relay`'s). Bytes move on the engine's
    threads without the GIL; Python runs only when a relay ends. The engine
    never closes the sockets; it keeps a reference to them (and to itself)
    until their relay ends, so dropping the Engine object does not stop
    relays. Future callbacks run on an engine thread: keep them short
    (``asyncio.wrap_future`` hands the result to a loop). :meth:`close`
    (or ``with``, or interpreter exit) ends every relay still running with
    :class:`zcopy.Cancelled` and joins the threads.

    After ``os.fork()`` (``multiprocessing`` with the fork start method, a
    pre-forking server) the engine's threads exist only in the parent: in
    the child, :meth:`relay` raises :class:`zcopy.Error` with errno ESTALE
    (make a new Engine there), :meth:`close` returns at once without
    touching the parent's relays, and exiting the child never hangs on a
    lock a parent thread held at the fork.
    """

    _ptr: Optional[int] = None  # set before __init__ can fail, so that __del__ finds it

    def __init__(self, threads: Optional[int] = None) -> None:
        if threads is None:
            threads = 0
        if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= 1024:
            raise ValueError(f"threads must be None or an int from 0 to 1024, got {threads!r}")
        ptr = _lib.zcopy_engine_new(threads)
        if not ptr:
            err = ctypes.get_errno() or _errno.ENOMEM
            raise OSError(err, f"zcopy_engine_new: {os.strerror(err)}")
        self._ptr = ptr
        self._pid = os.getpid()  # the process whose threads relay for it
        # held around zcopy_engine_add and while close() takes the pointer:
        # the C engine must not be freed while another thread is inside add
        self._use = threading.Lock()
        _engines.add(self)

    def relay(self, a: Any, b: Any, *, timeout: Optional[float] = None, close_both: bool = False,
              cancel: Optional[CancelToken] = None, a_to_b: bytes = b"", b_to_a: bytes = b"",
              rate: Optional[Tuple[int, int]] = None) -> "RelayFuture":
        """Starts relaying between a and b; returns a :class:`RelayFuture` of ``(a_to_b, b_to_a)``.

        Semantics as :func:`zcopy.relay`'s (half-close, ``close_both``,
        ``timeout`` idle seconds, by default the sockets' own
        ``settimeout``; ``cancel`` a :class:`zcopy.CancelToken`), but on the
        engine's threads: this call never blocks. The Future's exception is
        TimeoutError, zcopy.Cancelled or a zcopy.Error, each with
        ``.a_to_b`` and ``.b_to_a``. Do not read, write or close a or b
        until the Future is done. ``a_to_b`` / ``b_to_a``: bytes already
        read that go first (copied now); ``rate``: ``(a_to_b, b_to_a)``
        bytes per second (0: no limit). The returned future is also the
        relay's handle: :meth:`RelayFuture.counts` reads its live byte
        counts and :meth:`RelayFuture.cancel` ends it (the Future then
        holds zcopy.Cancelled with the counts); a ``cancel=`` CancelToken
        can stop many relays at once.

        Raises:
            ValueError: the engine is closed.
            TypeError: a socket object holds read-ahead, or a/b has no fd.
            zcopy.Error: the engine refused the pair (EINVAL: a and b are
                one fd; EBADF; EPERM: a regular file), nothing started.
        """
        return self._start(a, b, timeout=timeout, close_both=close_both, cancel=cancel,
                           a_to_b=a_to_b, b_to_a=b_to_a, rate=rate)

    def _start(self, a: Any, b: Any, *, timeout: Optional[float], close_both: bool,
               cancel: Optional[CancelToken], a_to_b: bytes, b_to_a: bytes,
               rate: Optional[Tuple[int, int]]) -> RelayFuture:
        """relay(): validated, options made, handed to the C engine."""
        if self._ptr is None:
            raise ValueError("the engine is closed")
        if os.getpid() != self._pid:
            raise error_class(_errno.ESTALE)(
                _errno.ESTALE,
                f"this zcopy.Engine was made in process {self._pid} before fork(); its threads "
                "run only there: make a new Engine in this process")
        fa, fb = _fd(a, "a"), _fd(b, "b")
        ab, ba = _prefix(a_to_b, "a_to_b"), _prefix(b_to_a, "b_to_a")
        opts = Control(timeout, cancel, (a, b), OPT_CLOSE_BOTH if close_both else 0,
                       rates=_rates(rate)).options()
        assert opts is not None  # a fresh clock has not run out
        future = RelayFuture(self)
        future.set_running_or_notify_cancel()
        global _next
        with _lock:
            key = _next
            _next += 1
            # the entry keeps the sockets (their fds stay open) and the engine alive
            _relays[key] = (future, self, a, b, (fa, fb))
        err = ctypes.c_int32(0)
        with self._use:
            ptr = self._ptr
            if ptr:
                future.id = _lib.zcopy_engine_add_prefixed_ex(
                    ptr, fa, fb, ab, len(ab), ba, len(ba), ctypes.byref(opts), _callback, key,
                    ctypes.byref(err))
            rc = err.value if ptr else -1
        if rc < 0:
            with _lock:
                del _relays[key]
            raise ValueError("the engine is closed")
        if rc == _errno.EEXIST:
            with _lock:
                del _relays[key]
            raise error_class(rc)(rc, "zcopy_engine_add: a or b (or a dup of either) is already "
                                      "in a relay of this engine that has not ended")
        if rc:
            with _lock:
                del _relays[key]
            raise error_class(rc)(rc, f"zcopy_engine_add: {os.strerror(rc)}")
        return future


    add = relay  # the first name of this method, kept as an alias

    def stats(self) -> EngineStats:
        """The engine's counters now."""
        s = _loader.EngineStatsStruct()
        if self._ptr is not None:
            _lib.zcopy_engine_get_stats(self._ptr, ctypes.byref(s))
        return EngineStats(s.active, s.finished, s.bytes, s.pipes_in_use)

    def close(self) -> None:
        """Ends every running relay (Cancelled) and joins the engine's threads. Idempotent.

        Blocks until every relay's Future is resolved (the GIL is released
        meanwhile, so their callbacks run). From a Future callback of this
        engine (an engine thread) it does not wait for that thread.
        """
        if self._ptr is None:
            return
        with self._use:
            ptr, self._ptr = self._ptr, None
        if ptr:
            _engines.discard(self)
            _lib.zcopy_engine_free(ptr)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


# Every relay of every engine, by the ctx number handed to C (0 would reach
# the callback as None). One module-level callback serves them all: it
# must outlive every engine, since an engine freed from its own thread (its
# last reference dropped in a Future callback) still calls it for the
# relays that thread ends afterwards, and a per-engine ctypes thunk freed
# while running would crash.
_lock = threading.Lock()
_relays: Dict[int, Tuple["concurrent.futures.Future[Tuple[int, int]]", Engine, Any, Any, Tuple[int, int]]] = {}
_next = 1
_engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def _done(ctx: int, result: Any) -> None:
    # on an engine thread, with the GIL (ctypes takes it for the callback)
    with _lock:
        future, engine, a, b, fds = _relays.pop(ctx)
    counts = (result.a_to_b, result.b_to_a)
    if result.error:
        future.set_exception(_relay_error(result.error, result.error_fd, fds, counts))
    else:
        future.set_result(counts)
    # engine, a and b are released here: the last reference to an engine
    # may go with them, and zcopy_engine_free from its own thread is allowed


_callback = _loader.DONE_FN(_done)


def _after_fork_in_child() -> None:
    # A parent thread may have held these locks at the fork (inside add or
    # close): the child gets new ones, or its exit handler could wait for
    # ever. The engines themselves are inert here (the C side refuses adds
    # with ESTALE and frees quietly).
    global _lock
    _lock = threading.Lock()
    for e in list(_engines):
        e._use = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_engines() -> None:
    # engine threads must not call into an interpreter that is finalizing
    for e in list(_engines):
        e.close()
