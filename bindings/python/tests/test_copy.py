"""zcopy.copy (best-path dispatch) and the offset= / src_offset= / dst_offset= keywords."""

import os
import socket
import threading
import unittest

import zcopy
from _util import Bg, close_all, data, read_all, read_n, tcp_pair, temp_file


class Copy(unittest.TestCase):
    def test_file_to_file(self):
        payload = data(2 << 20, seed=21)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy(src=src, dst=dst), len(payload))
        with open(path, "rb") as g:
            self.assertTrue(g.read() == payload)

    def test_source_shorter_than_count(self):
        src, _ = temp_file(self, b"short", mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy(src=src, dst=dst, count=1000), 5)
        self.assertEqual(zcopy.copy(src=src, dst=dst, count=1000), 0)  # at EOF: 0, no NotHandled
        with open(path, "rb") as g:
            self.assertEqual(g.read(), b"short")

    def test_pipes(self):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        for fd in (r1, r2):
            self.addCleanup(os.close, fd)
        os.write(w1, data(255))
        os.close(w1)
        self.assertEqual(zcopy.copy(src=r1, dst=w2), 255)  # pipe -> pipe, until EOF
        os.close(w2)
        self.assertEqual(os.read(r2, 1000), data(255))
        # file -> pipe (one end)
        src, _ = temp_file(self, data(255, 2), mode="rb", buffering=0)
        r3, w3 = os.pipe()
        self.addCleanup(os.close, r3)
        self.assertEqual(zcopy.copy(src=src, dst=w3), 255)
        os.close(w3)
        self.assertEqual(os.read(r3, 1000), data(255, 2))

    def test_file_to_pipe_does_not_share_pages(self):
        """A change to the file after the copy must not show in what the reader gets."""
        src, path = temp_file(self, b"A" * 8192, mode="rb", buffering=0)
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        self.assertEqual(zcopy.copy(src=src, dst=w, count=8192), 8192)
        with open(path, "r+b", buffering=0) as f:
            f.write(b"B" * 8192)
        self.assertEqual(read_pipe(r, 8192), b"A" * 8192)

    def test_dev_null_and_pty(self):
        payload = data(100000, seed=23)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        with open("/dev/null", "wb", buffering=0) as null:
            self.assertEqual(zcopy.copy(src=src, dst=null), len(payload))
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        import tty
        tty.setraw(slave)
        text = b"through a pty\n" * 100
        src2, _ = temp_file(self, text, mode="rb", buffering=0)
        reader = Bg(read_pipe, master, len(text))
        self.assertEqual(zcopy.copy(src=src2, dst=slave), len(text))
        self.assertEqual(reader.result(), text)

    def test_socket_to_socket_and_limit(self):
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        payload = data(5 << 20, seed=24)
        w = Bg(sw.sendall, payload)
        r = Bg(read_n, dr, len(payload) - 10)
        self.assertEqual(zcopy.copy(src=sr, dst=dw, count=len(payload) - 10), len(payload) - 10)
        w.result()
        self.assertTrue(r.result() == payload[:-10])
        self.assertEqual(read_n(sr, 10), payload[-10:])

    def test_errors(self):
        with self.assertRaises(ValueError):
            zcopy.copy(src=0, dst=1, count=-1)
        # peer gone: BrokenPipeError (or reset) with the bytes moved
        dw, dr = tcp_pair()
        close_all(self, dw)
        dr.close()
        src, _ = temp_file(self, data(4 << 20), mode="rb", buffering=0)
        with self.assertRaises((BrokenPipeError, ConnectionResetError)) as cm:
            zcopy.copy(src=src, dst=dw)
        self.assertIsInstance(cm.exception, zcopy.Error)


def read_pipe(fd, n):
    out = bytearray()
    while len(out) < n:
        chunk = os.read(fd, n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


class Offsets(unittest.TestCase):
    def test_sendfile_eight_threads_share_one_fd(self):
        mib = 1 << 20
        payload = data(8 * mib, seed=31)
        f, _ = temp_file(self, payload, mode="rb", buffering=0)
        f.seek(12345)
        barrier = threading.Barrier(8, timeout=30)

        def serve(i):
            dw, dr = tcp_pair()
            try:
                reader = Bg(read_all, dr)
                barrier.wait()
                n = zcopy.sendfile(src=f, dst=dw, count=mib, offset=i * mib)
                dw.shutdown(socket.SHUT_WR)
                return n, reader.result()
            finally:
                dw.close()
                dr.close()

        workers = [Bg(serve, i) for i in range(8)]
        for i, wk in enumerate(workers):
            n, got = wk.result()
            self.assertEqual(n, mib)
            self.assertTrue(got == payload[i * mib:(i + 1) * mib], f"range {i} differs")
        self.assertEqual(os.lseek(f.fileno(), 0, os.SEEK_CUR), 12345)

    def test_sendfile_offset_past_and_at_end(self):
        f, _ = temp_file(self, b"0123456789", mode="rb", buffering=0)
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        self.assertEqual(zcopy.sendfile(src=f, dst=dw, offset=7), 3)
        self.assertEqual(zcopy.sendfile(src=f, dst=dw, count=2, offset=1), 2)
        self.assertEqual(zcopy.sendfile(src=f, dst=dw, offset=10), 0)
        self.assertEqual(read_n(dr, 5), b"78912")
        self.assertEqual(f.tell(), 0)
        with self.assertRaises(ValueError):
            zcopy.sendfile(src=f, dst=dw, offset=-1)

    def test_copy_file_range_grid(self):
        size = 1000
        payload = data(size, seed=32)
        base = b"#" * 300
        for s0 in (0, 100, size):
            for d0 in (0, 200):
                rest = size - s0
                for limit in (rest, rest - 100, 2 * size, 0):
                    if limit < 0:
                        continue
                    with self.subTest(src_start=s0, dst_start=d0, limit=limit):
                        src, _ = temp_file(self, payload, mode="rb", buffering=0)
                        dst, path = temp_file(self, base, mode="r+b", buffering=0)
                        expect = min(limit, rest)
                        if expect == 0 and limit > 0:
                            # nothing to copy: the library cannot tell EOF from procfs
                            with self.assertRaises(zcopy.NotHandled):
                                zcopy.copy_file_range(src=src, dst=dst, count=limit, src_offset=s0, dst_offset=d0)
                        else:
                            n = zcopy.copy_file_range(src=src, dst=dst, count=limit, src_offset=s0, dst_offset=d0)
                            self.assertEqual(n, expect)
                        self.assertEqual((src.tell(), dst.tell()), (0, 0))  # positions untouched
                        with open(path, "rb") as g:
                            got = g.read()
                        want = bytearray(base)
                        if expect:
                            want[d0:d0 + expect] = payload[s0:s0 + expect]
                        self.assertEqual(got, bytes(want))

    def test_copy_file_range_one_offset(self):
        payload = data(5000, seed=33)
        src, _ = temp_file(self, payload, mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb", buffering=0)
        src.seek(1000)
        # dst position used and advanced, src offset given
        self.assertEqual(zcopy.copy_file_range(src=src, dst=dst, count=500, src_offset=4000), 500)
        self.assertEqual((src.tell(), dst.tell()), (1000, 500))
        # src position used and advanced, dst offset given
        self.assertEqual(zcopy.copy_file_range(src=src, dst=dst, count=100, dst_offset=10), 100)
        self.assertEqual((src.tell(), dst.tell()), (1100, 500))
        with open(path, "rb") as g:
            got = g.read()
        self.assertEqual(got[:10], payload[4000:4010])
        self.assertEqual(got[10:110], payload[1000:1100])
        self.assertEqual(got[110:500], payload[4110:4500])
        with self.assertRaises(ValueError):
            zcopy.copy_file_range(src=src, dst=dst, src_offset=-3)


if __name__ == "__main__":
    unittest.main()
