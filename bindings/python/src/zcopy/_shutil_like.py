"""shutil's copy calls, zero-copy: ``zcopy.copyfile``, ``zcopy.copyfileobj`` and ``zcopy.copy2``.

Same arguments (shutil's ``(src, dst)`` order), results, errors and
leftovers as the running interpreter's shutil, so that switching is one
import, or ``shutil.copyfile = zcopy.copyfile``. CPython's own
test_shutil copy cases run on them that way (tests/test_cpython_shutil.py).
What differs is how the bytes move: :func:`zcopy.copy` (in-kernel
copy_file_range, which keeps holes and can share extents, sendfile or
splice, with fallbacks) where both ends are file descriptors, and shutil's
own read/write loop for objects whose bytes are not an fd's (TLS,
compressed, text, in memory).

Everything of shutil that these call (its copyfileobj loop, copystat) is
taken at import: a user who swaps ``shutil.copyfileobj = zcopy.copyfileobj``
must not turn the fallback into a call to itself.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from typing import IO, Any, TypeVar, Union

from . import _objects, copy
from ._mechanisms import check_reflink, copy_reflink

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
P = TypeVar("P", bound=StrPath)

#: shutil's originals, held before anyone can swap them for ours.
_shutil_copyfileobj = shutil.copyfileobj
_shutil_copystat = shutil.copystat

#: Python 3.8's copyfile lets a dst in a missing directory raise
#: IsADirectoryError; 3.9 and later say FileNotFoundError (bpo-43219).
_MISSING_DIR_IS_NOT_FOUND = sys.version_info >= (3, 9)


def _open(name: Any, mode: str) -> Any:
    # shutil opens through its module global ``open``; tests (CPython's
    # among them) and some programs replace ``shutil.open`` to fake a
    # failing open or close, and a drop-in must see the same fake.
    opener = shutil.__dict__.get("open", open)
    return opener(name, mode)


def _same_file(src: Any, dst: Any) -> bool:
    # as shutil: a path that cannot be stat'ed is not the same file
    try:
        if isinstance(src, os.DirEntry):
            return os.path.samestat(src.stat(), os.stat(dst))
        return os.path.samefile(src, dst)
    except OSError:
        return False


def _check_special(src: Any, dst: Any) -> None:
    for name in (src, dst):
        try:
            st = name.stat() if isinstance(name, os.DirEntry) else os.stat(name)
        except OSError:
            continue  # does not exist (yet): open() reports what matters
        if stat.S_ISFIFO(st.st_mode):
            shown = name.path if isinstance(name, os.DirEntry) else name
            raise shutil.SpecialFileError(f"`{os.fsdecode(shown)}` is a named pipe")


def _is_symlink(name: Any) -> bool:
    return bool(name.is_symlink() if isinstance(name, os.DirEntry) else os.path.islink(name))


def _link_target(name: StrPath) -> Union[str, bytes]:
    path = os.fspath(name)  # str or bytes: readlink answers in the same type
    return os.readlink(path) if isinstance(path, str) else os.readlink(path)


def copyfile(src: StrPath, dst: P, *, follow_symlinks: bool = True, reflink: str = "auto") -> P:
    """Copies the file ``src`` to the path ``dst``, as shutil.copyfile does; returns dst.

    dst is created or truncated; its mode and metadata are not copied. The
    bytes move in the kernel (copy_file_range, which keeps holes and can
    share extents on filesystems that support it, or sendfile), never
    through Python. With ``follow_symlinks=False`` a symlink src makes dst
    a symlink with the same target.

    ``reflink`` (not in shutil; cp's ``--reflink``): ``"auto"`` lets the
    filesystem share extents where it can (copy_file_range), ``"always"``
    demands a copy-on-write clone (OSError EOPNOTSUPP / EXDEV where it
    cannot, dst left empty), ``"never"`` forbids one (the bytes are copied:
    sendfile or read/write, never copy_file_range).

    Raises (as shutil.copyfile):
        shutil.SameFileError: src and dst are the same file (nothing written).
        shutil.SpecialFileError: either is a named pipe.
        FileNotFoundError: src does not exist, or dst's directory does not
            (Python 3.8: IsADirectoryError for a dst ending in "/").
        IsADirectoryError: src or dst is a directory.
        OSError: opening either file failed (PermissionError, ...), or the
            copy failed (a :class:`zcopy.Error`, with ``.written``); dst is
            left as far as it got, as shutil leaves it.
    """
    reflink = check_reflink(reflink)
    sys.audit("shutil.copyfile", src, dst)
    if _same_file(src, dst):
        raise shutil.SameFileError(f"{src!r} and {dst!r} are the same file")
    _check_special(src, dst)
    if not follow_symlinks and _is_symlink(src):
        os.symlink(_link_target(src), dst)
        return dst
    with _open(src, "rb") as fsrc:
        try:
            with _open(dst, "wb") as fdst:
                if reflink == "auto":
                    copyfileobj(fsrc, fdst)
                else:
                    copy_reflink(fsrc, fdst, reflink)
        except IsADirectoryError as e:
            if not _MISSING_DIR_IS_NOT_FOUND or os.path.exists(dst):
                raise
            raise FileNotFoundError(f"Directory does not exist: {os.fsdecode(dst)}") from e
    return dst


def copyfileobj(fsrc: IO[Any], fdst: IO[Any], length: int = 0) -> None:
    """Copies fsrc to fdst from fsrc's position to its end, as shutil.copyfileobj does.

    When both objects are file descriptors underneath (files, sockets,
    pipes, their buffered wrappers) the bytes move in the kernel with
    :func:`zcopy.copy`: bytes fsrc's buffer already holds go first, fdst's
    pending writes are flushed first, and both positions are right
    afterwards. Otherwise (TLS sockets, gzip/bz2/lzma files, text files,
    io.BytesIO, ...) this is shutil.copyfileobj itself (the function shutil
    had when zcopy was imported), with ``length`` its buffer size; the
    zero-copy path ignores ``length``.

    Raises:
        OSError: the copy failed (a :class:`zcopy.Error` with ``.written``
            on the zero-copy path).
    """
    try:
        copy(src=fsrc, dst=fdst)
    except TypeError as e:
        if not _objects.is_refusal(e):
            raise
        # refused before anything moved: the objects need Python's loop
        _shutil_copyfileobj(fsrc, fdst, length)


def copy2(src: StrPath, dst: P, *, follow_symlinks: bool = True) -> P:
    """Copies data and metadata, as shutil.copy2 does; returns the file's destination.

    The paths-and-metadata call (``shutil.copy2``), unlike :func:`zcopy.copy`,
    the fd-level io.Copy-style dispatch. dst may be a directory (the file
    keeps its name there). The data goes through :func:`copyfile` (in the
    kernel, holes kept), then mode bits, access and modification times,
    flags and extended attributes as shutil.copystat copies them. Fits
    ``shutil.copytree(src, dst, copy_function=zcopy.copy2)``.

    Raises: as :func:`copyfile`, and the OSError of copying the metadata.
    """
    if os.path.isdir(dst):
        dst = os.path.join(dst, os.path.basename(src))  # type: ignore[arg-type, assignment]
    copyfile(src, dst, follow_symlinks=follow_symlinks)
    _shutil_copystat(src, dst, follow_symlinks=follow_symlinks)
    return dst
