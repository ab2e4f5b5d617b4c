"""zcopy.aio on asyncio (and on uvloop when it is installed)."""

import asyncio
import errno
import socket
import unittest

import zcopy
import zcopy.aio as aio
from _util import data

try:
    import uvloop
except ImportError:  # reported as a skip with the reason
    uvloop = None

TIMEOUT = 60


def nb_tcp_pair(rcvbuf=None, sndbuf=None):
    """(a, b) connected over TCP, non-blocking; b's receive and a's send buffers optionally tiny."""
    ln = socket.socket()
    if rcvbuf:
        ln.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # inherited by b
    ln.bind(("127.0.0.1", 0))
    ln.listen(1)
    a = socket.socket()
    if sndbuf:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    a.settimeout(10)
    ln.settimeout(10)
    a.connect(ln.getsockname())
    b, _ = ln.accept()
    ln.close()
    for s in (a, b):
        s.setblocking(False)
    return a, b


async def send_all_close(sock, payload, chunk=1 << 16):
    loop = asyncio.get_running_loop()
    view = memoryview(payload)
    for i in range(0, len(payload), chunk):
        await loop.sock_sendall(sock, view[i:i + chunk])
    sock.shutdown(socket.SHUT_WR)


async def recv_all(sock, chunk=1 << 20, slow=False):
    loop = asyncio.get_running_loop()
    out = bytearray()
    reads = 0
    while True:
        b = await loop.sock_recv(sock, chunk)
        if not b:
            return bytes(out)
        out += b
        reads += 1
        if slow and reads % 8 == 0:
            await asyncio.sleep(0.001)


class Spy:
    """Records every splicer step: (error, pending after, wants after)."""

    def __init__(self, testcase):
        self.log = []
        orig = aio.Splicer.step
        spy = self

        def step(self, dst_fd, src_fd, remain=zcopy.ALL):
            r = orig(self, dst_fd, src_fd, remain)
            spy.log.append((r.error, self.pending, self.wants, r.written))
            return r

        aio.Splicer.step = step
        testcase.addCleanup(setattr, aio.Splicer, "step", orig)


class PumpSpy:
    """Records every Pump made, to check its registrations after the fact."""

    def __init__(self, testcase):
        self.pumps = []
        orig = aio.Pump
        spy = self

        class Recording(orig):
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                spy.pumps.append(self)

        aio.Pump = Recording
        testcase.addCleanup(setattr, aio, "Pump", orig)

    def all_stopped(self):
        return bool(self.pumps) and all(
            not p.reading and not p.writing and p.handle is None and p.splicer._ptr is None
            for p in self.pumps)


def no_registration(removed):
    """remove_reader/remove_writer results: asyncio says False when nothing was
    registered; uvloop returns None either way (then PumpSpy is the check)."""
    return all(r is False or r is None for r in removed)


class AioMixin:
    def run_loop(self, coro):
        raise NotImplementedError

    def go(self, coro):
        return self.run_loop(asyncio.wait_for(coro, TIMEOUT))

    def test_slow_reader_every_byte(self):
        """Tiny buffers and a slow reader: EAGAIN with bytes pending happens, nothing is lost."""
        spy = Spy(self)
        payload = data(4 << 20, seed=41)

        async def main():
            src_w, src_r = nb_tcp_pair()
            dst_w, dst_r = nb_tcp_pair(rcvbuf=4096, sndbuf=4096)
            try:
                w = asyncio.ensure_future(send_all_close(src_w, payload))
                r = asyncio.ensure_future(recv_all(dst_r, chunk=4096, slow=True))
                n = await aio.splice(src=src_r, dst=dst_w)
                dst_w.shutdown(socket.SHUT_WR)
                await w
                return n, await r
            finally:
                for s in (src_w, src_r, dst_w, dst_r):
                    s.close()

        n, got = self.go(main())
        self.assertEqual(n, len(payload))
        self.assertTrue(got == payload, "bytes differ")
        held = [e for e in spy.log if e[0] == errno.EAGAIN and e[1] > 0 and e[2] == aio.WANT_WRITE]
        self.assertTrue(held, f"no EAGAIN with bytes pending in {len(spy.log)} steps")
        self.assertTrue(any(e[0] == errno.EAGAIN and e[2] == aio.WANT_READ for e in spy.log))

    def test_count_limit_leaves_the_rest(self):
        async def main():
            src_w, src_r = nb_tcp_pair()
            dst_w, dst_r = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                await loop.sock_sendall(src_w, b"0123456789")
                n = await aio.splice(src=src_r, dst=dst_w, count=6)
                got = b""
                while len(got) < 6:
                    got += await loop.sock_recv(dst_r, 100)
                rest = await loop.sock_recv(src_r, 100)
                zero = await aio.splice(src=src_r, dst=dst_w, count=0)
                return n, got, rest, zero
            finally:
                for s in (src_w, src_r, dst_w, dst_r):
                    s.close()

        self.assertEqual(self.go(main()), (6, b"012345", b"6789", 0))

    def test_relay_both_ways_with_half_close(self):
        up = data(6 << 20, seed=42)
        down = data(5 << 20, seed=43)

        async def main():
            client, pa = nb_tcp_pair()
            pb, server = nb_tcp_pair(rcvbuf=8192)
            try:
                relay = asyncio.ensure_future(aio.relay(pa, pb))
                cw = asyncio.ensure_future(send_all_close(client, up))
                cr = asyncio.ensure_future(recv_all(client))
                # the server reads everything (slowly) first, then answers, then closes
                got_up = await recv_all(server, chunk=8192, slow=True)
                await send_all_close(server, down)
                got_down = await cr
                await cw
                counts = await relay
                return counts, got_up, got_down
            finally:
                for s in (client, pa, pb, server):
                    s.close()

        counts, got_up, got_down = self.go(main())
        self.assertEqual(counts, (len(up), len(down)))
        self.assertTrue(got_up == up, "upstream bytes differ")
        self.assertTrue(got_down == down, "downstream bytes differ")

    def test_cancel_while_waiting_to_read(self):
        before = zcopy.pool_stats()

        async def main():
            src_w, src_r = nb_tcp_pair()
            dst_w, dst_r = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                t = asyncio.ensure_future(aio.splice(src=src_r, dst=dst_w))
                await asyncio.sleep(0.05)
                mid = zcopy.pool_stats()
                t.cancel()
                try:
                    await t
                    cancelled = False
                except asyncio.CancelledError:
                    cancelled = True
                # nothing left registered on either fd
                return (cancelled, mid, loop.remove_reader(src_r.fileno()),
                        loop.remove_writer(dst_w.fileno()))
            finally:
                for s in (src_w, src_r, dst_w, dst_r):
                    s.close()

        spy = PumpSpy(self)
        cancelled, mid, had_reader, had_writer = self.go(main())
        self.assertTrue(cancelled)
        self.assertEqual(mid.in_use, before.in_use + 1)  # the splicer held a pipe
        self.assertTrue(no_registration([had_reader, had_writer]))
        self.assertTrue(spy.all_stopped())
        self.assertEqual(zcopy.pool_stats().in_use, before.in_use)  # freed

    def test_cancel_with_bytes_pending(self):
        before = zcopy.pool_stats()

        async def main():
            src_w, src_r = nb_tcp_pair()
            dst_w, dst_r = nb_tcp_pair(rcvbuf=4096, sndbuf=4096)  # nobody reads dst_r
            loop = asyncio.get_running_loop()
            try:
                w = asyncio.ensure_future(send_all_close(src_w, data(2 << 20)))
                t = asyncio.ensure_future(aio.splice(src=src_r, dst=dst_w))
                await asyncio.sleep(0.2)
                t.cancel()
                try:
                    await t
                    cancelled = False
                except asyncio.CancelledError:
                    cancelled = True
                w.cancel()
                try:
                    await w
                except asyncio.CancelledError:
                    pass
                return cancelled, loop.remove_writer(dst_w.fileno()), loop.remove_reader(src_r.fileno())
            finally:
                for s in (src_w, src_r, dst_w, dst_r):
                    s.close()

        spy = PumpSpy(self)
        cancelled, had_writer, had_reader = self.go(main())
        self.assertTrue(cancelled)
        self.assertTrue(no_registration([had_reader, had_writer]))
        self.assertTrue(spy.all_stopped())
        after = zcopy.pool_stats()
        self.assertEqual(after.in_use, before.in_use)
        self.assertEqual(after.discarded, before.discarded + 1)  # closed with its bytes

    def test_broken_pipe_reports_written_and_pending(self):
        async def main():
            src_w, src_r = nb_tcp_pair()
            a, b = socket.socketpair()
            for s in (a, b):
                s.setblocking(False)
            loop = asyncio.get_running_loop()
            try:
                await loop.sock_sendall(src_w, b"x" * 100000)
                b.close()
                try:
                    await aio.splice(src=src_r, dst=a)
                    return None
                except BrokenPipeError as e:
                    return e
            finally:
                for s in (src_w, src_r, a, b):
                    s.close()

        e = self.go(main())
        self.assertIsNotNone(e)
        self.assertIsInstance(e, zcopy.Error)
        self.assertEqual(e.written, 0)
        self.assertGreater(e.pending, 0)
        self.assertEqual(e.method, "splice")

    def test_relay_cancel_frees_both_directions(self):
        before = zcopy.pool_stats()

        async def main():
            client, pa = nb_tcp_pair()
            pb, server = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                t = asyncio.ensure_future(aio.relay(pa, pb))
                await loop.sock_sendall(client, b"ping")
                got = await loop.sock_recv(server, 10)
                mid = zcopy.pool_stats()
                t.cancel()
                try:
                    await t
                    cancelled = False
                except asyncio.CancelledError:
                    cancelled = True
                left = [loop.remove_reader(pa.fileno()), loop.remove_reader(pb.fileno()),
                        loop.remove_writer(pa.fileno()), loop.remove_writer(pb.fileno())]
                return got, mid, cancelled, left
            finally:
                for s in (client, pa, pb, server):
                    s.close()

        spy = PumpSpy(self)
        got, mid, cancelled, left = self.go(main())
        self.assertEqual(got, b"ping")
        self.assertEqual(mid.in_use, before.in_use + 2)
        self.assertTrue(cancelled)
        self.assertTrue(no_registration(left))
        self.assertEqual(len(spy.pumps), 2)
        self.assertTrue(spy.all_stopped())
        self.assertEqual(zcopy.pool_stats().in_use, before.in_use)

    def test_relay_reset_raises_and_stops_the_other_way(self):
        import struct

        async def main():
            client, pa = nb_tcp_pair()
            pb, server = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                t = asyncio.ensure_future(aio.relay(pa, pb))
                await loop.sock_sendall(server, b"hello")
                got = await loop.sock_recv(client, 10)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # RST towards the relay
                try:
                    await t
                    return got, None, b"?"
                except OSError as e:
                    # the server side was shut down: it sees EOF
                    return got, e, await loop.sock_recv(server, 10)
            finally:
                for s in (client, pa, pb, server):
                    s.close()

        got, e, server_sees = self.go(main())
        self.assertEqual(got, b"hello")
        self.assertIsInstance(e, zcopy.Error)
        self.assertIsInstance(e, (ConnectionResetError, BrokenPipeError))
        self.assertEqual(server_sees, b"")

    def test_blocking_socket_refused(self):
        async def main():
            a, b = socket.socketpair()
            try:
                with self.assertRaises(ValueError):
                    await aio.splice(src=b, dst=a)
            finally:
                a.close()
                b.close()

        self.go(main())


class OnAsyncio(AioMixin, unittest.TestCase):
    def run_loop(self, coro):
        return asyncio.run(coro)


@unittest.skipIf(uvloop is None, "uvloop is not installed (python3 -m pip install uvloop)")
class OnUvloop(AioMixin, unittest.TestCase):
    def run_loop(self, coro):
        loop = uvloop.new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()


if __name__ == "__main__":
    unittest.main()
