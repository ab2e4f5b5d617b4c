"""zcopy.relay: both directions of one pair in the calling thread (zcopy.Engine: test_engine.py)."""

import json
import socket
import struct
import time
import unittest

import zcopy
from _util import TESTS_DIR, Bg, close_all, data, read_all, run_python, tcp_pair, unix_pair, write_then_close


def thread_cpu():
    return time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID)


class Relay(unittest.TestCase):
    def proxy_pairs(self, make_a=tcp_pair, make_b=tcp_pair):
        client, pa = make_a()
        pb, server = make_b()
        close_all(self, client, pa, pb, server)
        return client, pa, pb, server

    def test_both_ways_and_the_answer_after_a_half_close(self):
        for make_a, make_b in ((tcp_pair, tcp_pair), (unix_pair, tcp_pair)):
            with self.subTest(a=make_a.__name__, b=make_b.__name__):
                client, pa, pb, server = self.proxy_pairs(make_a, make_b)
                up, down = data(4 << 20, seed=71), data(3 << 20, seed=72)
                r = Bg(zcopy.relay, pa, pb)
                cw = Bg(write_then_close, client, up, 100_000)
                got_up = read_all(server)  # the server answers only after the client's EOF
                cw.result()
                sw = Bg(write_then_close, server, down, 77_777)
                got_down = read_all(client)
                sw.result()
                self.assertEqual(r.result(), (len(up), len(down)))
                self.assertTrue(got_up == up and got_down == down, "bytes differ")

    def test_close_both(self):
        client, pa, pb, server = self.proxy_pairs()
        r = Bg(lambda: zcopy.relay(pa, pb, close_both=True))
        write_then_close(client, b"only this")
        self.assertEqual(r.result(), (9, 0))
        self.assertEqual(read_all(server), b"only this")
        self.assertEqual(read_all(client), b"")  # the relay shut down a's write side too

    def test_idle_timeout_and_socket_timeout(self):
        client, pa, pb, server = self.proxy_pairs()
        client.sendall(b"12345")
        t0, c0 = time.monotonic(), thread_cpu()
        with self.assertRaises(TimeoutError) as cm:
            zcopy.relay(pa, pb, timeout=0.3)
        took, used = time.monotonic() - t0, thread_cpu() - c0
        e = cm.exception
        self.assertIsInstance(e, zcopy.Error)
        self.assertEqual((e.a_to_b, e.b_to_a, e.written), (5, 0, 5))
        self.assertGreaterEqual(took, 0.3)
        self.assertLess(took, 2.0)
        self.assertLess(used, 0.05, "the wait cost CPU")
        # no timeout= given: the socket's own settimeout applies, as for recv
        pa.settimeout(0.2)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            zcopy.relay(pa, pb)
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_cancel_from_another_thread(self):
        client, pa, pb, server = self.proxy_pairs()
        client2, pa2, pb2, server2 = self.proxy_pairs()
        with zcopy.CancelToken() as token:
            relays = [Bg(lambda: _catch(zcopy.relay, pa, pb, cancel=token)),
                      Bg(lambda: _catch(zcopy.relay, pa2, pb2, cancel=token))]
            time.sleep(0.2)
            t0 = time.monotonic()
            token.cancel()
            errors = [r.result() for r in relays]
            took = time.monotonic() - t0
        for e in errors:
            self.assertIsInstance(e, zcopy.Cancelled)
            self.assertIsInstance(e, OSError)
            self.assertEqual(e.errno, 125)  # ECANCELED
        self.assertLess(took, 1.0)

    def test_reset_names_the_side(self):
        client, pa, pb, server = self.proxy_pairs()
        r = Bg(_catch, zcopy.relay, pa, pb)
        client.sendall(b"x" * 1000)
        time.sleep(0.1)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()
        e = r.result()
        self.assertIsInstance(e, (ConnectionResetError, BrokenPipeError))
        self.assertEqual(e.side, "b")
        self.assertEqual(e.a_to_b, 1000)

    def test_refuses_what_it_must_not_move(self):
        a, b = tcp_pair()
        close_all(self, a, b)
        with self.assertRaises(ValueError):
            zcopy.relay(a, b, timeout=0)
        with self.assertRaises(TypeError):
            zcopy.relay(a, b, cancel=object())
        rf = b.makefile("rb")
        self.addCleanup(rf.close)
        a.sendall(b"line\nrest")
        rf.readline()
        with self.assertRaises(TypeError):
            zcopy.relay(rf, a)


def _catch(fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except BaseException as e:
        return e


SIGNALS = r"""
import json, os, signal, socket, sys, threading, time
sys.path.insert(0, %(tests)r)
import zcopy
from _util import tcp_pair, read_all, data, write_then_close

out = {}
# 1. SIGINT while the relay waits for data: KeyboardInterrupt within 100 ms
client, pa = tcp_pair(); pb, server = tcp_pair()
sent = []
def interrupt():
    time.sleep(0.3)
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
try:
    zcopy.relay(pa, pb)
    out["sigint"] = "returned"
except KeyboardInterrupt:
    out["sigint"] = time.monotonic() - sent[0]

# 2. a handler that does not raise, every 3 ms during 16 MiB each way: the relay goes on, every byte intact
client, pa = tcp_pair(); pb, server = tcp_pair()
hits = [0]
signal.signal(signal.SIGALRM, lambda *a: hits.__setitem__(0, hits[0] + 1))
signal.setitimer(signal.ITIMER_REAL, 0.003, 0.003)
up, down = data(16 << 20, seed=81), data(16 << 20, seed=82)
got = {}
def slow_read(name, sock):
    # slow readers keep the relay waiting for room, so the signals land in its waits
    buf = bytearray()
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
        time.sleep(0.001)
    got[name] = bytes(buf)
ts = [threading.Thread(target=write_then_close, args=(client, up, 65536)),
      threading.Thread(target=write_then_close, args=(server, down, 65536)),
      threading.Thread(target=slow_read, args=("up", server)),
      threading.Thread(target=slow_read, args=("down", client))]
for t in ts: t.start()
counts = zcopy.relay(pa, pb)
signal.setitimer(signal.ITIMER_REAL, 0)
for t in ts: t.join(30)
out["counts"] = counts
out["intact"] = got.get("up") == up and got.get("down") == down
out["hits"] = hits[0]
print(json.dumps(out))
"""


class Signals(unittest.TestCase):
    def test_ctrl_c_and_a_handler_that_does_not_raise(self):
        p = run_python(SIGNALS % {"tests": str(TESTS_DIR)}, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertIsInstance(out["sigint"], float, out)
        self.assertLess(out["sigint"], 0.1, f"Ctrl-C took longer than 100 ms: {out}")
        self.assertEqual(out["counts"], [16 << 20, 16 << 20])
        self.assertTrue(out["intact"], "bytes lost or repeated across EINTR returns")
        self.assertGreater(out["hits"], 10, "the signal handler hardly ran: the test proved nothing")


if __name__ == "__main__":
    unittest.main()
