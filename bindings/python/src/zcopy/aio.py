"""Zero-copy splicing on an asyncio event loop (default loop or uvloop).

Built on the library's non-blocking splicer (``zcopy_splicer_*``, see
zcopy/_aio_pump.py): each direction owns a kernel pipe from the pool, bytes
move socket -> pipe -> socket without entering Python, and bytes taken from
the source wait in the pipe (never lost) while the destination is full.

:func:`sendfile` sends a file to a socket or StreamWriter with
sendfile(2) on any loop, uvloop included (see zcopy/_aio_sendfile.py).

Pass non-blocking sockets (``sock.setblocking(False)``, or those from
``loop.sock_accept``) that no transport drives, or to :func:`relay` the
``(StreamReader, StreamWriter)`` pairs of ``asyncio.open_connection`` and
``asyncio.start_server``: their transports are paused and their buffered
bytes forwarded first (see zcopy/_aio_streams.py).

``timeout=`` (seconds) is an idle timeout: no byte moved for that long
raises TimeoutError (a zcopy.Error) with ``.written`` and ``.pending``.
Cancelling the awaiting task stops cleanly: the readers and writers are
removed, the splicer is freed (bytes it still held are dropped with its
pipe) and CancelledError propagates.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any, List, Optional, Tuple

from . import FileLike, _objects
from ._transfer import count_arg
from ._aio_pump import WANT_READ, WANT_WRITE, Idle, Pump, Splicer, fail_all
from ._aio_streams import Side
from ._aio_sendfile import sendfile
from ._control import seconds
from ._keywords import ends_by_keyword

__all__ = ["Splicer", "WANT_READ", "WANT_WRITE", "relay", "sendfile", "splice"]


@ends_by_keyword("aio.splice")
async def splice(*, src: FileLike, dst: FileLike, count: Optional[int] = None,
                 timeout: Optional[float] = None) -> int:
    """Moves up to ``count`` bytes from src to dst on the running loop.

    ``await zcopy.aio.splice(src=a, dst=b)``: both ends by keyword only,
    as :func:`zcopy.splice`'s.

    ``count=None`` moves until src reaches end of stream. Returns the bytes
    delivered to dst. dst is not half-closed (see :func:`relay`).

    Raises:
        NotHandled: the kernel cannot splice from src (nothing consumed).
        TimeoutError: ``timeout`` seconds passed with no byte moved.
        zcopy.Error: a hard error (BrokenPipeError, ConnectionResetError,
            ...) with ``.written`` (bytes delivered) and ``.pending`` (bytes
            taken from src but not delivered, dropped with the splicer).
        ValueError: a negative count, or a blocking fd.
        asyncio.CancelledError: the task was cancelled; registrations are
            removed and the splicer freed first.
    """
    n = None if count is None else count_arg(count)
    t = seconds(timeout)
    d = _objects.sink(dst).fd
    s = Side(src, "src").fd
    if os.get_blocking(d):
        raise ValueError("dst must be non-blocking (call setblocking(False) on it)")
    if n == 0:
        return 0
    loop = asyncio.get_running_loop()
    pump = Pump(loop, d, s, n)
    idle = None if t is None else Idle(loop, t, fail_all((pump,)))
    pump.idle = idle
    try:
        pump.run()
        return await pump.future
    finally:
        pump.stop()
        if idle is not None:
            idle.cancel()


async def _send_first(loop: asyncio.AbstractEventLoop, fd: int, data: bytes) -> None:
    """Sends bytes a stream side held to the other side before anything is spliced."""
    s = socket.socket(fileno=os.dup(fd))
    try:
        s.setblocking(False)
        await loop.sock_sendall(s, data)
    finally:
        s.close()


async def relay(a: Any, b: Any, *, timeout: Optional[float] = None,
                close_both: bool = False) -> Tuple[int, int]:
    """Relays both ways between a and b until both directions are done.

    a and b are connected non-blocking sockets (or fds), or
    ``(StreamReader, StreamWriter)`` pairs. Each direction splices until
    its source reaches end of stream, then half-closes its destination
    (shutdown(SHUT_WR)) while the other goes on; with ``close_both`` the
    first end of stream shuts down both write sides and ends the relay
    (bytes the other direction still held are dropped). Returns
    ``(a_to_b, b_to_a)``, the bytes delivered each way. Sockets are not
    closed; stream pairs' writers are (their transports were taken over).

    ``timeout=``: seconds with no byte moved either way. On a timeout the
    sockets are left open and not shut down (their peers read nothing
    more, not end of stream), exactly as :func:`zcopy.relay` leaves them:
    the caller decides, e.g. to write an error reply, then closes them.
    A stream pair's writer is closed in every case, timeout included.

    Raises:
        TimeoutError: ``timeout`` seconds passed with no byte moved either
            way; both sockets left open (see above).
        zcopy.Error: a direction failed (reset, broken pipe); the other is
            stopped and both sockets shut down (SHUT_RDWR). Every exception of the
            relay carries ``.a_to_b`` and ``.b_to_a``.
        TypeError: a TLS stream, or a socket object holding read-ahead.
        asyncio.CancelledError: cancelled; both directions stopped and
            their splicers freed.
    """
    t = seconds(timeout)
    sa, sb = Side(a, "a"), Side(b, "b")
    loop = asyncio.get_running_loop()
    pumps: List[Pump] = []
    idle: Optional[Idle] = None
    try:
        await sa.adopt()
        await sb.adopt()
        if sa.held:
            await _send_first(loop, sb.fd, sa.held)
        if sb.held:
            await _send_first(loop, sa.fd, sb.held)
        ab = Pump(loop, sb.fd, sa.fd, None)
        pumps.append(ab)
        ba = Pump(loop, sa.fd, sb.fd, None)
        pumps.append(ba)
        if t is not None:
            idle = Idle(loop, t, fail_all(pumps))
            ab.idle = ba.idle = idle

        def counts() -> Tuple[int, int]:
            return len(sa.held) + ab.written, len(sb.held) + ba.written

        for p in pumps:
            p.run()
        waiting = {ab.future: sb, ba.future: sa}
        while waiting:
            done, _ = await asyncio.wait(set(waiting), return_when=asyncio.FIRST_COMPLETED)
            for f in done:
                dst = waiting.pop(f)
                e = f.exception()
                if e is not None:
                    if not isinstance(e, TimeoutError):
                        # a hard error: tell both peers now; a timeout
                        # leaves them open, as zcopy.relay does
                        sa.shutdown(socket.SHUT_RDWR)
                        sb.shutdown(socket.SHUT_RDWR)
                    e.a_to_b, e.b_to_a = counts()  # type: ignore[attr-defined]
                    raise e
                if close_both:
                    sa.shutdown(socket.SHUT_WR)
                    sb.shutdown(socket.SHUT_WR)
                    return counts()
                dst.shutdown(socket.SHUT_WR)
        return counts()
    finally:
        for p in pumps:
            p.stop()
            if not p.future.done():
                p.future.cancel()
            elif not p.future.cancelled():
                p.future.exception()  # retrieved: the other direction's is the one raised
        if idle is not None:
            idle.cancel()
        await sa.finish()
        await sb.finish()
