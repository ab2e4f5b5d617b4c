"""What a Python object means as one end of a transfer.

zcopy moves the bytes of file descriptors, so an object qualifies only when
the bytes its Python reader or writer sees are its fd's bytes, give or take
a buffer that can be accounted for:

========================================  ===================================
object                                    as a transfer end
========================================  ===================================
int                                       the fd itself
socket.socket                             its fd
io.FileIO, socket.SocketIO                their fd
io.BufferedReader / Writer / Random       pending writes flushed first; bytes
                                          read ahead into the buffer are taken
                                          out of it: a seekable fd is moved
                                          back over them, a pipe's or socket's
                                          go to dst first; the object re-reads
                                          its position after the call
tempfile.NamedTemporaryFile               its ``.file``
ssl.SSLSocket                             TypeError: the fd carries TLS records
text files                                TypeError: decoded, newline-translated
gzip/bz2/lzma files, io.BytesIO, other    TypeError: compressed, decoded or in
io objects (http.client.HTTPResponse)     memory, not the fd's bytes
anything else with fileno()               its fd, trusted
========================================  ===================================

Every refusal happens before any system call, so nothing has moved.
"""

from __future__ import annotations

import io
import os
import socket
import sys
from typing import Any, Callable, Optional

from . import _loader


#: io types whose bytes are their fd's bytes (the buffered ones once their
#: buffer is accounted for).
_PLAIN = (io.FileIO, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, socket.SocketIO)
_BUFFERED = (io.BufferedReader, io.BufferedWriter, io.BufferedRandom)
_READ_BUFFERED = (io.BufferedReader, io.BufferedRandom)


def refused(message: str) -> TypeError:
    """A TypeError for an object zcopy must not move bytes of; raised before anything moves.

    A plain TypeError (only public types reach users), marked so that
    zcopy.copyfileobj can tell a refusal, which it answers with shutil's
    loop, from any other TypeError.
    """
    e = TypeError(message)
    e._zcopy_refused = True  # type: ignore[attr-defined]
    return e


def is_refusal(e: BaseException) -> bool:
    """True for a TypeError raised by :func:`refused` (nothing moved yet)."""
    return getattr(e, "_zcopy_refused", False) is True


def _refuse(obj: Any) -> None:
    ssl = sys.modules.get("ssl")  # not imported: no object can be an SSLSocket
    if ssl is not None and isinstance(obj, ssl.SSLSocket):
        raise refused(
            "zcopy cannot move bytes through an ssl.SSLSocket: its fd carries TLS records, "
            "and the kernel would send or receive plaintext; use sendall()/recv() or "
            "shutil.copyfileobj / zcopy.copyfileobj"
        )
    if isinstance(obj, io.TextIOBase):
        raise refused(
            f"zcopy moves bytes, and {type(obj).__name__} is a text-mode file (decoded, newlines "
            "translated): pass its .buffer, or open the file in binary mode"
        )
    if isinstance(obj, io.IOBase) and not isinstance(obj, _PLAIN):
        name = f"{type(obj).__module__}.{type(obj).__qualname__}"
        raise refused(
            f"zcopy moves the bytes of file descriptors, and a {name} does not hold its fd's "
            "bytes (compressed, decoded or in memory): use shutil.copyfileobj or zcopy.copyfileobj"
        )
    if isinstance(obj, _BUFFERED):
        _refuse(obj.raw)


def plain(obj: Any) -> Any:
    """The object zcopy moves bytes of, after unwrapping; TypeError if it must not."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None and isinstance(obj, tempfile._TemporaryFileWrapper):
        obj = obj.file  # NamedTemporaryFile: documented as wrapping the true file object
    _refuse(obj)
    return obj


def fileno(obj: Any) -> int:
    """The fd of an int or of an object with fileno(); TypeError otherwise."""
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj
    get = getattr(obj, "fileno", None)
    if get is None or isinstance(obj, bool):
        raise refused(f"expected an int fd or an object with fileno(), got {type(obj).__name__}")
    try:
        return int(get())
    except io.UnsupportedOperation as e:
        raise refused(f"{type(obj).__name__} has no file descriptor ({e})") from None


def _would_block(_buffer: Any) -> None:
    return None


def _held(f: Any) -> bytes:
    """The bytes f's buffer holds beyond its fd's position, read without read(2).

    peek() returns the buffer when it holds bytes. When it is empty, peek
    refills it through ``raw.readinto``; here that answers "would block"
    (None, what a non-blocking raw stream returns), so peek returns b""
    and the fd is not touched (a blocking socket would otherwise wait).
    """
    raw = f.raw
    try:
        raw.readinto = _would_block
    except AttributeError:
        raise refused(
            f"cannot see what a {type(f).__name__} over a {type(raw).__name__} holds in its "
            "buffer; pass the fd, or an unbuffered object"
        ) from None
    try:
        return bytes(f.peek())
    finally:
        del raw.readinto


class End:
    """One side of a transfer: its fd, and the buffered object to keep right."""

    __slots__ = ("fd", "buffered", "held")

    def __init__(self, fd: int, buffered: Optional[Any] = None, held: bytes = b"") -> None:
        self.fd = fd
        self.buffered = buffered
        self.held = held
        """Bytes a non-seekable src's buffer holds: they go to dst before the fd's."""

    def deliver_held(self, dst_fd: int, limit: int,
                     copy: Callable[[int, int, int], _loader.Result]) -> _loader.Result:
        """Writes up to ``limit`` held bytes to dst, through the library.

        The bytes go by ``copy`` (zcopy_copy with the call's options) from a
        memfd, so dst gets the library's own handling (waiting on a
        non-blocking dst, timeouts, SIGPIPE kept from the process). Exactly
        the bytes delivered leave the buffer.
        """
        data = self.held[:limit]
        fd = os.memfd_create("zcopy-held", os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.lseek(fd, 0, os.SEEK_SET)
            r = copy(dst_fd, fd, len(data))
        finally:
            os.close(fd)
        if r.written and self.buffered is not None:
            self.buffered.read(r.written)  # served from the buffer: no read(2)
        self.held = self.held[r.written:]
        return r

    def settle(self) -> None:
        """After the call: a seekable buffered object re-reads its position from the fd.

        Its cached idea of the fd's position predates the call; seeking by 0
        from the current position drops the cache (the buffer is empty by
        now) and asks the kernel.
        """
        f = self.buffered
        if f is not None and not f.closed and f.seekable():
            f.seek(0, os.SEEK_CUR)


def sink(obj: Any) -> End:
    """dst as an End: pending writes are flushed so they land first."""
    obj = plain(obj)
    if isinstance(obj, _BUFFERED):
        # a BufferedRandom's flush also moves the fd back over its read-ahead
        obj.flush()
        return End(fileno(obj), obj)
    return End(fileno(obj))


def source(obj: Any, *, positional: bool = False) -> End:
    """src as an End whose fd starts where the object's reader would read.

    ``positional``: the call reads at an explicit offset and leaves the fd's
    position alone, so only pending writes matter.
    """
    obj = plain(obj)
    if not isinstance(obj, _BUFFERED):
        return End(fileno(obj))
    obj.flush()
    fd = fileno(obj)
    if positional or not isinstance(obj, _READ_BUFFERED):
        return End(fd)
    held = _held(obj)
    if held and obj.seekable():
        # hand the read-ahead back to the kernel: the fd moves back over it
        obj.read(len(held))
        os.lseek(fd, -len(held), os.SEEK_CUR)
        held = b""
    return End(fd, obj, held)


__all__ = ["End", "refused", "fileno", "is_refusal", "plain", "sink", "source"]
