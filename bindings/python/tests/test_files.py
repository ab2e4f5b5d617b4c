"""zcopy.sendfile and zcopy.copy_file_range: files to sockets and files."""

import errno
import hashlib
import os
import socket
import unittest

import zcopy
from _util import Bg, close_all, data, read_all, read_n, tcp_pair, temp_file


class SendFile(unittest.TestCase):
    def test_file_to_tcp_sha256(self):
        payload = data(567198, seed=5)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        reader = Bg(read_all, dr)
        self.assertEqual(zcopy.sendfile(src=f, dst=dw), len(payload))
        dw.shutdown(socket.SHUT_WR)
        got = reader.result()
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(payload).hexdigest())
        # the file position advanced to the end
        self.assertEqual(os.lseek(f.fileno(), 0, os.SEEK_CUR), len(payload))
        # at end of file: 0, no error
        self.assertEqual(zcopy.sendfile(src=f, dst=dw), 0)

    def test_limits(self):
        payload = data(10000, seed=6)
        for count, expect in ((9999, 9999), (10000, 10000), (10001, 10000), (1 << 40, 10000)):
            with self.subTest(count=count):
                f, _ = temp_file(self, payload, mode="rb", buffering=0)
                dw, dr = tcp_pair()
                close_all(self, dw, dr)
                self.assertEqual(zcopy.sendfile(src=f, dst=dw, count=count), expect)
                self.assertEqual(read_n(dr, expect), payload[:expect])

    def test_three_small_sends_in_a_row(self):
        f, _ = temp_file(self, b"abcdefghi", mode="rb", buffering=0)
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        for _ in range(3):
            self.assertEqual(zcopy.sendfile(src=f, dst=dw, count=3), 3)
        self.assertEqual(read_n(dr, 9), b"abcdefghi")

    def test_seek_then_send(self):
        payload = data(200 << 10, seed=8)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        f.seek(65 << 10)
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        self.assertEqual(zcopy.sendfile(src=f, dst=dw, count=10 << 10), 10 << 10)
        self.assertEqual(read_n(dr, 10 << 10), payload[65 << 10:75 << 10])
        self.assertEqual(f.tell(), 75 << 10)

    def test_file_to_file(self):
        payload = data(1 << 20, seed=9)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.sendfile(src=src, dst=dst), len(payload))
        with open(path, "rb") as g:
            self.assertTrue(g.read() == payload)

    def test_socket_source_not_handled(self):
        a, b = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, a, b, dw, dr)
        a.sendall(b"stays")
        with self.assertRaises(zcopy.NotHandled) as cm:
            zcopy.sendfile(src=b, dst=dw)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertEqual(cm.exception.method, "sendfile")
        self.assertEqual(read_n(b, 5), b"stays")

    def test_broken_pipe(self):
        payload = data(8 << 20, seed=10)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        dw, dr = tcp_pair()
        close_all(self, dw)
        dr.close()
        with self.assertRaises((BrokenPipeError, ConnectionResetError)) as cm:
            zcopy.sendfile(src=f, dst=dw)
        self.assertIsInstance(cm.exception, zcopy.Error)
        self.assertEqual(cm.exception.method, "sendfile")

    def test_negative_count(self):
        f, _ = temp_file(self, b"x", mode="rb")
        with self.assertRaises(ValueError):
            zcopy.sendfile(src=f, dst=1, count=-5)


class CopyFileRange(unittest.TestCase):
    def test_file_to_file(self):
        payload = data(3 << 20, seed=12)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy_file_range(src=src, dst=dst), len(payload))
        self.assertEqual(src.tell(), len(payload))
        self.assertEqual(dst.tell(), len(payload))
        with open(path, "rb") as g:
            self.assertTrue(g.read() == payload)
        # at EOF the first round copies nothing, which the library cannot tell
        # from a procfs file that reports size 0: NotHandled, no errno
        with self.assertRaises(zcopy.NotHandled) as cm:
            zcopy.copy_file_range(src=src, dst=dst)
        self.assertIsNone(cm.exception.errno)

    def test_limits_and_buffered_dst(self):
        payload = data(5000, seed=13)
        for count, expect in ((4999, 4999), (5000, 5000), (10000, 5000), (0, 0)):
            with self.subTest(count=count):
                src, _ = temp_file(self, payload, mode="rb", buffering=0)
                dst, path = temp_file(self, mode="wb")  # buffered
                dst.write(b"HEAD")  # pending in Python's buffer: flushed first
                self.assertEqual(zcopy.copy_file_range(src=src, dst=dst, count=count), expect)
                dst.close()
                with open(path, "rb") as g:
                    self.assertEqual(g.read(), b"HEAD" + payload[:expect])

    def test_procfs_source_not_handled(self):
        with open("/proc/self/status", "rb", buffering=0) as src:
            dst, path = temp_file(self, mode="wb", buffering=0)
            with self.assertRaises(zcopy.NotHandled) as cm:
                zcopy.copy_file_range(src=src, dst=dst)
            self.assertEqual(cm.exception.written, 0)
            self.assertEqual(cm.exception.method, "copy_file_range")
            self.assertIsInstance(cm.exception, OSError)
            # nothing consumed: the fallback still gets the full content
            self.assertEqual(src.tell(), 0)
            dst.write(src.read())
        with open(path, "rb") as g:
            self.assertIn(b"Name:", g.read())

    def test_o_append_dst_not_handled(self):
        src, _ = temp_file(self, b"data", mode="rb", buffering=0)
        dst, path = temp_file(self, b"old", mode="ab", buffering=0)
        with self.assertRaises(zcopy.NotHandled) as cm:
            zcopy.copy_file_range(src=src, dst=dst)
        self.assertEqual(cm.exception.errno, errno.EBADF)
        with open(path, "rb") as g:
            self.assertEqual(g.read(), b"old")

    def test_socket_not_handled(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        dst, _ = temp_file(self, mode="wb", buffering=0)
        a.sendall(b"q")
        with self.assertRaises(zcopy.NotHandled):
            zcopy.copy_file_range(src=b, dst=dst)
        self.assertEqual(read_n(b, 1), b"q")


if __name__ == "__main__":
    unittest.main()
