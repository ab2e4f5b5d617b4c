"""The kill switch and reflink control: ``zcopy.disable``, ``zcopy.disabled``, ``zcopy.clone``.

``disable("splice")`` turns a mechanism off for the whole process (as the
``ZCOPY_DISABLE`` environment variable does at load): every call then
takes the next path of its dispatch, read/write last, and relays copy
instead of splicing; ``method`` says what happened. ``clone`` makes dst a
copy-on-write clone of src (FICLONE) or fails, never leaving a partial
file; ``zcopy.copyfile(..., reflink=...)`` uses it with cp's meaning.
"""

from __future__ import annotations

from typing import Any, FrozenSet

from . import _loader, _objects
from ._control import Control
from ._errors import check
from ._transfer import transfer

_lib = _loader.LIB

#: The C library's ZCOPY_DISABLE_* bits, by the names ZCOPY_DISABLE uses.
MECHANISMS = {"splice": 1, "sendfile": 2, "copy_file_range": 4}

#: ZCOPY_OPT_REFLINK_NEVER / _ALWAYS.
OPT_REFLINK_NEVER = 8
OPT_REFLINK_ALWAYS = 16


def _names(mask: int) -> FrozenSet[str]:
    return frozenset(name for name, bit in MECHANISMS.items() if mask & bit)


def disable(*mechanisms: str) -> FrozenSet[str]:
    """Turns these mechanisms off for the whole process, and every other one on; returns the set now off.

    Names: ``"splice"``, ``"sendfile"``, ``"copy_file_range"``. The set
    replaces the one in force (``disable()`` turns everything back on),
    as ``zcopy_disable(mask)`` does; ``ZCOPY_DISABLE=splice,...`` in the
    environment sets the first one at load. For a kernel whose splice is
    known bad, say: every call takes the next path (read/write last).

    Raises:
        ValueError: an unknown name (nothing changed).
    """
    mask = 0
    for m in mechanisms:
        if m not in MECHANISMS:
            raise ValueError(f"unknown mechanism {m!r}: use one of {', '.join(sorted(MECHANISMS))}")
        mask |= MECHANISMS[m]
    return _names(int(_lib.zcopy_disable(mask)))


def disabled() -> FrozenSet[str]:
    """The mechanisms turned off now (by :func:`disable` or ``ZCOPY_DISABLE``)."""
    return _names(int(_lib.zcopy_disabled()))


def clone(*, src: Any, dst: Any) -> int:
    """Makes the regular file dst a copy-on-write clone of the whole of src; returns src's size.

    ``zcopy.clone(src=f, dst=g)`` (open files or fds, by keyword): the
    filesystem shares src's extents (XFS with reflink, btrfs, ...) in the
    same short time for any size; dst's old content is replaced. All or
    nothing: on an error dst is as it was (or empty, see the C header).

    Raises:
        OSError: EOPNOTSUPP (the filesystem cannot clone), EXDEV
            (different filesystems), EINVAL (not two regular files), EBADF
            and the filesystem's own errors, as :class:`zcopy.Error`.
    """
    d, s = _objects.fileno(dst), _objects.fileno(src)
    r = _lib.zcopy_clone(d, s)
    if not r.handled:
        r.handled = True  # for Python there is no fallback to take here: it is the error
    return check(r)


def copy_reflink(fsrc: Any, fdst: Any, reflink: str) -> None:
    """copyfile's data step for ``reflink="always"`` or ``"never"`` (``"auto"`` is plain copyfileobj)."""
    if reflink == "always":
        clone(src=fsrc, dst=fdst)
        return
    transfer(_lib.zcopy_copy_opts, src=fsrc, dst=fdst, count=None,
             control=Control(None, None, (fsrc, fdst), OPT_REFLINK_NEVER))


def check_reflink(reflink: Any) -> str:
    if reflink not in ("auto", "always", "never"):
        raise ValueError(f"reflink must be 'auto', 'always' or 'never', got {reflink!r}")
    return str(reflink)


__all__ = ["clone", "disable", "disabled", "MECHANISMS"]
