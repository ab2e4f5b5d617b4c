"""One side of an aio relay: a plain socket, or an asyncio (StreamReader, StreamWriter) pair.

A stream pair's socket belongs to its transport, which reads it into the
StreamReader and writes the StreamWriter's buffer to it. To splice it, the
side is taken over in this order:

1. the transport stops reading the socket (``pause_reading``), so no byte
   goes to the StreamReader any more;
2. the StreamWriter's buffer is flushed (write limits 0, then ``drain``),
   so what the program wrote before the relay goes out first;
3. the bytes the StreamReader holds (read from the socket but not by the
   program, e.g. after ``readline()``) are taken out of it: the relay
   sends them to the other side before any spliced byte;
4. the splicer works on a dup of the socket's fd: the loop refuses
   add_reader on an fd a transport owns, and a dup is another fd number
   for the same socket (its own epoll registration).

When the relay ends, the dup is closed and the writer closed (which closes
the socket).
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any, Optional

from . import _objects


def _is_stream_pair(obj: Any) -> bool:
    return (isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], asyncio.StreamReader)
            and isinstance(obj[1], asyncio.StreamWriter))


class Side:
    """One end of a relay: the fd to splice, what must go out first, and how to finish."""

    def __init__(self, obj: Any, name: str) -> None:
        self.obj = obj
        self.name = name
        self.writer: Optional[asyncio.StreamWriter] = None
        self.sock: Optional[socket.socket] = None  # the dup, for a stream pair
        self.held = b""
        if _is_stream_pair(obj):
            self.writer = obj[1]
            self.fd = -1
            return
        end = _objects.source(obj)
        if end.held:
            raise TypeError(f"{name} holds {len(end.held)} bytes in its Python buffer that a splice "
                            "would skip; pass the socket itself")
        self.fd = end.fd
        if os.get_blocking(self.fd):
            raise ValueError(f"{name} must be non-blocking (call setblocking(False) on it)")

    async def adopt(self) -> None:
        """Takes a stream pair's socket over from its transport (steps 1-4 above)."""
        if self.writer is None:
            return
        reader, writer = self.obj
        transport = writer.transport
        raw = transport.get_extra_info("socket")
        if raw is None:
            raise TypeError(f"{self.name}: the stream's transport has no socket (TLS or a pipe?)")
        if transport.get_extra_info("sslcontext") is not None or transport.get_extra_info("ssl_object"):
            raise TypeError(f"{self.name}: a TLS stream's bytes are records, not the socket's; "
                            "zcopy cannot relay it")
        transport.pause_reading()
        transport.set_write_buffer_limits(0)
        while transport.get_write_buffer_size():
            await writer.drain()
            if transport.get_write_buffer_size():
                await asyncio.sleep(0.001)  # the transport has not written yet: let it
        buffered = getattr(reader, "_buffer", None)  # no public way to take what a StreamReader holds
        if buffered:
            self.held = bytes(buffered)
            buffered.clear()
        self.sock = socket.socket(fileno=os.dup(raw.fileno()))
        self.sock.setblocking(False)
        self.fd = self.sock.fileno()

    def shutdown(self, how: int) -> None:
        """shutdown(2) of the socket; a peer already gone is fine."""
        try:
            if self.sock is not None:
                self.sock.shutdown(how)
            elif hasattr(self.obj, "shutdown"):
                self.obj.shutdown(how)
            else:
                s = socket.socket(fileno=os.dup(self.fd))
                try:
                    s.shutdown(how)
                finally:
                    s.close()
        except OSError:
            pass  # the peer is gone already: nothing to tell it

    async def finish(self) -> None:
        """After the relay: the dup is closed, a stream pair's writer closed."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass  # reset or gone: closed all the same
