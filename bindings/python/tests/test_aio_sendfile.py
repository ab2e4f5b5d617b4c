"""zcopy.aio.sendfile on asyncio's loop and on uvloop (installed when missing; never skipped).

A 1 GiB sparse file to a peer that starts late and reads slowly at first
(so the sender fills the socket and waits for it to be writable), a
StreamWriter whose buffered bytes must go first, a cancellation that keeps
the count, and the argument checks.
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

import zcopy
import zcopy._aio_sendfile as impl
import zcopy.aio as aio
from _util import JOIN_TIMEOUT, data


def _uvloop():
    try:
        import uvloop
        return uvloop
    except ImportError:
        pass
    for extra in ([], ["--break-system-packages"]):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "uvloop",
                        *extra], capture_output=True, timeout=600)
        try:
            import uvloop
            return uvloop
        except ImportError:
            continue
    return None


uvloop = _uvloop()

GIB = 1 << 30
MARK = 4096
MARKS = {0: data(MARK, 1), GIB // 2 + 12345: data(MARK, 2), GIB - MARK: data(MARK, 3)}
ZERO = bytes(1 << 20)
TIMEOUT = 120


def make_sparse(testcase):
    fd, path = tempfile.mkstemp(prefix="zcopy-aio-sendfile-")
    testcase.addCleanup(os.unlink, path)
    with os.fdopen(fd, "wb") as f:
        f.truncate(GIB)
        for off, blob in MARKS.items():
            f.seek(off)
            f.write(blob)
    return path


def expected(pos, n):
    """The sparse file's bytes [pos, pos + n): zeros but for the marks."""
    out = bytearray(ZERO[:n]) if n <= len(ZERO) else bytearray(n)
    for off, blob in MARKS.items():
        lo, hi = max(pos, off), min(pos + n, off + len(blob))
        if lo < hi:
            out[lo - pos:hi - pos] = blob[lo - off:hi - off]
    return out


class SlowReader(threading.Thread):
    """Reads a socket to EOF: nothing for `delay` s, then 4 KiB recvs for the first `slow` bytes, then fast."""

    def __init__(self, sock, delay=0.3, slow=4 << 20):
        super().__init__(daemon=True)
        self.sock, self.delay, self.slow = sock, delay, slow
        self.total, self.bad, self.error = 0, None, None

    def run(self):
        try:
            self.sock.settimeout(TIMEOUT)
            time.sleep(self.delay)
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            # each round: self.total bytes received and checked against the file
            while True:
                k = self.sock.recv_into(view[:4096] if self.total < self.slow else view)
                if not k:
                    return
                if self.bad is None and view[:k] != expected(self.total, k):
                    self.bad = self.total
                self.total += k
                if self.total < self.slow and self.total % (256 << 10) < 4096:
                    time.sleep(0.005)
        except BaseException as e:  # reported by the test
            self.error = e


def tcp_pair(small=False):
    ln = socket.create_server(("127.0.0.1", 0))
    try:
        a = socket.create_connection(ln.getsockname(), timeout=10)
        b, _ = ln.accept()
    finally:
        ln.close()
    if small:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    a.setblocking(False)
    return a, b


class SendfileMixin:
    def run_loop(self, coro):
        raise NotImplementedError

    def go(self, coro):
        return self.run_loop(asyncio.wait_for(coro, TIMEOUT))

    def test_gib_sparse_file_to_a_slow_reader(self):
        path = make_sparse(self)
        a, b = tcp_pair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        reader = SlowReader(b)
        reader.start()
        waits = []
        real_wait = impl._Writable.wait

        async def counting_wait(writable):
            waits.append(writable.fd)
            await real_wait(writable)

        async def main():
            with open(path, "rb") as f, mock.patch.object(impl._Writable, "wait", counting_wait):
                n = await aio.sendfile(a, f)
                self.assertEqual(f.tell(), GIB)
            a.shutdown(socket.SHUT_WR)
            return n

        self.assertEqual(self.go(main()), GIB)
        reader.join(JOIN_TIMEOUT)
        self.assertFalse(reader.is_alive(), "the reader did not see the end of the stream")
        self.assertIsNone(reader.error)
        self.assertIsNone(reader.bad, "the bytes differ from the file's")
        self.assertEqual(reader.total, GIB)
        self.assertGreater(len(waits), 0, "the sender never waited for the slow reader")

    def test_stream_writer_flushes_first_offset_and_count(self):
        payload = data(3 << 20, 5)
        fd, path = tempfile.mkstemp(prefix="zcopy-aio-sendfile-")
        self.addCleanup(os.unlink, path)
        os.write(fd, payload)
        os.close(fd)
        got = []

        async def main():
            done = asyncio.get_running_loop().create_future()

            async def peer(reader, writer):
                done.set_result(await reader.read())
                writer.close()

            server = await asyncio.start_server(peer, "127.0.0.1", 0)
            reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
            writer.write(b"HEADER" * 50000)  # more than the transport writes at once
            with open(path, "rb") as f:
                n = await aio.sendfile(writer, f, offset=10, count=2 << 20)
                self.assertEqual(f.tell(), 10 + (2 << 20))
                m = await aio.sendfile(writer, f, offset=(3 << 20) - 5)  # to end of file: 5 bytes
            writer.write(b"TRAILER")
            await writer.drain()
            writer.close()
            got.append(await done)
            server.close()
            return n, m

        self.assertEqual(self.go(main()), (2 << 20, 5))
        want = b"HEADER" * 50000 + payload[10:10 + (2 << 20)] + payload[-5:] + b"TRAILER"
        self.assertEqual(len(got[0]), len(want))
        self.assertTrue(got[0] == want, "the bytes arrived out of order or differ")

    def test_cancel_keeps_the_count(self):
        payload = data(8 << 20, 6)
        fd, path = tempfile.mkstemp(prefix="zcopy-aio-sendfile-")
        self.addCleanup(os.unlink, path)
        os.write(fd, payload)
        os.close(fd)
        a, b = tcp_pair(small=True)
        self.addCleanup(a.close)
        self.addCleanup(b.close)

        async def main():
            seen = []

            async def sender(f):
                try:
                    return await aio.sendfile(a, f, offset=100)
                except asyncio.CancelledError as e:  # inside the task: the call's own exception
                    seen.append(e.written)
                    raise

            with open(path, "rb") as f:
                task = asyncio.ensure_future(sender(f))
                await asyncio.sleep(0.3)  # the peer reads nothing: the task waits for room
                self.assertFalse(task.done())
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                # the loop's writer registration went with the call
                self.assertIn(asyncio.get_running_loop().remove_writer(a.fileno()), (False, None))
                return f.tell() - 100, seen[0]

        sent, written = self.go(main())
        self.assertGreater(sent, 0)
        self.assertLess(sent, len(payload) - 100)
        self.assertEqual(written, sent)
        a.close()  # the peer now reads exactly what was sent, then EOF
        b.settimeout(10)
        got = bytearray()
        while True:
            chunk = b.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        self.assertEqual(len(got), sent)
        self.assertTrue(bytes(got) == payload[100:100 + sent])

    def test_arguments(self):
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        f = tempfile.TemporaryFile()
        self.addCleanup(f.close)

        async def main():
            with self.assertRaises(ValueError):
                await aio.sendfile(a, f)  # a blocking socket
            a.setblocking(False)
            with self.assertRaises(ValueError):
                await aio.sendfile(a, f, offset=-1)
            with self.assertRaises(ValueError):
                await aio.sendfile(a, f, count=-1)
            self.assertEqual(await aio.sendfile(a, f), 0)  # an empty file
            r, w = os.pipe()
            try:
                with self.assertRaises(zcopy.Error):
                    await aio.sendfile(a, r)  # a pipe: ESPIPE at an offset
            finally:
                os.close(r)
                os.close(w)

        self.go(main())


class OnAsyncio(SendfileMixin, unittest.TestCase):
    def run_loop(self, coro):
        return asyncio.run(coro)


class OnUvloop(SendfileMixin, unittest.TestCase):
    def setUp(self):
        self.assertIsNotNone(uvloop, "uvloop is needed and `pip install uvloop` failed")

    def run_loop(self, coro):
        loop = uvloop.new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()


if __name__ == "__main__":
    unittest.main()
