"""``zcopy.aio.sendfile``: a file to a socket or StreamWriter with sendfile(2), on any asyncio loop.

asyncio's ``loop.sock_sendfile`` / ``loop.sendfile`` use sendfile(2) on
the default loop only: uvloop has no zero-copy path for them (uvloop
issues #228 and #549) and copies through Python buffers. This one needs
nothing of the loop but ``add_writer``, which every loop has: each step is
a non-blocking ``zcopy.sendfile(..., offset=, nowait=True)`` (pread-style,
so the file's own position is not used while sending), and when the
socket is full the coroutine waits for it to be writable.

A StreamWriter's socket belongs to its transport: what the writer still
buffers is flushed first (so it arrives before the file), and the sends go
through a dup of the socket's fd, since a loop refuses ``add_writer`` on an
fd a transport owns.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any, List, Optional, Union

from . import _objects
from ._transfer import count_arg

#: The most bytes one non-blocking call is asked for: the call runs on the
#: loop's thread (GIL released, loop not), so a fast peer must not keep the
#: loop from its other work for long (8 MiB: a few ms on loopback).
STEP = 8 << 20


async def _flush(writer: asyncio.StreamWriter) -> None:
    """Waits until the transport has written everything the writer buffered."""
    transport: Any = writer.transport
    low_high = transport.get_write_buffer_limits()
    transport.set_write_buffer_limits(0)
    try:
        # each round: the transport still holds bytes; drain() returns once it wrote
        # them, or at once when it is not paused, so poll between rounds
        while transport.get_write_buffer_size():
            await writer.drain()
            if transport.get_write_buffer_size():
                await asyncio.sleep(0.001)
    finally:
        transport.set_write_buffer_limits(high=low_high[1], low=low_high[0])


def _socket_of(writer: asyncio.StreamWriter) -> Any:
    transport = writer.transport
    raw = transport.get_extra_info("socket")
    if raw is None:
        raise TypeError("the StreamWriter's transport has no socket (a pipe or subprocess?)")
    if transport.get_extra_info("sslcontext") is not None or transport.get_extra_info("ssl_object"):
        raise TypeError("a TLS stream's bytes are records, not the file's: zcopy cannot sendfile "
                        "to it (use loop.sendfile, which falls back to writes)")
    if transport.is_closing():
        raise ConnectionResetError("the StreamWriter is closing")
    return raw


class _Writable:
    """Waits for the socket to be writable; registered with the loop once for the whole call.

    Registering and removing a writer for every wait costs two epoll_ctl
    (and on uvloop a poll handle each time); the registration stays while
    the call runs, and wakes only a waiter.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop = loop
        self.fd = fd
        self.ready: Optional[asyncio.Future[None]] = None
        self.registered = False

    def _wake(self) -> None:
        if self.ready is not None and not self.ready.done():
            self.ready.set_result(None)

    async def wait(self) -> None:
        self.ready = self.loop.create_future()
        if not self.registered:
            self.loop.add_writer(self.fd, self._wake)
            self.registered = True
        try:
            await self.ready
        finally:
            self.ready = None

    def close(self) -> None:
        if self.registered:
            self.loop.remove_writer(self.fd)
            self.registered = False


async def _send(loop: asyncio.AbstractEventLoop, fd: int, file: Any, offset: int, count: Optional[int],
                sent: List[int]) -> None:
    """Sends the file's bytes from offset; ``sent[0]`` counts every byte accepted by the socket."""
    from . import sendfile  # the package's, with its checks and error classes

    writable = _Writable(loop, fd)
    try:
        # each round: sent[0] bytes from offset have reached the socket
        while count is None or sent[0] < count:
            ask = STEP if count is None else min(STEP, count - sent[0])
            try:
                n = sendfile(src=file, dst=fd, count=ask, offset=offset + sent[0], nowait=True)
            except BlockingIOError:
                await writable.wait()
                continue
            if n == 0:
                return  # end of file
            sent[0] += n
            if n == ask:
                await asyncio.sleep(0)  # a full step: let the loop run others
    finally:
        writable.close()


async def sendfile(sock_or_writer: Union[socket.socket, asyncio.StreamWriter, int], file: Any, offset: int = 0,
                   count: Optional[int] = None) -> int:
    """Sends ``file`` from ``offset`` to a socket or StreamWriter with sendfile(2); returns the bytes sent.

    Works the same on asyncio's default loop and on uvloop (whose
    ``loop.sock_sendfile`` has no zero-copy path). ``sock_or_writer``: a
    connected non-blocking socket no transport drives, or an
    :class:`asyncio.StreamWriter` (its buffered bytes are flushed first,
    and nothing else may write to it meanwhile). ``file``: a regular file
    opened for reading, or its fd. ``count=None`` sends until end of file.

    As ``loop.sock_sendfile``: the file's position is set to
    ``offset + sent`` when the call ends, also on an error or a
    cancellation, so ``file.tell() - offset`` is what the peer was sent
    (an int fd's position is left alone). Cancelling the task stops it
    between two non-blocking calls: nothing is in flight in zcopy. Every
    exception of this call carries ``.written``, the CancelledError too as
    the cancelled task itself catches it (``await task`` from elsewhere
    raises a fresh CancelledError: use ``file.tell()`` there).

    Raises:
        ValueError: a blocking socket, a negative offset or count.
        TypeError: a TLS stream, or a file without fileno().
        zcopy.NotHandled: the kernel cannot sendfile from ``file``.
        zcopy.Error: the send failed (BrokenPipeError, ConnectionResetError,
            ...), with ``.written``.
        asyncio.CancelledError: the task was cancelled.
    """
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be an int >= 0, got {offset!r}")
    n = None if count is None else count_arg(count)
    loop = asyncio.get_running_loop()
    dup: Optional[socket.socket] = None
    if isinstance(sock_or_writer, asyncio.StreamWriter):
        raw = _socket_of(sock_or_writer)
        await _flush(sock_or_writer)
        dup = socket.socket(fileno=os.dup(raw.fileno()))
        dup.setblocking(False)
        fd = dup.fileno()
    else:
        fd = _objects.fileno(sock_or_writer)
        if os.get_blocking(fd):
            raise ValueError("the socket must be non-blocking (call setblocking(False) on it)")
    sent = [0]
    try:
        await _send(loop, fd, file, offset, n, sent)
        return sent[0]
    except BaseException as e:
        try:
            e.written = sent[0]  # type: ignore[attr-defined]
        except AttributeError:
            pass
        raise
    finally:
        if dup is not None:
            dup.close()
        if not isinstance(file, int) and hasattr(file, "seek") and not getattr(file, "closed", False):
            file.seek(offset + sent[0])
