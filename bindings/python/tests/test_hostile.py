"""Relays and engines under hostile use, from Python (issue 24).

- Timeouts too large for the C options' int64 milliseconds mean "never":
  not a short timeout (ctypes would keep the low 64 bits: 1.8e16 s became
  4.1 s) and not EINVAL (a wrapped negative).
- Ctrl-C (KeyboardInterrupt from a signal handler) out of zcopy.relay or
  zcopy.splice with bytes in flight leaves no pipe and no fd behind.
- An Engine in a forked child (os.fork, multiprocessing's fork start
  method) while a parent thread adds relays: relay() raises ESTALE with a
  clear message, exit never hangs, nothing is printed.
- A reset of the client ends a relay at once while the upstream stalls;
  a datagram socket is refused.

Every wait is bounded.
"""

import errno
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import unittest

import zcopy
from zcopy._control import INT64_MAX, timeout_ms

from _util import Bg, tcp_pair, unix_pair

HUGE = (1.8446744073709556e16, 1e16, 9.3e15, 1e300, sys.float_info.max)


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def fill(sock, seconds=0.3):
    """Writes to sock (non-blocking) until it takes nothing for `seconds`."""
    sock.setblocking(False)
    chunk = b"x" * 65536
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < seconds:
        try:
            sock.send(chunk)
            idle_since = time.monotonic()
        except BlockingIOError:
            time.sleep(0.005)


class Timeouts(unittest.TestCase):
    def test_timeout_ms_rounds_up_and_clamps(self):
        self.assertEqual(timeout_ms(0.0001), 1)
        self.assertEqual(timeout_ms(1.5), 1500)
        self.assertEqual(timeout_ms(9.2e15), 9_200_000_000_000_000_000)
        for t in HUGE:
            self.assertEqual(timeout_ms(t), INT64_MAX, t)

    def _relay_until_cancelled(self, start):
        a, c = unix_pair()
        b, s = unix_pair()
        try:
            token = zcopy.CancelToken()
            bg = start(a, b, token)
            c.sendall(b"hello")
            self.assertEqual(s.recv(5), b"hello")
            time.sleep(0.3)  # a wrapped timeout of a few ms would end it here
            token.cancel()
            t0 = time.monotonic()
            with self.assertRaises(zcopy.Cancelled) as cm:
                bg()
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual(cm.exception.a_to_b, 5)
        finally:
            for x in (a, b, c, s):
                x.close()

    def test_relay_with_huge_timeouts_runs_until_cancelled(self):
        for t in HUGE:
            with self.subTest(timeout=t):
                def start(a, b, token, t=t):
                    job = Bg(lambda: zcopy.relay(a, b, timeout=t, cancel=token))
                    return lambda: job.result(10)
                self._relay_until_cancelled(start)

    def test_engine_relay_with_huge_timeouts_runs_until_cancelled(self):
        with zcopy.Engine(1) as engine:
            for t in HUGE:
                with self.subTest(timeout=t):
                    def start(a, b, token, t=t):
                        fut = engine.relay(a, b, timeout=t, cancel=token)
                        return lambda: fut.result(10)
                    self._relay_until_cancelled(start)


class CtrlC(unittest.TestCase):
    """KeyboardInterrupt with bytes in flight: no pipe, no fd stays."""

    def setUp(self):
        self.old = signal.signal(signal.SIGALRM, self._raise)

    def tearDown(self):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def _interrupted(self, call, make):
        zcopy.pool_drain()
        before = fd_count()
        socks = make()
        feeder = Bg(fill, socks[0], 1.0)
        signal.setitimer(signal.ITIMER_REAL, 0.4)
        with self.assertRaises(KeyboardInterrupt):
            call(socks)
        signal.setitimer(signal.ITIMER_REAL, 0)
        feeder.result()
        for x in socks:
            x.close()
        zcopy.pool_drain()
        self.assertEqual(fd_count(), before, "an fd (a kept pipe) stayed behind")

    def test_ctrl_c_out_of_relay(self):
        for pair in (unix_pair, tcp_pair):
            with self.subTest(pair=pair.__name__):
                def make():
                    c, a = pair()
                    b, s = pair()
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    return c, a, b, s  # s never reads: the relay holds bytes for it
                self._interrupted(lambda x: zcopy.relay(x[1], x[2], timeout=20), make)

    def test_ctrl_c_out_of_splice(self):
        for pair in (unix_pair, tcp_pair):
            with self.subTest(pair=pair.__name__):
                def make():
                    c, a = pair()
                    b, s = pair()
                    return c, a, b, s
                self._interrupted(lambda x: zcopy.splice(dst=x[2], src=x[1], count=1 << 30, timeout=20),
                                  make)


class Resets(unittest.TestCase):
    def test_client_reset_ends_relay_while_upstream_stalls(self):
        c, a = tcp_pair()
        b, s = tcp_pair()
        try:
            job = Bg(lambda: zcopy.relay(a, b, timeout=10))
            fill(c)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            t0 = time.monotonic()
            with self.assertRaises(ConnectionResetError) as cm:
                job.result(20)
            self.assertLess(time.monotonic() - t0, 2.0)
            self.assertEqual(cm.exception.side, "a")
        finally:
            for x in (a, b, s):
                x.close()

    def test_datagram_sockets_are_refused(self):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
            d1, d2 = socket.socketpair(socket.AF_UNIX, kind)
            s1, s2 = unix_pair()
            try:
                with self.assertRaises(zcopy.Error) as cm:
                    zcopy.relay(d1, s1, timeout=5)
                self.assertEqual(cm.exception.errno, errno.EINVAL)
                with zcopy.Engine(1) as e, self.assertRaises(zcopy.Error) as cm:
                    e.relay(d1, s1)
                self.assertEqual(cm.exception.errno, errno.EINVAL)
            finally:
                for x in (d1, d2, s1, s2):
                    x.close()

    def test_one_connection_is_not_relayed_twice(self):
        c, a = unix_pair()
        b, s = unix_pair()
        x, y = unix_pair()
        dup = socket.socket(fileno=os.dup(a.fileno()))
        try:
            with self.assertRaises(zcopy.Error) as cm:
                zcopy.relay(a, dup, timeout=5)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            with zcopy.Engine(1) as e:
                fut = e.relay(a, b)
                with self.assertRaises(zcopy.Error) as cm:
                    e.relay(dup, x)
                self.assertEqual(cm.exception.errno, errno.EEXIST)
                with self.assertRaises(zcopy.Error) as cm:
                    e.relay(b, a)
                self.assertEqual(cm.exception.errno, errno.EEXIST)
                c.sendall(b"ping")
                self.assertEqual(s.recv(4), b"ping")  # the first relay is untouched
                c.shutdown(socket.SHUT_WR)
                s.shutdown(socket.SHUT_WR)
                self.assertEqual(fut.result(10), (4, 0))
        finally:
            for z in (a, b, c, s, x, y, dup):
                z.close()


def _child_uses_inherited(engine, q):
    a, b = socket.socketpair()
    try:
        engine.relay(a, b)
        q.put("no error")
    except zcopy.Error as e:
        q.put((e.errno, str(e)))
    finally:
        a.close()
        b.close()


class Fork(unittest.TestCase):
    """An Engine across fork while a parent thread keeps adding relays."""

    def setUp(self):
        self.engine = zcopy.Engine(2)
        self.stop = threading.Event()
        self.adder = threading.Thread(target=self._add_loop, daemon=True)
        self.adder.start()

    def tearDown(self):
        self.stop.set()
        self.adder.join(30)
        self.engine.close()

    def _add_loop(self):
        while not self.stop.is_set():
            c, a = socket.socketpair()
            b, s = socket.socketpair()
            try:
                fut = self.engine.relay(a, b)
                c.shutdown(socket.SHUT_WR)
                s.shutdown(socket.SHUT_WR)
                fut.result(10)
            finally:
                for x in (c, a, b, s):
                    x.close()

    def test_os_fork_child_exits_cleanly(self):
        for _ in range(12):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: its stderr goes to the pipe; the exit handlers run as at exit
                os.close(r)
                os.dup2(w, 2)
                code = 3
                a, b = socket.socketpair()
                try:
                    self.engine.relay(a, b)
                except zcopy.Error as e:
                    code = 0 if e.errno == errno.ESTALE and "fork" in str(e) else 4
                a.close()
                b.close()
                # zcopy's exit handler, as interpreter exit runs it: it
                # closes every engine (here: the inherited one); other
                # libraries' handlers are not zcopy's to test
                zcopy._relay._close_engines()
                sys.stderr.flush()
                os._exit(code)
            os.close(w)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.01)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.fail("a forked child hung at exit")
            with os.fdopen(r, "rb") as f:
                err = f.read()
            self.assertEqual(os.waitstatus_to_exitcode(status), 0)
            self.assertEqual(err, b"", "the child printed something")

    def test_multiprocessing_fork_children(self):
        ctx = multiprocessing.get_context("fork")
        for _ in range(6):
            q = ctx.Queue()
            p = ctx.Process(target=_child_uses_inherited, args=(self.engine, q))
            p.start()
            got = q.get(timeout=20)
            p.join(20)
            self.assertFalse(p.is_alive(), "a multiprocessing child hung")
            self.assertEqual(p.exitcode, 0)
            self.assertEqual(got[0], errno.ESTALE, got)
        # the parent's engine still works
        c, a = socket.socketpair()
        b, s = socket.socketpair()
        fut = self.engine.relay(a, b)
        c.sendall(b"still")
        self.assertEqual(s.recv(5), b"still")
        c.shutdown(socket.SHUT_WR)
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(fut.result(10), (5, 0))
        for x in (c, a, b, s):
            x.close()


if __name__ == "__main__":
    unittest.main()
