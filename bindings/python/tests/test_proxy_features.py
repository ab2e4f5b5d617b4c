"""What proxy and server authors ask for, from Python (issue 23).

Prefix bytes first (zcopy.relay and Engine.relay with a_to_b= / b_to_a=),
relays by handle (RelayFuture.counts() live, .cancel()), per-relay rate
limits, the kill switch (zcopy.disable / disabled) and reflink control
(zcopy.clone, copyfile(reflink=...)). Every wait is bounded.
"""

import errno
import os
import socket
import tempfile
import time
import unittest

import zcopy

from _util import Bg, data, unix_pair


class Prefix(unittest.TestCase):
    def _check(self, start):
        c, a = unix_pair()
        b, s = unix_pair()
        try:
            finish = start(a, b)
            c.sendall(b"body")
            s.sendall(b"reply")
            c.shutdown(socket.SHUT_WR)
            s.shutdown(socket.SHUT_WR)
            got_s = b"".join(iter(lambda: s.recv(65536), b""))
            got_c = b"".join(iter(lambda: c.recv(65536), b""))
            self.assertEqual(got_s, b"CONNECT x\r\n" + b"body")
            self.assertEqual(got_c, b"HTTP/1.1 200\r\n" + b"reply")
            self.assertEqual(finish(), (15, 19))
        finally:
            for x in (a, b, c, s):
                x.close()

    def test_relay_prefix_goes_first_each_way(self):
        def start(a, b):
            job = Bg(lambda: zcopy.relay(a, b, a_to_b=b"CONNECT x\r\n", b_to_a=b"HTTP/1.1 200\r\n", timeout=10))
            return lambda: job.result(10)
        self._check(start)

    def test_engine_prefix_goes_first_each_way(self):
        with zcopy.Engine(1) as e:
            def start(a, b):
                fut = e.relay(a, b, a_to_b=bytearray(b"CONNECT x\r\n"), b_to_a=b"HTTP/1.1 200\r\n")
                return lambda: fut.result(10)
            self._check(start)

    def test_prefix_must_be_bytes(self):
        a, b = unix_pair()
        try:
            with self.assertRaises(TypeError):
                zcopy.relay(a, b, a_to_b="text")
        finally:
            a.close()
            b.close()


class Handles(unittest.TestCase):
    def test_counts_live_and_cancel(self):
        with zcopy.Engine(2) as e:
            c, a = unix_pair()
            b, s = unix_pair()
            try:
                fut = e.add(a, b)
                self.assertIsInstance(fut, zcopy.RelayFuture)
                self.assertGreaterEqual(fut.id, 1)
                c.sendall(data(5000))
                self.assertEqual(len(b"".join(s.recv(5000) for _ in range(1))) > 0, True)
                deadline = time.monotonic() + 5
                while fut.counts() != (5000, 0) and time.monotonic() < deadline:
                    time.sleep(0.005)
                self.assertEqual(fut.counts(), (5000, 0))
                t0 = time.monotonic()
                self.assertTrue(fut.cancel())
                with self.assertRaises(zcopy.Cancelled) as cm:
                    fut.result(5)
                self.assertLess(time.monotonic() - t0, 1.0)
                self.assertEqual((cm.exception.a_to_b, cm.exception.b_to_a), (5000, 0))
                self.assertFalse(fut.cancel())
                self.assertEqual(fut.counts(), (5000, 0))
            finally:
                for x in (a, b, c, s):
                    x.close()

    def test_rate_limit(self):
        rate = 200_000
        with zcopy.Engine(1) as e:
            c, a = unix_pair()
            b, s = unix_pair()
            try:
                fut = e.add(a, b, rate=(rate, 0))
                writer = Bg(c.sendall, b"x" * 2_000_000)
                got = 0
                s.settimeout(5)
                t0 = time.monotonic()
                while time.monotonic() - t0 < 2.0:
                    got += len(s.recv(65536))
                el = time.monotonic() - t0
                measured = got / el
                # the first burst (1/20 s) comes at once; the rest at the rate
                self.assertLess(abs(measured - rate), rate * 0.15, f"{measured:.0f} B/s")
                fut.cancel()
                with self.assertRaises(zcopy.Cancelled):
                    fut.result(5)
                c.shutdown(socket.SHUT_RDWR)  # wakes the writer (EPIPE)
                with self.assertRaises(OSError):
                    writer.result(5)
            finally:
                for x in (a, b, c, s):
                    x.close()

    def test_bad_rates(self):
        a, b = unix_pair()
        try:
            with self.assertRaises(ValueError):
                zcopy.relay(a, b, rate=(-1, 0))
            with self.assertRaises(TypeError):
                zcopy.relay(a, b, rate=5)
        finally:
            a.close()
            b.close()


class KillSwitch(unittest.TestCase):
    def tearDown(self):
        zcopy.disable()

    def test_disable_replaces_the_set_and_calls_take_the_next_path(self):
        self.assertEqual(zcopy.disable("splice", "sendfile"), frozenset({"splice", "sendfile"}))
        self.assertEqual(zcopy.disabled(), frozenset({"splice", "sendfile"}))
        with self.assertRaises(ValueError):
            zcopy.disable("nosuch")
        self.assertEqual(zcopy.disabled(), frozenset({"splice", "sendfile"}))
        a, b = unix_pair()
        c, d = unix_pair()
        try:
            payload = data(300_000)
            w = Bg(a.sendall, payload)
            a_done = Bg(lambda: (w.result(), a.shutdown(socket.SHUT_WR)))
            r = Bg(lambda: b"".join(iter(lambda: d.recv(65536), b"")))
            n = zcopy.copy(src=b, dst=c)
            c.shutdown(socket.SHUT_WR)
            a_done.result()
            self.assertEqual(n, len(payload))
            self.assertEqual(r.result(), payload)
        finally:
            for x in (a, b, c, d):
                x.close()
        self.assertEqual(zcopy.disable(), frozenset())


class Reflink(unittest.TestCase):
    def test_copyfile_reflink_modes_on_this_filesystem(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "src")
            payload = data(200_000)
            with open(src, "wb") as f:
                f.write(payload)
            for mode in ("auto", "never"):
                dst = os.path.join(d, mode)
                self.assertEqual(zcopy.copyfile(src, dst, reflink=mode), dst)
                with open(dst, "rb") as f:
                    self.assertEqual(f.read(), payload, mode)
            dst = os.path.join(d, "always")
            try:
                zcopy.copyfile(src, dst, reflink="always")
            except OSError as e:
                # ext4, tmpfs, overlay: no clone; nothing partial is left
                self.assertIn(e.errno, (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL))
                self.assertEqual(os.path.getsize(dst), 0)
            else:
                with open(dst, "rb") as f:
                    self.assertEqual(f.read(), payload)
            with self.assertRaises(ValueError):
                zcopy.copyfile(src, dst, reflink="sometimes")

    def test_clone_refuses_what_is_not_two_files(self):
        a, b = unix_pair()
        try:
            with self.assertRaises(OSError) as cm:
                zcopy.clone(src=a, dst=b)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        finally:
            a.close()
            b.close()


if __name__ == "__main__":
    unittest.main()
