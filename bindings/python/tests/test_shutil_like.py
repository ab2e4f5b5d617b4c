"""zcopy.copyfile and zcopy.copyfileobj behave as shutil's, moving bytes zero-copy where they can."""

import gzip
import io
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import zcopy
from _util import Bg, close_all, data, tcp_pair, temp_file


class CopyFile(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="zcopy-shutil-"))
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_copies_and_returns_dst(self):
        payload = data(3 << 20, seed=51)
        src = self.dir / "src"
        src.write_bytes(payload)
        dst = self.dir / "dst"
        dst.write_bytes(b"x" * (5 << 20))  # longer: must be truncated
        self.assertIs(zcopy.copyfile(src, dst), dst)
        self.assertTrue(dst.read_bytes() == payload)
        as_str = str(self.dir / "dst2")
        self.assertIs(zcopy.copyfile(str(src), as_str), as_str)
        self.assertEqual(os.path.getsize(as_str), len(payload))
        for entry in os.scandir(self.dir):
            if entry.name == "src":
                self.assertEqual(zcopy.copyfile(entry, str(self.dir / "dst3")), str(self.dir / "dst3"))
        self.assertTrue((self.dir / "dst3").read_bytes() == payload)

    def test_empty_and_procfs_sources(self):
        (self.dir / "empty").write_bytes(b"")
        zcopy.copyfile(self.dir / "empty", self.dir / "out")
        self.assertEqual((self.dir / "out").read_bytes(), b"")
        zcopy.copyfile("/proc/self/cmdline", self.dir / "cmdline")
        self.assertGreater(os.path.getsize(self.dir / "cmdline"), 0)

    def test_symlinks(self):
        (self.dir / "target").write_bytes(b"through the link")
        os.symlink(self.dir / "target", self.dir / "link")
        zcopy.copyfile(self.dir / "link", self.dir / "followed")
        self.assertEqual((self.dir / "followed").read_bytes(), b"through the link")
        zcopy.copyfile(self.dir / "link", self.dir / "kept", follow_symlinks=False)
        self.assertTrue(os.path.islink(self.dir / "kept"))
        self.assertEqual(os.readlink(self.dir / "kept"), str(self.dir / "target"))

    def test_same_errors_as_shutil(self):
        d = self.dir
        (d / "file").write_bytes(b"content")
        os.link(d / "file", d / "hardlink")
        os.mkfifo(d / "fifo")
        (d / "subdir").mkdir()
        cases = {
            "same path": (d / "file", d / "file"),
            "hard link": (d / "file", d / "hardlink"),
            "fifo source": (d / "fifo", d / "out1"),
            "fifo destination": (d / "file", d / "fifo"),
            "missing source": (d / "missing", d / "out2"),
            "directory destination": (d / "file", d / "subdir"),
            "directory source": (d / "subdir", d / "out3"),
            "missing destination directory": (d / "file", d / "nope" / "out"),
        }
        for what, (src, dst) in cases.items():
            with self.subTest(case=what):
                with self.assertRaises(OSError) as want:
                    shutil.copyfile(src, dst)
                with self.assertRaises(OSError) as got:
                    zcopy.copyfile(src, dst)
                self.assertIs(type(got.exception), type(want.exception))
                self.assertEqual(str(got.exception), str(want.exception))
        self.assertIsInstance(_raised(zcopy.copyfile, d / "file", d / "file"), shutil.SameFileError)
        self.assertEqual((d / "file").read_bytes(), b"content")


def _raised(fn, *args):
    try:
        fn(*args)
    except BaseException as e:
        return e
    return None


class CopyFileObj(unittest.TestCase):
    def setUp(self):
        real = shutil.copyfileobj
        self.loops = []

        def counting(*a, **kw):
            self.loops.append(a[:2])
            return real(*a, **kw)

        patcher = mock.patch("zcopy._shutil_like._shutil_copyfileobj", counting)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_buffered_files_zero_copy_from_the_position(self):
        payload = data(1 << 20, seed=52)
        src, _ = temp_file(self, payload, mode="rb")
        src.read(100)
        dst, path = temp_file(self, mode="wb")
        dst.write(b"head")
        self.assertIsNone(zcopy.copyfileobj(src, dst))
        self.assertEqual(self.loops, [])  # no Python loop
        self.assertEqual(src.tell(), len(payload))
        dst.close()
        with open(path, "rb") as g:
            self.assertTrue(g.read() == b"head" + payload[100:])

    def test_socket_to_file(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        payload = data(2 << 20, seed=53)
        w = Bg(lambda: (a.sendall(payload), a.shutdown(socket.SHUT_WR)))
        dst, path = temp_file(self, mode="wb")
        with b.makefile("rb") as rf:
            zcopy.copyfileobj(rf, dst)
        w.result()
        dst.close()
        self.assertEqual(self.loops, [])
        with open(path, "rb") as g:
            self.assertTrue(g.read() == payload)

    def test_objects_without_their_fds_bytes_use_shutils_loop(self):
        payload = data(100000, seed=54)
        fd, gz = tempfile.mkstemp(prefix="zcopy-py-")
        os.close(fd)
        self.addCleanup(os.unlink, gz)
        with gzip.open(gz, "wb") as z:
            z.write(payload)
        cases = []
        with gzip.open(gz, "rb") as z:  # compressed source
            out = io.BytesIO()
            zcopy.copyfileobj(z, out, 4096)
            cases.append(("gzip -> BytesIO", out.getvalue() == payload))
        src, _ = temp_file(self, payload, mode="rb")
        out = io.BytesIO()  # in-memory destination
        zcopy.copyfileobj(src, out)
        cases.append(("file -> BytesIO", out.getvalue() == payload))
        text_src, _ = temp_file(self, b"a\r\nb\n", mode="r")
        text_dst, tpath = temp_file(self, mode="w")
        zcopy.copyfileobj(text_src, text_dst)  # text: decoded, newlines translated
        text_dst.close()
        with open(tpath, "rb") as g:
            cases.append(("text -> text", g.read() == b"a\nb\n"))
        for what, ok in cases:
            self.assertTrue(ok, what)
        self.assertEqual(len(self.loops), 3)

    def test_tls_uses_shutils_loop(self):
        cert = make_cert(self)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(cert)
        a, b = tcp_pair()
        close_all(self, a, b)
        payload = data(300000, seed=55)

        def serve():
            with server_ctx.wrap_socket(b, server_side=True) as s:
                got = bytearray()
                while len(got) < len(payload):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                return bytes(got)

        server = Bg(serve)
        with client_ctx.wrap_socket(a, server_hostname="localhost") as tls:
            src, _ = temp_file(self, payload, mode="rb")
            zcopy.copyfileobj(src, tls)
            got = server.result()
        self.assertTrue(got == payload, "the TLS peer did not get the plaintext")
        self.assertEqual(len(self.loops), 1)


def make_cert(testcase):
    """A throwaway self-signed certificate and key for localhost (openssl CLI)."""
    d = tempfile.mkdtemp(prefix="zcopy-tls-")
    testcase.addCleanup(shutil.rmtree, d, True)
    pem = os.path.join(d, "cert.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", pem, "-out", pem + ".crt"], capture_output=True, text=True, timeout=60)
    testcase.assertEqual(p.returncode, 0, f"openssl could not make a test certificate: {p.stderr}")
    with open(pem, "a") as key, open(pem + ".crt") as crt:
        key.write(crt.read())
    return pem


class SwappedIntoShutil(unittest.TestCase):
    """``shutil.copyfileobj = zcopy.copyfileobj``: the fallback is shutil's original, not itself."""

    def test_fallback_after_swap_does_not_recurse(self):
        import io
        with mock.patch("shutil.copyfileobj", zcopy.copyfileobj), \
                mock.patch("shutil.copyfile", zcopy.copyfile):
            src, dst = io.BytesIO(b"in memory" * 1000), io.BytesIO()
            shutil.copyfileobj(src, dst)  # RecursionError when the fallback looked shutil up
            self.assertEqual(dst.getvalue(), b"in memory" * 1000)
            f, path = temp_file(self, b"from a file", mode="rb")
            out = io.BytesIO()
            shutil.copyfileobj(f, out)
            self.assertEqual(out.getvalue(), b"from a file")


if __name__ == "__main__":
    unittest.main()
