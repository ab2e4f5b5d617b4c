"""timeout=, cancel= and Ctrl-C on the blocking calls (splice, sendfile, copy_file_range, copy)."""

import errno
import json
import os
import socket
import time
import unittest

import zcopy
from _util import TESTS_DIR, Bg, close_all, data, read_n, run_python, tcp_pair, temp_file


def thread_cpu():
    return time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID)


def catch(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except BaseException as e:
        return e


class Timeouts(unittest.TestCase):
    def test_idle_timeout_every_call(self):
        for name in ("copy", "splice"):
            with self.subTest(call=name):
                sw, sr = tcp_pair()
                dw, dr = tcp_pair()
                close_all(self, sw, sr, dw, dr)
                sw.sendall(b"x" * 1000)  # moves, then nothing more comes
                t0, c0 = time.monotonic(), thread_cpu()
                with self.assertRaises(TimeoutError) as cm:
                    getattr(zcopy, name)(src=sr, dst=dw, timeout=0.3)
                took, used = time.monotonic() - t0, thread_cpu() - c0
                self.assertIsInstance(cm.exception, zcopy.Error)
                self.assertEqual(cm.exception.written, 1000)
                self.assertEqual(cm.exception.errno, errno.ETIMEDOUT)
                self.assertGreaterEqual(took, 0.3)
                self.assertLess(took, 2.0)
                self.assertLess(used, 0.05, "the wait cost CPU")
                self.assertEqual(read_n(dr, 1000), b"x" * 1000)

    def test_trickle_never_trips_it_non_blocking_and_to_a_file(self):
        sw, sr = tcp_pair()
        close_all(self, sw, sr)
        sr.setblocking(False)  # settimeout(0): no timeout of its own, zcopy waits
        dst, path = temp_file(self, mode="wb", buffering=0)

        def trickle():
            for _ in range(8):  # 1.2 s in all, a byte every 0.15 s
                time.sleep(0.15)
                sw.sendall(b"t")
            sw.shutdown(socket.SHUT_WR)

        w = Bg(trickle)
        self.assertEqual(zcopy.copy(src=sr, dst=dst, timeout=0.5), 8)  # socket -> file
        w.result()
        with open(path, "rb") as g:
            self.assertEqual(g.read(), b"t" * 8)
        sw2, sr2 = tcp_pair()
        close_all(self, sw2, sr2)
        sr2.setblocking(False)
        with self.assertRaises(TimeoutError):
            zcopy.copy(src=sr2, dst=dst, timeout=0.3)

    def test_sendfile_to_a_reader_that_stopped(self):
        f, _ = temp_file(self, data(16 << 20, seed=91), mode="rb", buffering=0)
        dw, dr = tcp_pair()
        close_all(self, dw, dr)
        with self.assertRaises(TimeoutError) as cm:
            zcopy.sendfile(src=f, dst=dw, timeout=0.3)  # nobody reads dr
        self.assertGreater(cm.exception.written, 0)
        self.assertLess(cm.exception.written, 16 << 20)

    def test_socket_settimeout_applies(self):
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        sr.settimeout(0.3)  # as for sr.recv: the call gives up after 0.3 s idle
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            zcopy.copy(src=sr, dst=dw)
        self.assertLess(time.monotonic() - t0, 2.0)
        # an explicit timeout= wins over the socket's
        sr.settimeout(30)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            zcopy.splice(src=sr, dst=dw, timeout=0.2)
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_bad_arguments(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        for bad in (0, -1, float("nan")):
            with self.assertRaises(ValueError):
                zcopy.copy(src=b, dst=a, timeout=bad)
        with self.assertRaises(TypeError):
            zcopy.copy(src=b, dst=a, timeout="1")
        with self.assertRaises(TypeError):
            zcopy.copy(src=b, dst=a, cancel=a)
        f, _ = temp_file(self, b"x", mode="rb", buffering=0)
        with self.assertRaises(ValueError):
            zcopy.sendfile(src=f, dst=a, offset=0, timeout=-1)


class Cancel(unittest.TestCase):
    def test_one_token_cancels_eight_calls(self):
        token = zcopy.CancelToken()
        self.addCleanup(token.close)
        calls = []
        for i in range(8):
            sw, sr = tcp_pair()
            dw, dr = tcp_pair()
            close_all(self, sw, sr, dw, dr)
            sw.sendall(b"y" * (i + 1))
            fn = zcopy.copy if i % 2 else zcopy.splice
            calls.append((Bg(lambda fn=fn, dw=dw, sr=sr: catch(fn, src=sr, dst=dw, cancel=token)), i + 1))
        time.sleep(0.3)
        t0 = time.monotonic()
        token.cancel()
        for bg, sent in calls:
            e = bg.result()
            self.assertIsInstance(e, zcopy.Cancelled)
            self.assertEqual(e.errno, errno.ECANCELED)
            self.assertEqual(e.written, sent)
        self.assertLess(time.monotonic() - t0, 1.0)

    def test_a_cancelled_token_moves_nothing(self):
        with zcopy.CancelToken() as token:
            token.cancel()
            src, _ = temp_file(self, b"never copied", mode="rb", buffering=0)
            dst, path = temp_file(self, mode="wb", buffering=0)
            for fn in (zcopy.copy, zcopy.copy_file_range, zcopy.sendfile):
                with self.subTest(call=fn.__name__):
                    with self.assertRaises(zcopy.Cancelled) as cm:
                        fn(src=src, dst=dst, cancel=token)
                    self.assertEqual(cm.exception.written, 0)
            self.assertEqual(os.path.getsize(path), 0)
            self.assertEqual(src.tell(), 0)


CTRL_C = r"""
import json, os, signal, socket, sys, threading, time
sys.path.insert(0, %(tests)r)
import zcopy
from _util import tcp_pair, read_all, data, write_then_close

out = {}
def interrupt_after(delay):
    def go():
        time.sleep(delay)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=go, daemon=True).start()

# 1. waiting for src's data
sent = []
sw, sr = tcp_pair(); dw, dr = tcp_pair()
interrupt_after(0.3)
try:
    zcopy.splice(src=sr, dst=dw)
    out["waiting_for_data"] = "returned"
except KeyboardInterrupt:
    out["waiting_for_data"] = time.monotonic() - sent[0]

# 2. waiting for dst's room, bytes in flight (nobody reads dr)
sent = []
sw, sr = tcp_pair(); dw, dr = tcp_pair()
threading.Thread(target=lambda: sw.sendall(data(32 << 20)), daemon=True).start()
interrupt_after(0.3)
try:
    zcopy.copy(src=sr, dst=dw)
    out["waiting_for_room"] = "returned"
except KeyboardInterrupt:
    out["waiting_for_room"] = time.monotonic() - sent[0]

# 3. a handler that does not raise, every 3 ms during 48 MiB to a slow reader: all arrives, once
sw, sr = tcp_pair(); dw, dr = tcp_pair()
hits = [0]
signal.signal(signal.SIGALRM, lambda *a: hits.__setitem__(0, hits[0] + 1))
payload = data(48 << 20, seed=93)
got = {}
def slow_read():
    buf = bytearray()
    while True:
        chunk = dr.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
        time.sleep(0.0005)
    got["all"] = bytes(buf)
readers = [threading.Thread(target=write_then_close, args=(sw, payload, 1 << 16)),
           threading.Thread(target=slow_read)]
for t in readers: t.start()
signal.setitimer(signal.ITIMER_REAL, 0.003, 0.003)
n = zcopy.splice(src=sr, dst=dw)
signal.setitimer(signal.ITIMER_REAL, 0)
dw.shutdown(socket.SHUT_WR)
for t in readers: t.join(60)
out["n"] = n
out["intact"] = got.get("all") == payload
out["hits"] = hits[0]
print(json.dumps(out))
"""


BUSY = r"""
import json, os, signal, sys, tempfile, time
sys.path.insert(0, %(tests)r)
import zcopy, zcopy._transfer
zcopy._transfer.CHUNK = 1 << 20
fd, path = tempfile.mkstemp()
os.ftruncate(fd, 64 << 30)  # 64 GiB of holes: read as zeros, fast, and far too long to finish
os.close(fd)
class Stop(Exception):
    pass
def stop(*a):
    raise Stop()
signal.signal(signal.SIGALRM, stop)
signal.setitimer(signal.ITIMER_REAL, 0.2)
t0 = time.monotonic()
try:
    with open(path, "rb", buffering=0) as src, open("/dev/null", "wb", buffering=0) as null:
        zcopy.copy(src=src, dst=null)
    out = {"stopped": None}
except Stop:
    out = {"stopped": time.monotonic() - t0 - 0.2}
os.unlink(path)
print(json.dumps(out))
"""


class CtrlC(unittest.TestCase):
    def test_a_raising_handler_stops_a_busy_copy(self):
        p = run_python(BUSY % {"tests": str(TESTS_DIR)}, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertIsInstance(out["stopped"], float, out)
        self.assertLess(out["stopped"], 0.1, f"the handler's exception came late: {out}")

    def test_chunks_end_at_the_end_of_the_file(self):
        import zcopy._transfer as transfer
        old = transfer.CHUNK
        transfer.CHUNK = 4096
        self.addCleanup(setattr, transfer, "CHUNK", old)
        payload = data(25 * 4096, seed=94)  # a whole number of chunks
        for fn in (zcopy.copy, zcopy.copy_file_range, zcopy.sendfile):
            with self.subTest(call=fn.__name__):
                src, _ = temp_file(self, payload, mode="rb", buffering=0)
                dst, path = temp_file(self, mode="wb", buffering=0)
                self.assertEqual(fn(src=src, dst=dst), len(payload))
                if fn is zcopy.copy_file_range:
                    with self.assertRaises(zcopy.NotHandled):  # at EOF, as without chunks
                        fn(src=src, dst=dst)
                else:
                    self.assertEqual(fn(src=src, dst=dst), 0)
                with open(path, "rb") as g:
                    self.assertTrue(g.read() == payload)
        sw, sr = tcp_pair()
        dw, dr = tcp_pair()
        close_all(self, sw, sr, dw, dr)
        sw.sendall(payload[:10000])
        self.assertEqual(zcopy.splice(src=sr, dst=dw, count=10000), 10000)
        self.assertEqual(read_n(dr, 10000), payload[:10000])

    def test_sigint_interrupts_and_a_quiet_handler_does_not(self):
        p = run_python(CTRL_C % {"tests": str(TESTS_DIR)}, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        for case in ("waiting_for_data", "waiting_for_room"):
            self.assertIsInstance(out[case], float, out)
            self.assertLess(out[case], 0.1, f"Ctrl-C {case} took longer than 100 ms: {out}")
        self.assertEqual(out["n"], 48 << 20)
        self.assertTrue(out["intact"], "bytes lost or repeated across EINTR returns")
        self.assertGreater(out["hits"], 10, "the handler hardly ran: the test proved nothing")


if __name__ == "__main__":
    unittest.main()
