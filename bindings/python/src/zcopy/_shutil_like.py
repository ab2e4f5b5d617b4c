"""shutil's two copy calls, zero-copy: ``zcopy.copyfile`` and ``zcopy.copyfileobj``.

Same arguments, results and errors as shutil's, so that switching is one
import. What differs is how the bytes move: :func:`zcopy.copy` (in-kernel
copy_file_range, sendfile or splice, with fallbacks) where both ends are
file descriptors, and shutil's own read/write loop for objects whose bytes
are not an fd's (TLS, compressed, text, in memory).
"""

from __future__ import annotations

import os
import shutil
import stat
from typing import Any, AnyStr, Union

from . import _objects, copy

StrPath = Union[str, "os.PathLike[str]", bytes, "os.PathLike[bytes]"]


def _same_file(src: Any, dst: Any) -> bool:
    # as shutil: a path that cannot be stat'ed is not the same file
    try:
        if isinstance(src, os.DirEntry):
            return os.path.samestat(src.stat(), os.stat(dst))
        return os.path.samefile(src, dst)
    except OSError:
        return False


def copyfile(src: StrPath, dst: AnyStr, *, follow_symlinks: bool = True) -> AnyStr:
    """Copies the file ``src`` to the path ``dst``, as shutil.copyfile does; returns dst.

    dst is created or truncated; its mode and metadata are not copied. The
    bytes move in the kernel (copy_file_range, which can share extents on
    filesystems that support it, or sendfile), never through Python.

    Raises:
        shutil.SameFileError: src and dst are the same file.
        shutil.SpecialFileError: either is a named pipe.
        OSError: opening either file failed (FileNotFoundError,
            IsADirectoryError, PermissionError, ...), or the copy failed
            (a :class:`zcopy.Error`, with ``.written``).
    """
    if _same_file(src, dst):
        raise shutil.SameFileError(f"{src!r} and {dst!r} are the same file")
    for name in (src, dst):
        try:
            st = name.stat() if isinstance(name, os.DirEntry) else os.stat(name)
        except OSError:
            continue  # does not exist (yet): open() below reports what matters
        if stat.S_ISFIFO(st.st_mode):
            shown = name.path if isinstance(name, os.DirEntry) else name
            raise shutil.SpecialFileError(f"`{shown}` is a named pipe")
    if not follow_symlinks and os.path.islink(src):
        os.symlink(os.readlink(src), dst)
        return dst
    with open(src, "rb", buffering=0) as fsrc, open(dst, "wb", buffering=0) as fdst:
        copy(fdst, fsrc)
    return dst


def copyfileobj(fsrc: Any, fdst: Any, length: int = 0) -> None:
    """Copies fsrc to fdst from fsrc's position to its end, as shutil.copyfileobj does.

    When both objects are file descriptors underneath (files, sockets,
    pipes, their buffered wrappers) the bytes move in the kernel with
    :func:`zcopy.copy`: bytes fsrc's buffer already holds go first, fdst's
    pending writes are flushed first, and both positions are right
    afterwards. Otherwise (TLS sockets, gzip/bz2/lzma files, text files,
    io.BytesIO, ...) this is shutil.copyfileobj itself, with ``length`` its
    buffer size; the zero-copy path ignores ``length``.

    Raises:
        OSError: the copy failed (a :class:`zcopy.Error` with ``.written``
            on the zero-copy path).
    """
    try:
        copy(fdst, fsrc)
    except _objects.Refused:
        # raised before anything moved: the objects need Python's loop
        shutil.copyfileobj(fsrc, fdst, length)
