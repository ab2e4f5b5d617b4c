"""zcopy.splice: the C harness's socket scenarios, and Python's own."""

import errno
import os
import socket
import struct
import unittest

import zcopy
from _util import (Bg, close_all, data, read_all, read_n, tcp_pair, temp_file, unix_pair,
                   write_then_close)


class SpliceSockets(unittest.TestCase):
    def relay_once(self, make_src, make_dst, size, chunk=None, count=None):
        """Writer -> src pair -> zcopy.splice -> dst pair -> reader; returns (moved, got, payload)."""
        sw, sr = make_src()  # test writes into sw, zcopy reads sr
        dw, dr = make_dst()  # zcopy writes dw, test reads dr
        close_all(self, sw, sr, dw, dr)
        payload = data(size, seed=size)
        writer = Bg(write_then_close, sw, payload, chunk)
        reader = Bg(read_all, dr)
        moved = zcopy.splice(src=sr, dst=dw) if count is None else zcopy.splice(src=sr, dst=dw, count=count)
        writer.result()
        dw.shutdown(socket.SHUT_WR)
        got = reader.result()
        return moved, got, payload

    def check(self, make_src, make_dst):
        for size, chunk in ((128, None), (1 << 20, 4096), (5 << 20, 64 << 10)):
            with self.subTest(size=size):
                moved, got, payload = self.relay_once(make_src, make_dst, size, chunk)
                self.assertEqual(moved, size)
                self.assertEqual(len(got), size)
                self.assertTrue(got == payload, "bytes differ")

    def test_tcp_to_tcp(self):
        self.check(tcp_pair, tcp_pair)

    def test_unix_to_tcp(self):
        self.check(unix_pair, tcp_pair)

    def test_tcp_to_unix(self):
        self.check(tcp_pair, unix_pair)

    def test_int_fds(self):
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        write_then_close(sw, b"by number")
        self.assertEqual(zcopy.splice(src=sr.fileno(), dst=dw.fileno()), 9)
        self.assertEqual(read_n(dr, 9), b"by number")

    def test_limits_below_at_above(self):
        size = 1000
        for count, expect in ((size - 1, size - 1), (size, size), (size + 1, size)):
            with self.subTest(count=count):
                sw, sr = tcp_pair()
                dw, dr = tcp_pair()
                close_all(self, sw, sr, dw, dr)
                payload = data(size, seed=count)
                sw.sendall(payload)
                if count > size:
                    sw.shutdown(socket.SHUT_WR)  # only EOF can end it early
                # count <= size: must return without waiting for more or for EOF
                self.assertEqual(zcopy.splice(src=sr, dst=dw, count=count), expect)
                self.assertEqual(read_n(dr, expect), payload[:expect])
                if count < size:
                    # the rest is still in src, untouched
                    self.assertEqual(read_n(sr, size - count), payload[count:])

    def test_count_zero(self):
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        sw.sendall(b"kept")
        self.assertEqual(zcopy.splice(src=sr, dst=dw, count=0), 0)
        self.assertEqual(read_n(sr, 4), b"kept")

    def test_bad_count(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        with self.assertRaises(ValueError):
            zcopy.splice(src=b, dst=a, count=-1)
        with self.assertRaises(TypeError):
            zcopy.splice(src=b, dst=a, count=1.5)
        with self.assertRaises(TypeError):
            zcopy.splice(src=object(), dst=a)

    def test_eof_source_then_dst_still_usable(self):
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        sw.close()
        self.assertEqual(zcopy.splice(src=sr, dst=dw), 0)
        dw.sendall(b"still fine")
        self.assertEqual(read_n(dr, 10), b"still fine")

    def test_closed_fd_is_ebadf(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with self.assertRaises(OSError) as cm:
            zcopy.splice(src=r, dst=a)
        self.assertEqual(cm.exception.errno, errno.EBADF)
        self.assertIsInstance(cm.exception, zcopy.Error)
        self.assertEqual(cm.exception.written, 0)
        self.assertEqual(cm.exception.method, "splice")
        # a closed socket object: fileno() is -1
        c, d = tcp_pair()
        d.close()
        c.close()
        with self.assertRaises(OSError) as cm:
            zcopy.splice(src=c, dst=a)
        self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_broken_pipe_carries_written(self):
        """dst's peer reads 256 KiB then closes: BrokenPipeError, written counts what went out."""
        sw, sr = tcp_pair()
        dw, dr = unix_pair()
        close_all(self, sw, sr, dw, dr)
        payload = data(16 << 20, seed=7)

        def writer():
            try:
                sw.sendall(payload)
            except OSError:
                pass  # the splice stopped reading; our send timed out or broke
            finally:
                sw.close()

        w = Bg(writer)

        def reader():
            got = read_n(dr, 256 << 10)
            dr.close()
            return got

        r = Bg(reader)
        with self.assertRaises(BrokenPipeError) as cm:
            zcopy.splice(src=sr, dst=dw)
        e = cm.exception
        self.assertIsInstance(e, zcopy.Error)
        self.assertEqual(e.errno, errno.EPIPE)
        self.assertEqual(e.method, "splice")
        self.assertGreaterEqual(e.written, 256 << 10)
        self.assertLess(e.written, len(payload))
        self.assertEqual(r.result(), payload[:256 << 10])
        sr.close()
        w.result()

    def test_connection_reset_source(self):
        """src's peer aborts (RST): ConnectionResetError with the bytes moved before it."""
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        reader = Bg(read_all, dr)
        sw.sendall(b"x" * 1000)
        # the data is received first, then the reset
        self.assertEqual(zcopy.splice(src=sr, dst=dw, count=1000), 1000)
        sw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sw.close()
        with self.assertRaises(ConnectionResetError) as cm:
            zcopy.splice(src=sr, dst=dw)
        self.assertEqual(cm.exception.errno, errno.ECONNRESET)
        self.assertEqual(cm.exception.written, 0)
        dw.close()
        self.assertEqual(reader.result(), b"x" * 1000)

    def test_tcp_to_file_object(self):
        sw, sr = tcp_pair()
        close_all(self, sw, sr)
        f, path = temp_file(self, mode="wb")  # buffered: pending writes flushed first
        f.write(b"header:")
        payload = data(3 << 20, seed=3)
        w = Bg(write_then_close, sw, payload, 1 << 16)
        self.assertEqual(zcopy.splice(src=sr, dst=f), len(payload))
        w.result()
        # the file offset advanced by exactly the bytes moved
        self.assertEqual(os.lseek(f.fileno(), 0, os.SEEK_CUR), 7 + len(payload))
        f.close()
        with open(path, "rb") as g:
            self.assertTrue(g.read() == b"header:" + payload)

    def test_unix_to_file_sizes(self):
        for size in (1, 42, 1025, os.sysconf("SC_PAGE_SIZE") + 1, 32769):
            for count in (size - 1, size // 2, size + 1):
                with self.subTest(size=size, count=count):
                    sw, sr = unix_pair()
                    close_all(self, sw, sr)
                    f, path = temp_file(self, mode="wb", buffering=0)
                    payload = data(size, seed=size)
                    sw.sendall(payload)
                    sw.shutdown(socket.SHUT_WR)
                    n = zcopy.splice(src=sr, dst=f, count=count)
                    self.assertEqual(n, min(size, count))
                    self.assertEqual(os.lseek(f.fileno(), 0, os.SEEK_CUR), n)
                    with open(path, "rb") as g:
                        self.assertEqual(g.read(), payload[:n])

    def test_pipes(self):
        # pipe -> pipe
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        for fd in (r1, w1, r2, w2):
            self.addCleanup(os.close, fd)
        os.write(w1, data(255))
        self.assertEqual(zcopy.splice(src=r1, dst=w2, count=255), 255)
        self.assertEqual(os.read(r2, 1000), data(255))
        # socket -> pipe (one end a pipe)
        sw, sr = tcp_pair()
        close_all(self, sw, sr)
        sw.sendall(data(255, 2))
        sw.shutdown(socket.SHUT_WR)
        self.assertEqual(zcopy.splice(src=sr, dst=w2), 255)
        self.assertEqual(os.read(r2, 1000), data(255, 2))
        # pipe -> socket, until the pipe's writer closes
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        r3, w3 = os.pipe()
        self.addCleanup(os.close, r3)
        os.write(w3, data(255, 3))
        os.close(w3)
        self.assertEqual(zcopy.splice(src=r3, dst=dw), 255)
        self.assertEqual(read_n(dr, 255), data(255, 3))

    def test_two_way_relay_across_threads(self):
        """A proxy in threads: 8 MiB each way at once, checked byte for byte."""
        client, proxy_a = tcp_pair()
        proxy_b, server = tcp_pair()
        close_all(self, client, proxy_a, proxy_b, server)

        def pump(dst, src):
            n = zcopy.splice(src=src, dst=dst)
            dst.shutdown(socket.SHUT_WR)
            return n

        up = data(8 << 20, seed=11)
        down = data(8 << 20, seed=12)
        p1 = Bg(pump, proxy_b, proxy_a)
        p2 = Bg(pump, proxy_a, proxy_b)
        cw = Bg(write_then_close, client, up, 100_000)
        sw = Bg(write_then_close, server, down, 77_777)
        cr = Bg(read_all, client)
        sr = Bg(read_all, server)
        self.assertEqual(p1.result(), len(up))
        self.assertEqual(p2.result(), len(down))
        cw.result()
        sw.result()
        self.assertTrue(sr.result() == up, "upstream bytes differ")
        self.assertTrue(cr.result() == down, "downstream bytes differ")

    def load_relay_example(self):
        import importlib.util
        from _util import TESTS_DIR
        spec = importlib.util.spec_from_file_location("relay_example", TESTS_DIR.parent / "examples" / "relay.py")
        relay = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(relay)  # guarded by __main__: defines only
        return relay

    def test_proxy_survives_a_reset(self):
        """A client that aborts mid-stream: the relay ends both directions and closes both sockets."""
        import time
        relay = self.load_relay_example()
        client, pa = tcp_pair()
        pb, server = tcp_pair()
        close_all(self, server)
        conn = relay.Connection(pa, pb)
        conn.start()
        client.sendall(b"x" * 100000)
        self.assertEqual(len(read_n(server, 100000)), 100000)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        deadline = time.monotonic() + 10
        # the last pump closes both sockets just after it counts itself out
        while (conn.running or pb.fileno() != -1) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(conn.running, 0)
        self.assertEqual((pa.fileno(), pb.fileno()), (-1, -1))
        self.assertEqual(read_all(server), b"")  # the server side saw the end

    def test_proxy_client_writes_foo_and_closes(self):
        """The relay example must not hang when a client writes 'foo' and closes."""
        relay = self.load_relay_example()
        client, pa = tcp_pair()
        pb, server = tcp_pair()
        close_all(self, client, server)
        conn = relay.Connection(pa, pb)
        conn.start()
        client.sendall(b"foo")
        client.shutdown(socket.SHUT_WR)
        self.assertEqual(Bg(read_all, server).result(), b"foo")
        server.sendall(b"bar")
        server.close()
        self.assertEqual(Bg(read_all, client).result(), b"bar")
        for t in range(100):
            if conn.running == 0:
                break
            import time
            time.sleep(0.05)
        self.assertEqual(conn.running, 0)
        self.assertEqual(pa.fileno(), -1)  # closed by the relay
        self.assertEqual(pb.fileno(), -1)


if __name__ == "__main__":
    unittest.main()
