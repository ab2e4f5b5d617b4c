"""One transfer call from Python objects to the C library and back.

In order: dst's pending writes are flushed, bytes a non-seekable src's
buffer holds go first, the C call moves the rest from the fd (looping over
EINTR returns, see _control.py), and both objects re-read their position,
also when the call fails.
"""

from __future__ import annotations

import ctypes
import errno as _errno
from typing import Any, Callable, Optional

from . import _loader, _objects
from ._control import Control, discard_held, interrupted, run_signal_handlers
from ._errors import check

_lib = _loader.LIB

#: The C library's "until end of file" value for a count (INT64_MAX).
ALL: int = (1 << 63) - 1

#: A C transfer: (dst_fd, src_fd, remain, options pointer or None) -> zcopy_result.
Call = Callable[[int, int, int, Any], _loader.Result]


def count_arg(count: Optional[int]) -> int:
    if count is None:
        return ALL
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an int or None, got {type(count).__name__}")
    if count < 0:
        raise ValueError(f"count must be >= 0 or None, got {count}")
    return min(count, ALL)


def offset_arg(name: str, value: int) -> ctypes.c_int64:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or None, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return ctypes.c_int64(value)


#: The most bytes one C call is asked for under a Control: the library
#: interrupts waits only, so while bytes flow a call ends (and Python's
#: signal handlers get to run) at least every CHUNK bytes (17 ms at 4 GB/s).
CHUNK = 64 << 20


def move(call: Call, d: int, s: int, n: int, control: Optional[Control]) -> _loader.Result:
    """Runs ``call`` for up to n bytes, in chunks, again after each EINTR return.

    Returns one zcopy_result for the whole: ``written`` summed over the
    calls, the last call's error, method and handled.
    """
    if control is None:
        r: _loader.Result = call(d, s, n, None)
        return r
    try:
        return _move_rounds(call, d, s, n, control)
    except BaseException:
        # a signal handler raised (Ctrl-C): nothing will resume this pair,
        # so what the library kept in flight for it goes now, with its pipe
        discard_held(d, s)
        raise


def _move_rounds(call: Call, d: int, s: int, n: int, control: Control) -> _loader.Result:
    """move() under a Control: the rounds, each a C call of at most CHUNK bytes."""
    total = 0
    last: Optional[_loader.Result] = None
    error = 0
    # each round: total bytes moved so far; the next call asks for at most CHUNK of the rest
    while True:
        opts = control.options()
        if opts is None:  # the idle clock ran out across EINTR returns
            error = _errno.ETIMEDOUT
            break
        ask = min(CHUNK, n - total)
        last = call(d, s, ask, ctypes.byref(opts))
        total += last.written
        control.progressed(last.written)
        if interrupted(last.error):
            continue
        if not last.handled and total:
            # a later chunk found nothing to move: copy_file_range's "first
            # round of 0 bytes" is the end of the file here, not procfs
            last.handled = True
            break
        error = last.error
        if error or not last.handled or last.written < ask or total >= n:
            break
        run_signal_handlers()  # between two full chunks; a handler may raise
    out = _loader.Result()
    out.written = total
    out.error = error
    out.method = last.method if last is not None else 0
    out.handled = last.handled if last is not None else True
    return out


def transfer(call: Call, *, src: Any, dst: Any, count: Optional[int],
             control: Optional[Control], positional: bool = False) -> int:
    """Moves up to ``count`` bytes from the object src to the object dst; returns them.

    The ends are keywords, as in every public fd-level call (see
    _keywords.py); ``call`` itself is a C function and takes (dst, src).

    ``control``: the call's timeout/cancel/EINTR handling (None: the call
    is made once, with no options). ``positional``: src is read at an
    explicit offset, so its position and buffer stay.
    """
    n = count_arg(count)
    d = _objects.sink(dst)
    try:
        s = _objects.source(src, positional=positional)
        try:
            before = 0
            if s.held and n:
                before = check(s.deliver_held(d.fd, n, lambda dd, ss, k: move(
                    _lib.zcopy_copy_opts, dd, ss, k, control)))
                n -= before
                if n == 0:
                    return before
            return check(move(call, d.fd, s.fd, n, control), before)
        finally:
            s.settle()
    finally:
        d.settle()
