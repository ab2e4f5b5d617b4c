"""Python objects as transfer ends: what is refused, and how buffers are honoured.

zcopy moves a file descriptor's bytes. Objects whose bytes are not their
fd's (TLS, compressed, text, in memory) must be refused before anything
moves; buffered objects must give exactly the bytes their Python reader
would see, and keep their position right afterwards.
"""

import bz2
import gc
import gzip
import io
import lzma
import os
import socket
import ssl
import sys
import tempfile
import unittest

import zcopy
import zcopy._aio_pump as pump_mod
import zcopy.aio as aio
from _util import Bg, close_all, data, read_all, read_n, tcp_pair, temp_file, write_then_close

CALLS = {
    "copy": zcopy.copy,
    "sendfile": zcopy.sendfile,
    "splice": zcopy.splice,
    "copy_file_range": zcopy.copy_file_range,
}


def nothing_waiting(sock):
    """True when sock has no bytes to read now."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""  # EOF: nothing was sent either
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


class Refused(unittest.TestCase):
    def test_tls_socket_either_side(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        ctx = ssl.create_default_context()
        # no handshake yet, so nothing has gone out on the wire
        tls = ctx.wrap_socket(a, server_hostname="localhost", do_handshake_on_connect=False)
        self.addCleanup(tls.close)
        f, _ = temp_file(self, b"plaintext secret", mode="rb", buffering=0)
        for name in ("copy", "sendfile", "splice"):
            with self.subTest(call=name, side="dst"):
                with self.assertRaises(TypeError) as cm:
                    CALLS[name](src=f, dst=tls)
                self.assertIn("TLS", str(cm.exception))
                self.assertEqual(f.tell(), 0)
        dst, path = temp_file(self, mode="wb", buffering=0)
        for name in ("copy", "splice"):
            with self.subTest(call=name, side="src"):
                with self.assertRaises(TypeError):
                    CALLS[name](src=tls, dst=dst)
        self.assertTrue(nothing_waiting(b), "bytes reached the TLS peer")
        self.assertEqual(os.path.getsize(path), 0)

    def test_compressed_files(self):
        payload = data(50000, seed=41)
        for mod in (gzip, bz2, lzma):
            fd, path = tempfile.mkstemp(prefix="zcopy-py-")
            os.close(fd)
            self.addCleanup(os.unlink, path)
            with mod.open(path, "wb") as z:
                z.write(payload)
            size = os.path.getsize(path)
            for name in ("copy", "sendfile", "splice", "copy_file_range"):
                with self.subTest(module=mod.__name__, call=name, side="src"):
                    dst, dpath = temp_file(self, mode="wb", buffering=0)
                    with mod.open(path, "rb") as z:
                        with self.assertRaises(TypeError) as cm:
                            CALLS[name](src=z, dst=dst)
                        self.assertIn(type(z).__name__, str(cm.exception))
                        self.assertEqual(z.read(), payload)  # nothing consumed
                    self.assertEqual(os.path.getsize(dpath), 0)
                with self.subTest(module=mod.__name__, call=name, side="dst"):
                    src, _ = temp_file(self, b"raw bytes", mode="rb", buffering=0)
                    out = path + ".out"
                    self.addCleanup(lambda p=out: os.path.exists(p) and os.unlink(p))
                    with mod.open(out, "wb") as z:
                        before = os.path.getsize(out)
                        with self.assertRaises(TypeError):
                            CALLS[name](src=src, dst=z)
                        self.assertEqual(os.path.getsize(out), before)
                    self.assertEqual(src.tell(), 0)
            self.assertEqual(os.path.getsize(path), size)

    def test_text_mode_files(self):
        src, spath = temp_file(self, b"line\r\n", mode="r", newline=None)
        dst, dpath = temp_file(self, mode="wb", buffering=0)
        for name in ("copy", "sendfile", "splice", "copy_file_range"):
            with self.subTest(call=name):
                with self.assertRaises(TypeError) as cm:
                    CALLS[name](src=src, dst=dst)
                self.assertIn("text", str(cm.exception))
                with open(dpath, "w") as tdst, open(spath, "rb", buffering=0) as bsrc:
                    with self.assertRaises(TypeError):
                        CALLS[name](src=bsrc, dst=tdst)
        self.assertEqual(os.path.getsize(dpath), 0)
        self.assertEqual(src.read(), "line\n")

    def test_in_memory_and_http_like_objects(self):
        dst, _ = temp_file(self, mode="wb", buffering=0)
        for obj in (io.BytesIO(b"in memory"), io.StringIO("text")):
            with self.subTest(type=type(obj).__name__):
                with self.assertRaises(TypeError):
                    zcopy.copy(src=obj, dst=dst)

        class Decoding(io.BufferedIOBase):
            """Like http.client.HTTPResponse: an fd underneath, decoded bytes on top."""

            def __init__(self, fd):
                self.fd = fd

            def fileno(self):
                return self.fd

            def readable(self):
                return True

        src, _ = temp_file(self, b"chunked", mode="rb", buffering=0)
        with self.assertRaises(TypeError):
            zcopy.copy(src=Decoding(src.fileno()), dst=dst)
        self.assertEqual(src.tell(), 0)


class FileDescriptors(unittest.TestCase):
    def test_what_counts_as_an_fd(self):
        src, _ = temp_file(self, b"by fileno", mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb", buffering=0)

        class HasFileno:
            def fileno(self):
                return src.fileno()

        self.assertEqual(zcopy.copy(src=HasFileno(), dst=dst.fileno()), 9)  # int and any fileno() object
        for bad in (True, 1.0, "3", None, object()):
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    zcopy.copy(src=bad, dst=dst)
        closed, _ = temp_file(self, b"x", mode="rb", buffering=0)
        closed.close()
        with self.assertRaises(ValueError):  # as os.read on a closed file object
            zcopy.copy(src=closed, dst=dst)
        with open(path, "rb") as g:
            self.assertEqual(g.read(), b"by fileno")


class Buffered(unittest.TestCase):
    def test_reader_after_read(self):
        payload = data(100 << 10, seed=42)
        for name in ("copy", "sendfile", "splice", "copy_file_range"):
            with self.subTest(call=name):
                src, _ = temp_file(self, payload, mode="rb")
                self.assertEqual(src.read(10), payload[:10])  # reads 8 KiB ahead
                dst, dpath = temp_file(self, mode="wb", buffering=0)
                self.assertEqual(CALLS[name](src=src, dst=dst), len(payload) - 10)
                self.assertEqual(src.tell(), len(payload))
                self.assertEqual(src.read(), b"")
                with open(dpath, "rb") as g:
                    self.assertTrue(g.read() == payload[10:], "copy is not exactly tell()..end")

    def test_reader_with_count_then_reads_and_seeks(self):
        payload = data(100 << 10, seed=43)
        src, _ = temp_file(self, payload, mode="rb")
        src.read(10)
        dst, dpath = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy(src=src, dst=dst, count=1000), 1000)
        self.assertEqual(src.tell(), 1010)
        self.assertEqual(src.read(10), payload[1010:1020])
        # a seek that lands inside the object's new buffer must use the right base
        src.seek(1015)
        self.assertEqual(src.read(5), payload[1015:1020])
        self.assertEqual(src.tell(), 1020)
        with open(dpath, "rb") as g:
            self.assertEqual(g.read(), payload[10:1010])

    def test_unread_reader_keeps_its_position_right(self):
        payload = data(50000, seed=44)
        src, _ = temp_file(self, payload, mode="rb")  # nothing read through Python yet
        dst, _ = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy(src=src, dst=dst, count=20000), 20000)
        self.assertEqual(src.read(100), payload[20000:20100])
        src.seek(20050)
        self.assertEqual(src.read(10), payload[20050:20060])

    def test_random_access_file_both_sides(self):
        payload = data(30000, seed=45)
        f, path = temp_file(self, payload, mode="r+b")
        f.read(100)
        f.write(b"W" * 50)  # pending in the write buffer, at 100..150
        dst, dpath = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy(src=f, dst=dst, count=1000), 1000)
        self.assertEqual(f.tell(), 1150)
        with open(dpath, "rb") as g:
            self.assertEqual(g.read(), payload[150:1150])
        # as dst: the bytes land at the object's position, not the fd's read-ahead
        f.seek(0)
        f.read(10)
        src, _ = temp_file(self, b"N" * 20, mode="rb", buffering=0)
        self.assertEqual(zcopy.copy(src=src, dst=f), 20)
        self.assertEqual(f.tell(), 30)
        self.assertEqual(f.read(10), payload[30:40])
        f.close()
        with open(path, "rb") as g:
            got = g.read()
        want = payload[:10] + b"N" * 20 + payload[30:100] + b"W" * 50 + payload[150:]
        self.assertEqual(got, want)

    def test_writer_pending_bytes_flushed_first(self):
        src, _ = temp_file(self, b"body", mode="rb", buffering=0)
        dst, path = temp_file(self, mode="wb")
        dst.write(b"head:")
        self.assertEqual(zcopy.copy(src=src, dst=dst), 4)
        self.assertEqual(dst.tell(), 9)
        dst.write(b":tail")
        dst.close()
        with open(path, "rb") as g:
            self.assertEqual(g.read(), b"head:body:tail")

    def test_socket_makefile_after_readline(self):
        for name in ("copy", "splice"):
            with self.subTest(call=name):
                a, b = tcp_pair()
                close_all(self, a, b)
                body = data(300 << 10, seed=46)
                w = Bg(write_then_close, a, b"HEADER 1\r\nHEADER 2\r\n\r\n" + body, 1000)
                rf = b.makefile("rb")
                self.addCleanup(rf.close)
                self.assertEqual(rf.readline(), b"HEADER 1\r\n")
                self.assertEqual(rf.readline(), b"HEADER 2\r\n")
                self.assertEqual(rf.readline(), b"\r\n")
                dst, path = temp_file(self, mode="wb", buffering=0)
                self.assertEqual(CALLS[name](src=rf, dst=dst), len(body))
                w.result()
                with open(path, "rb") as g:
                    self.assertTrue(g.read() == body, "the bytes read ahead were lost or doubled")
                self.assertEqual(rf.read(), b"")

    def test_socket_makefile_count_inside_the_buffer(self):
        a, b = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, a, b, dw, dr)
        a.sendall(b"line\n" + b"0123456789" * 10)
        rf = b.makefile("rb")
        self.addCleanup(rf.close)
        self.assertEqual(rf.readline(), b"line\n")
        self.assertEqual(zcopy.copy(src=rf, dst=dw, count=15), 15)  # all from Python's buffer
        self.assertEqual(read_n(dr, 15), b"012345678901234")
        self.assertEqual(rf.read(5), b"56789")
        a.sendall(b"tail")
        a.shutdown(socket.SHUT_WR)
        self.assertEqual(zcopy.splice(src=rf, dst=dw), 80 + 4)
        dw.shutdown(socket.SHUT_WR)
        self.assertEqual(read_all(dr), (b"0123456789" * 8) + b"tail")

    def test_pipe_reader(self):
        r, w = os.pipe()
        f = os.fdopen(r, "rb")
        self.addCleanup(f.close)
        os.write(w, b"abcdefghij" * 100)
        os.close(w)
        self.assertEqual(f.read(3), b"abc")
        dst, path = temp_file(self, mode="wb", buffering=0)
        self.assertEqual(zcopy.copy(src=f, dst=dst), 997)
        with open(path, "rb") as g:
            self.assertEqual(g.read(), (b"abcdefghij" * 100)[3:])

    def test_named_temporary_file(self):
        payload = data(40000, seed=47)
        with tempfile.NamedTemporaryFile() as t:
            t.write(payload)
            t.seek(0)
            t.read(7)
            dst, path = temp_file(self, mode="wb", buffering=0)
            self.assertEqual(zcopy.copy(src=t, dst=dst), len(payload) - 7)
            self.assertEqual(t.tell(), len(payload))
        with open(path, "rb") as g:
            self.assertTrue(g.read() == payload[7:])

    def test_sendfile_offset_leaves_the_object_alone(self):
        payload = data(20000, seed=48)
        src, _ = temp_file(self, payload, mode="rb")
        src.read(10)
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        self.assertEqual(zcopy.sendfile(src=src, dst=dw, count=100, offset=5000), 100)
        self.assertEqual(read_n(dr, 100), payload[5000:5100])
        self.assertEqual(src.tell(), 10)
        self.assertEqual(src.read(10), payload[10:20])


class SplicerInitFailure(unittest.TestCase):
    def test_del_after_failed_init_is_quiet(self):
        class NoSplicer:
            def __getattr__(self, name):
                return getattr(zcopy._lib, name)

            @staticmethod
            def zcopy_splicer_new():
                return None  # the C call's NULL

        seen = []
        old_hook, old_lib = sys.unraisablehook, pump_mod._lib
        sys.unraisablehook = seen.append
        pump_mod._lib = NoSplicer()
        try:
            with self.assertRaises(OSError):
                aio.Splicer()
            gc.collect()
        finally:
            pump_mod._lib = old_lib
            sys.unraisablehook = old_hook
        self.assertEqual([str(u.exc_value) for u in seen], [])


if __name__ == "__main__":
    unittest.main()
