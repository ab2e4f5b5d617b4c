"""zcopy.Engine: many relays on the library's own threads, Futures of their results."""

import asyncio
import concurrent.futures
import gc
import inspect
import os
import socket
import time
import unittest
import warnings

import zcopy
from _util import Bg, close_all, data, read_all, tcp_pair, write_then_close


class EngineTests(unittest.TestCase):
    def test_many_relays_results_and_stats(self):
        with zcopy.Engine(threads=2) as engine:
            pairs, futures = [], []
            for i in range(24):
                client, pa = tcp_pair()
                pb, server = tcp_pair()
                close_all(self, client, pa, pb, server)
                pairs.append((client, server, data(200_000, seed=i), data(100_000, seed=100 + i)))
                futures.append(engine.relay(pa, pb))
            workers = []
            for client, server, up, down in pairs:
                workers.append((Bg(write_then_close, client, up, 10_000), Bg(read_all, server),
                                Bg(write_then_close, server, down, 10_000), Bg(read_all, client)))
            for (client, server, up, down), f, (w1, r1, w2, r2) in zip(pairs, futures, workers):
                self.assertEqual(f.result(30), (len(up), len(down)))
                w1.result()
                w2.result()
                self.assertTrue(r1.result() == up and r2.result() == down)
            stats = engine.stats()
            self.assertEqual((stats.active, stats.finished, stats.pipes_in_use), (0, 24, 0))
            self.assertEqual(stats.bytes, 24 * 300_000)

    def test_timeout_cancel_and_close(self):
        with zcopy.Engine(threads=1) as engine:
            c1, a1 = tcp_pair()
            b1, s1 = tcp_pair()
            c2, a2 = tcp_pair()
            b2, s2 = tcp_pair()
            c3, a3 = tcp_pair()
            b3, s3 = tcp_pair()
            close_all(self, c1, a1, b1, s1, c2, a2, b2, s2, c3, a3, b3, s3)
            token = zcopy.CancelToken()
            self.addCleanup(token.close)
            t0 = time.monotonic()
            timed = engine.relay(a1, b1, timeout=0.3)
            cancelled = engine.relay(a2, b2, cancel=token)
            left_running = engine.relay(a3, b3)
            with self.assertRaises(TimeoutError):
                timed.result(10)
            self.assertGreaterEqual(time.monotonic() - t0, 0.3)
            token.cancel()
            with self.assertRaises(zcopy.Cancelled):
                cancelled.result(10)
            self.assertFalse(left_running.done())
        # close() ended the last one
        with self.assertRaises(zcopy.Cancelled):
            left_running.result(10)
        with self.assertRaises(ValueError):
            engine.relay(a3, b3)

    def test_from_asyncio(self):
        async def main():
            with zcopy.Engine(threads=1) as engine:
                client, pa = tcp_pair()
                pb, server = tcp_pair()
                try:
                    f = asyncio.wrap_future(engine.relay(pa, pb, close_both=True))
                    write_then_close(client, b"via the engine")
                    return await asyncio.wait_for(f, 10), read_all(server)
                finally:
                    for s in (client, pa, pb, server):
                        s.close()

        self.assertEqual(asyncio.run(main()), ((14, 0), b"via the engine"))

    def test_signature_and_alias(self):
        # the documented API: Engine(threads=None), engine.relay(a, b, *, timeout, close_both)
        sig = inspect.signature(zcopy.Engine)
        self.assertIsNone(sig.parameters["threads"].default)
        rsig = inspect.signature(zcopy.Engine.relay)
        for name in ("timeout", "close_both"):
            self.assertEqual(rsig.parameters[name].kind, inspect.Parameter.KEYWORD_ONLY)
        self.assertEqual(zcopy.Engine.add, zcopy.Engine.relay)
        for bad in (-1, 1025, 1.5, True, "2"):
            with self.assertRaises(ValueError):
                zcopy.Engine(bad)
        with zcopy.Engine() as engine:  # None: one thread per CPU
            client, pa = tcp_pair()
            pb, server = tcp_pair()
            close_all(self, client, pa, pb, server)
            f = engine.relay(pa, pb, close_both=True)
            self.assertIsInstance(f, concurrent.futures.Future)
            write_then_close(client, b"none")
            self.assertEqual(f.result(10), (4, 0))

    def test_dropped_engine_and_sockets_live_until_the_relay_ends(self):
        def engine_threads():
            # by name: other tests' helper threads may still be exiting
            n = 0
            for tid in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{tid}/comm") as f:
                        n += f.read().startswith("zcopy-engine")
                except OSError:
                    pass  # exited meanwhile
            return n

        tasks_before = engine_threads()

        def start():
            client, pa = tcp_pair()
            pb, server = tcp_pair()
            # neither the engine nor pa/pb is referenced by the caller afterwards
            return client, server, zcopy.Engine(threads=2).relay(pa, pb)

        client, server, f = start()
        close_all(self, client, server)
        gc.collect()
        self.assertEqual(engine_threads(), tasks_before + 2)
        client.sendall(b"ping")
        self.assertEqual(server.recv(10), b"ping")  # pa and pb still open, still relayed
        server.sendall(b"pong!")
        self.assertEqual(client.recv(10), b"pong!")
        client.shutdown(socket.SHUT_WR)
        server.shutdown(socket.SHUT_WR)
        self.assertEqual(f.result(10), (4, 5))
        with warnings.catch_warnings():  # pa and pb were abandoned on purpose
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        # the relay's end dropped the engine's last reference on its own
        # thread: the engine was freed there and its threads exit
        deadline = time.monotonic() + 10
        while engine_threads() > tasks_before and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(engine_threads(), tasks_before, "engine threads left running")

    def test_engine_closed_from_a_future_callback(self):
        engine = zcopy.Engine(threads=1)
        pairs = []
        for _ in range(3):
            client, pa = tcp_pair()
            pb, server = tcp_pair()
            close_all(self, client, pa, pb, server)
            pairs.append((client, server, engine.relay(pa, pb)))
        first = pairs[0][2]
        first.add_done_callback(lambda f: engine.close())  # on the engine's own thread
        pairs[0][0].shutdown(socket.SHUT_WR)
        pairs[0][1].shutdown(socket.SHUT_WR)
        self.assertEqual(first.result(10), (0, 0))
        for _, _, f in pairs[1:]:
            with self.assertRaises(zcopy.Cancelled):
                f.result(10)
        with self.assertRaises(ValueError):
            engine.relay(*pairs[0][:2])

    def test_future_cancel_stops_the_relay_and_a_token_does_too(self):
        # issue 23: the Future is the relay's handle; cancel() ends it (it
        # used to answer False and leave it running).
        with zcopy.Engine(threads=1) as engine, zcopy.CancelToken() as token:
            client, pa = tcp_pair()
            pb, server = tcp_pair()
            c2, pa2 = tcp_pair()
            pb2, s2 = tcp_pair()
            close_all(self, client, pa, pb, server, c2, pa2, pb2, s2)
            f = engine.relay(pa, pb, cancel=token)
            g = engine.relay(pa2, pb2)
            client.sendall(b"still relayed")
            self.assertEqual(server.recv(100), b"still relayed")
            token.cancel()
            e = f.exception(10)
            self.assertIsInstance(e, zcopy.Cancelled)
            self.assertEqual((e.a_to_b, e.b_to_a), (13, 0))
            self.assertFalse(f.cancel())  # already ended
            c2.sendall(b"x")
            self.assertEqual(s2.recv(1), b"x")
            self.assertTrue(g.cancel())
            e = g.exception(10)
            self.assertIsInstance(e, zcopy.Cancelled)
            self.assertEqual((e.a_to_b, e.b_to_a), (1, 0))
            self.assertFalse(g.cancelled())

    def test_close_racing_relay_calls(self):
        # close() while other threads are inside engine.relay: each call
        # either hands its pair over (the Future resolves) or raises
        # ValueError; the C engine is never freed under a running add
        for _ in range(5):
            engine = zcopy.Engine(threads=1)
            outcomes = []

            def hammer():
                while True:  # until the engine is seen closed
                    a, b = socket.socketpair()
                    try:
                        outcomes.append((engine.relay(a, b), a, b))
                    except ValueError:
                        outcomes.append(None)
                        a.close()
                        b.close()
                        return

            workers = [Bg(hammer) for _ in range(3)]
            deadline = time.monotonic() + 10
            while len(outcomes) < 100 and time.monotonic() < deadline:
                time.sleep(0.001)
            engine.close()  # while the workers are calling relay
            for w in workers:
                w.result()
            self.assertIn(None, outcomes, "no call saw the engine closed")
            for f, a, b in filter(None, outcomes):
                self.assertIsInstance(f.exception(10), zcopy.Cancelled)
                a.close()
                b.close()


if __name__ == "__main__":
    unittest.main()
