"""The exceptions a transfer raises, built from a ``zcopy_result``."""

from __future__ import annotations

import errno as _errno
import os
from typing import Dict, Type

from . import _loader

_lib = _loader.LIB

#: ZCOPY_EPANIC: the errno-style code of a call that failed on an internal
#: panic the library caught (a bug in libzcopy, never a kernel answer).
EPANIC = 7000


class Error(OSError):
    """A failed zcopy transfer.

    Raised as a subclass that also derives from the built-in OSError
    subclass for its errno, so ``except BrokenPipeError`` and
    ``except zcopy.Error`` both catch an EPIPE from zcopy.

    Attributes:
        errno: the errno value that ended the transfer.
        written: bytes that reached dst before the error.
        method: the mechanism that failed: "splice", "sendfile",
            "copy_file_range", "read_write" or "none".
        pending: zcopy.aio only: bytes taken from src but not delivered
            (dropped with the splicer's pipe); 0 elsewhere.
    """

    __module__ = "zcopy"
    written: int = 0
    method: str = "none"
    pending: int = 0


class NotHandled(Error):
    """The mechanism cannot serve this pair of fds; it consumed nothing.

    Fall back to another mechanism (or to :func:`zcopy.copy`). ``errno`` is
    the reason the kernel gave (EINVAL, EXDEV, ...) or None when there was
    none (e.g. copy_file_range copied 0 bytes from a procfs file).
    ``written`` is 0, unless src was a buffered Python object whose buffer
    already held bytes: those reached dst first and are counted.
    """

    __module__ = "zcopy"


class Cancelled(Error):
    """The call was cancelled through its :class:`zcopy.CancelToken` (errno ECANCELED).

    ``written`` counts the bytes delivered before it; bytes taken from src
    and not delivered were discarded with their pipe.
    """

    __module__ = "zcopy"


_classes: Dict[int, Type[Error]] = {_errno.ECANCELED: Cancelled}


def error_class(err: int) -> Type[Error]:
    """zcopy.Error, or a subclass of it and of the built-in class for ``err``."""
    cls = _classes.get(err)
    if cls is None:
        builtin = type(OSError(err, ""))
        if builtin is OSError:
            cls = Error
        else:
            cls = type(
                builtin.__name__,
                (Error, builtin),
                {
                    "__module__": "zcopy",
                    "__doc__": f"zcopy.Error that is also a {builtin.__name__}.",
                },
            )
        _classes[err] = cls
    return cls


def method_name(method: int) -> str:
    """Name of a ZCOPY_METHOD_* value: "splice", "sendfile", ..., "unknown"."""
    name: bytes = _lib.zcopy_method_name(method)
    return name.decode()


def _what(method: str, moved: int) -> str:
    """What happened, in words: where the call stopped and how far it got."""
    sent = f"{moved} byte{'' if moved == 1 else 's'} reached dst"
    if method == "none":
        return "before any transfer began" if not moved else f"{sent} before it"
    return f"in {method}; {sent}" if moved else f"in {method}; nothing reached dst"


def raise_for(r: _loader.Result, before: int = 0) -> None:
    """Raises the exception for a failed or unhandled result.

    ``before`` counts bytes delivered by this call before the C call ran
    (a buffered object's bytes); they are part of ``.written``.
    """
    method = method_name(r.method)
    mechanism = "no mechanism" if method == "none" else method
    if not r.handled:
        refusal = f"{mechanism} cannot move bytes between these fds; nothing was consumed"
        if r.error:  # str(e): "[Errno 22] Invalid argument (splice cannot ...)"
            e: Error = NotHandled(r.error, f"{os.strerror(r.error)} ({refusal})")
        else:
            e = NotHandled(refusal)
    else:
        moved = before + r.written
        reason = "internal error in libzcopy (a caught panic)" if r.error == EPANIC else os.strerror(r.error)
        e = error_class(r.error)(r.error, f"{reason} ({_what(method, moved)})")
    e.written = before + r.written
    e.method = method
    raise e


def check(r: _loader.Result, before: int = 0) -> int:
    """``before`` plus the bytes the call moved; raises when it failed."""
    if r.error or not r.handled:
        raise_for(r, before)
    return before + int(r.written)
