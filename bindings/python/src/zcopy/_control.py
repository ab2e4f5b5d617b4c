"""Timeouts, cancellation and Ctrl-C for blocking calls: what ``timeout=`` and ``cancel=`` mean.

Every blocking call runs the C function with a ``zcopy_options`` built here:

- ``timeout`` (seconds, idle): the call ends with TimeoutError after that
  long with no byte moved; when it is not given, the smallest positive
  ``gettimeout()`` of the socket objects passed applies, as for
  ``sock.recv`` (a timeout of 0 or None waits, as before).
- ``cancel``: a :class:`CancelToken`; its fd is the options' cancel fd, so
  ``token.cancel()`` ends every call using it with :class:`Cancelled`.
- ZCOPY_OPT_EINTR is always set: a signal ends the C call with EINTR and
  ``written`` exact, Python's handlers run (PyErr_CheckSignals), and a
  handler that raises (SIGINT's KeyboardInterrupt) propagates from there;
  when none raises, the call goes on with what remains (PEP 475), the idle
  clock still counting from the last byte moved.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import math
import os
import select
import time
import weakref
from typing import Any, Callable, Iterable, Optional, Tuple

from . import _loader

OPT_EINTR = 1
"""ZCOPY_OPT_EINTR: a signal interrupting a wait ends the call with EINTR."""
OPT_CLOSE_BOTH = 2
"""ZCOPY_OPT_CLOSE_BOTH: the first end of stream ends both directions of a relay."""
OPT_NOWAIT = 4
"""ZCOPY_OPT_NOWAIT: a call that would wait returns EAGAIN with what it moved instead."""

_lib = _loader.LIB
_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.restype = ctypes.c_int
_check_signals.argtypes = []


class CancelToken:
    """Cancels any number of zcopy calls at once, from any thread or a signal handler.

    Pass it as ``cancel=token`` to as many calls as you like, in as many
    threads; :meth:`cancel` ends every one of them with
    :class:`zcopy.Cancelled` (within about 20 ms), and every later call
    given the token at once. A token stays cancelled: make a new one for
    new work. Its fd (an eventfd; a pipe before Python 3.10) is closed by
    :meth:`close`, by ``with``, or when the token is garbage collected.
    """

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            fds: Tuple[int, ...] = (fd,)
            self._write_fd = fd
        else:  # Python 3.9: a pipe whose read end is the cancel fd
            fd, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
            fds = (fd, w)
            self._write_fd = w
        self._fd = fd
        self._close = weakref.finalize(self, _close_all, fds)

    def fileno(self) -> int:
        """The fd the library watches: readable once cancelled (never read by the library)."""
        if not self._close.alive:
            raise ValueError("the CancelToken is closed")
        return self._fd

    def cancel(self) -> None:
        """Cancels every call using this token. Idempotent; safe from a signal handler.

        One write(2) of 8 bytes, no lock: nothing a signal handler or
        another thread could deadlock on.
        """
        if not self._close.alive:
            return
        try:
            os.write(self._write_fd, (1).to_bytes(8, "little"))
        except BlockingIOError:
            pass  # already full: readable, which is all that matters

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called (the fd is readable)."""
        if not self._close.alive:
            return False
        p = select.poll()
        p.register(self._fd, select.POLLIN)
        return bool(p.poll(0))

    def close(self) -> None:
        """Closes the token's fd; calls must not be using it. Idempotent."""
        self._close()

    def __enter__(self) -> "CancelToken":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if not self._close.alive else ("cancelled" if self.cancelled else "armed")
        return f"<zcopy.CancelToken {state}>"


def _close_all(fds: Tuple[int, ...]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def socket_timeout(objs: Iterable[Any]) -> Optional[float]:
    """The smallest positive ``gettimeout()`` among socket objects, or None."""
    found = []
    for obj in objs:
        get = getattr(obj, "gettimeout", None)
        if get is not None:
            t = get()
            if t:
                found.append(t)
    return min(found) if found else None


def seconds(timeout: Any) -> Optional[float]:
    """A ``timeout=`` argument checked: None (no timeout) or seconds > 0."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, got {type(timeout).__name__}")
    if math.isnan(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be > 0 or None, got {timeout}")
    return None if math.isinf(timeout) else float(timeout)


#: The largest idle_timeout_ms the C options hold; any longer timeout means
#: "never" in practice (292 million years), so it is clamped to this, never
#: wrapped (ctypes would keep only the low 64 bits) or refused.
INT64_MAX = (1 << 63) - 1


def timeout_ms(seconds_left: float) -> int:
    """Seconds (> 0, finite) as the C options' milliseconds: rounded up, at least 1, at most INT64_MAX."""
    ms = seconds_left * 1000.0
    if ms >= INT64_MAX:  # also inf from an overflowing product
        return INT64_MAX
    return max(1, math.ceil(ms))


class Control:
    """The options of one blocking call, and its clock across EINTR returns."""

    def __init__(self, timeout: Any, cancel: Optional[CancelToken], objs: Iterable[Any],
                 flags: int = 0, rates: Tuple[int, int] = (0, 0)) -> None:
        t = seconds(timeout)
        self.timeout = socket_timeout(objs) if t is None else t
        if cancel is not None and not isinstance(cancel, CancelToken):
            raise TypeError(f"cancel must be a zcopy.CancelToken or None, got {type(cancel).__name__}")
        self.cancel = cancel
        self.flags = flags | OPT_EINTR
        self.rates = rates
        self.last_progress = time.monotonic()

    def options(self) -> Optional[_loader.OptionsStruct]:
        """Options for the next C call; None once the idle timeout has run out."""
        o = _loader.OptionsStruct()
        _lib.zcopy_options_init(ctypes.byref(o))
        o.flags = self.flags
        o.rate_a_to_b, o.rate_b_to_a = self.rates
        if self.cancel is not None:
            o.cancel_fd = self.cancel.fileno()
        if self.timeout is not None:
            left = self.timeout - (time.monotonic() - self.last_progress)
            if left <= 0:
                return None
            o.idle_timeout_ms = timeout_ms(left)
        return o

    def progressed(self, moved: int) -> None:
        if moved:
            self.last_progress = time.monotonic()


def run_signal_handlers() -> None:
    """Runs the Python handlers of signals that arrived; one that raises propagates from here."""
    _check_signals()  # PyDLL: an exception a handler raised is raised here


def interrupted(error: int) -> bool:
    """After a call ended with ``error``: True when it was EINTR and the caller should go on.

    Runs Python's signal handlers first; one that raises propagates from here.
    """
    if error != _errno.EINTR:
        return False
    run_signal_handlers()
    return True


def run(control: Control, step: Callable[[Any], Tuple[int, int]],
        pair: Tuple[int, int] = (-1, -1)) -> Tuple[int, int]:
    """Calls ``step(options_pointer) -> (moved, error)`` until it ends other than by EINTR.

    Returns (bytes moved by all steps, the last error); ETIMEDOUT when the
    idle clock ran out between steps. ``pair``: the (dst, src) or (a, b)
    fds whose bytes in flight the library keeps across an EINTR return;
    when a signal handler raises (Ctrl-C), nothing will resume them, so
    they are dropped (with their pipe) before the exception leaves.
    """
    total = 0
    try:
        while True:
            o = control.options()
            if o is None:
                return total, _errno.ETIMEDOUT
            moved, error = step(ctypes.byref(o))
            total += moved
            control.progressed(moved)
            if not interrupted(error):
                return total, error
    except BaseException:
        discard_held(*pair)
        raise


def discard_held(dst: int, src: int) -> None:
    """Drops what the library keeps in flight on this thread for (dst, src) (and a relay kept for them)."""
    if dst >= 0 and src >= 0:
        _lib.zcopy_held_discard(dst, src)
