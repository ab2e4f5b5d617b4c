"""timeout=, cancel= and nowait= on the positional calls: sendfile(offset=) and copy_file_range(offsets)."""

import errno
import os
import socket
import time
import unittest

import zcopy
from _util import close_all, data, read_n, tcp_pair, temp_file


def stalled_socket(testcase):
    """(dst, reader): a TCP pair whose dst fills quickly and is never read."""
    dst, reader = tcp_pair()
    close_all(testcase, dst, reader)
    dst.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    return dst, reader


class SendfileAt(unittest.TestCase):
    def test_timeout_with_offset(self):
        payload = data(4 << 20, 31)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, _reader = stalled_socket(self)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError) as cm:
            zcopy.sendfile(src=f, dst=dst, offset=1000, timeout=0.2)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.2)
        self.assertLess(took, 2.0)
        self.assertGreater(cm.exception.written, 0)
        self.assertEqual(cm.exception.errno, errno.ETIMEDOUT)
        self.assertEqual(f.tell(), 0, "the file's position is untouched")

    def test_cancel_with_offset(self):
        payload = data(1 << 20, 32)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, reader = tcp_pair()
        close_all(self, dst, reader)
        with zcopy.CancelToken() as token:
            token.cancel()
            with self.assertRaises(zcopy.Cancelled) as cm:
                zcopy.sendfile(src=f, dst=dst, offset=0, cancel=token)
        self.assertEqual(cm.exception.written, 0)
        # and without a cancel the same call sends from the offset
        self.assertEqual(zcopy.sendfile(src=f, dst=dst, count=5000, offset=100, timeout=5), 5000)
        self.assertEqual(read_n(reader, 5000), payload[100:5100])
        self.assertEqual(f.tell(), 0)

    def test_nowait_returns_what_fitted_then_blocks(self):
        payload = data(2 << 20, 33)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, reader = stalled_socket(self)
        dst.setblocking(False)
        t0 = time.monotonic()
        first = zcopy.sendfile(src=f, dst=dst, offset=0, nowait=True)
        self.assertGreater(first, 0)
        self.assertLess(first, len(payload), "a full socket takes only part of it")
        with self.assertRaises(BlockingIOError) as cm:
            zcopy.sendfile(src=f, dst=dst, offset=first, nowait=True)
        self.assertLess(time.monotonic() - t0, 0.5, "neither call waited")
        self.assertIsInstance(cm.exception, zcopy.Error)
        self.assertEqual(cm.exception.written, 0)
        # an event loop's way: wait for room, go on from the offset
        off, got = first, bytearray()
        reader.setblocking(False)
        import selectors
        sel = selectors.DefaultSelector()
        self.addCleanup(sel.close)
        sel.register(reader, selectors.EVENT_READ)
        sel.register(dst, selectors.EVENT_WRITE)
        deadline = time.monotonic() + 20
        while len(got) < len(payload) and time.monotonic() < deadline:
            for key, _ in sel.select(5):
                if key.fileobj is reader:
                    got += reader.recv(65536)
                elif off < len(payload):
                    try:
                        off += zcopy.sendfile(src=f, dst=dst, offset=off, nowait=True)
                    except BlockingIOError:
                        pass
                    if off == len(payload):
                        sel.unregister(dst)
        self.assertEqual(bytes(got), payload)
        self.assertEqual(f.tell(), 0)


class CopyFileRangeAt(unittest.TestCase):
    def test_offsets_with_timeout_and_cancel(self):
        payload = data(300000, 34)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, dpath = temp_file(self, b"", mode="wb+", buffering=0)
        try:
            n = zcopy.copy_file_range(src=src, dst=dst, src_offset=1000, dst_offset=0, timeout=5)
        except zcopy.NotHandled:
            self.skipTest("copy_file_range cannot serve these files here")
        self.assertEqual(n, len(payload) - 1000)
        self.assertEqual((src.tell(), dst.tell()), (0, 0))
        with open(dpath, "rb") as check:
            self.assertEqual(check.read(), payload[1000:])
        with zcopy.CancelToken() as token:
            token.cancel()
            with self.assertRaises(zcopy.Cancelled):
                zcopy.copy_file_range(src=src, dst=dst, src_offset=0, dst_offset=0, cancel=token)

    def test_one_offset_moves_the_other_files_position(self):
        payload = data(100000, 35)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, dpath = temp_file(self, b"", mode="wb+", buffering=0)
        dst.write(b"head")
        try:
            n = zcopy.copy_file_range(src=src, dst=dst, count=5000, src_offset=10, timeout=5)
        except zcopy.NotHandled:
            self.skipTest("copy_file_range cannot serve these files here")
        self.assertEqual(n, 5000)
        self.assertEqual(src.tell(), 0, "src read at its offset")
        self.assertEqual(dst.tell(), 4 + 5000, "dst written at (and past) its position")
        src.seek(7)
        self.assertEqual(zcopy.copy_file_range(src=src, dst=dst, count=3, dst_offset=0, cancel=None, timeout=5), 3)
        self.assertEqual(src.tell(), 10)
        self.assertEqual(dst.tell(), 5004)
        with open(dpath, "rb") as check:
            self.assertEqual(check.read(), payload[7:10] + b"d" + payload[10:5010])

    def test_bad_offsets(self):
        src, _ = temp_file(self, b"abc", mode="rb", buffering=0)
        dst, _ = temp_file(self, b"", mode="wb+", buffering=0)
        with self.assertRaises(ValueError):
            zcopy.copy_file_range(src=src, dst=dst, src_offset=-1, timeout=1)
        with self.assertRaises(ValueError):
            zcopy.sendfile(src=src, dst=dst, offset=-5, timeout=1)


if __name__ == "__main__":
    unittest.main()
