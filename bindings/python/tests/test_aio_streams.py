"""zcopy.aio: idle timeouts, close_both, and relaying asyncio (StreamReader, StreamWriter) pairs."""

import asyncio
import resource
import socket
import time
import unittest

import zcopy
import zcopy.aio as aio
from _util import data
from test_aio import TIMEOUT, nb_tcp_pair, recv_all, send_all_close

try:
    import uvloop
except ImportError:  # reported as a skip with the reason
    uvloop = None


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def upstream_server(payload_for):
    """A server that reads the request to EOF, then answers payload_for(request) and closes."""

    async def serve(reader, writer):
        request = await reader.read()
        writer.write(payload_for(request))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


class StreamsMixin:
    def run_loop(self, coro):
        raise NotImplementedError

    def go(self, coro):
        return self.run_loop(asyncio.wait_for(coro, TIMEOUT))

    def test_splice_idle_timeout(self):
        async def main():
            src_w, src_r = nb_tcp_pair()
            dst_w, dst_r = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                await loop.sock_sendall(src_w, b"x" * 1000)  # moves, then nothing more
                t0, c0 = time.monotonic(), cpu()
                with self.assertRaises(TimeoutError) as cm:
                    await aio.splice(src=src_r, dst=dst_w, timeout=0.3)
                return time.monotonic() - t0, cpu() - c0, cm.exception
            finally:
                for s in (src_w, src_r, dst_w, dst_r):
                    s.close()

        took, used, e = self.go(main())
        self.assertIsInstance(e, zcopy.Error)
        self.assertEqual(e.written, 1000)
        self.assertGreaterEqual(took, 0.3)
        self.assertLess(took, 2.0)
        self.assertLess(used, 0.1, "the wait cost CPU")

    def test_relay_trickle_never_trips_the_idle_timeout(self):
        async def main():
            client, pa = nb_tcp_pair()
            pb, server = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                relay = asyncio.ensure_future(aio.relay(pa, pb, timeout=0.4))
                for i in range(8):  # 1.6 s in all, a byte every 0.2 s, alternating ways
                    await asyncio.sleep(0.2)
                    await loop.sock_sendall(client if i % 2 else server, b"t")
                client.shutdown(socket.SHUT_WR)
                server.shutdown(socket.SHUT_WR)
                counts = await relay
                # nobody sends: a relay times out
                c2, qa = nb_tcp_pair()
                qb, s2 = nb_tcp_pair()
                try:
                    with self.assertRaises(TimeoutError) as cm:
                        await aio.relay(qa, qb, timeout=0.3)
                finally:
                    for s in (c2, qa, qb, s2):
                        s.close()
                return counts, cm.exception
            finally:
                for s in (client, pa, pb, server):
                    s.close()

        counts, e = self.go(main())
        self.assertEqual(counts, (4, 4))
        self.assertEqual((e.a_to_b, e.b_to_a), (0, 0))

    def test_close_both_ends_at_the_first_eof(self):
        async def main():
            client, pa = nb_tcp_pair()
            pb, server = nb_tcp_pair()
            loop = asyncio.get_running_loop()
            try:
                relay = asyncio.ensure_future(aio.relay(pa, pb, close_both=True))
                await send_all_close(client, b"bye")
                counts = await relay
                got = await recv_all(server)
                back = await recv_all(client)  # the relay shut down a's write side too
                return counts, got, back
            finally:
                for s in (client, pa, pb, server):
                    s.close()

        self.assertEqual(self.go(main()), ((3, 0), b"bye", b""))

    def test_stream_proxy_with_a_header_line(self):
        """The way a Python proxy is written: start_server, readline(), open_connection, relay."""
        body = data(3 << 20, seed=61)
        answer = data(2 << 20, seed=62)

        async def main():
            upstream, port = await upstream_server(lambda req: answer if req == body else b"bad")
            results = []

            async def proxy(reader, writer):
                header = await reader.readline()  # the reader now holds bytes read ahead
                results.append(header)
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                up_writer.write(b"")  # nothing pending is fine too
                results.append(await aio.relay((reader, writer), (up_reader, up_writer)))

            proxy_server = await asyncio.start_server(proxy, "127.0.0.1", 0)
            pport = proxy_server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", pport)
            writer.write(b"CONNECT upstream\n" + body)  # header and body in one write
            await writer.drain()
            writer.write_eof()
            got = await reader.read()
            writer.close()
            for _ in range(200):
                if len(results) == 2:
                    break
                await asyncio.sleep(0.01)
            proxy_server.close()
            upstream.close()
            return got, results

        got, results = self.go(main())
        self.assertTrue(got == answer, "the answer differs")
        self.assertEqual(results[0], b"CONNECT upstream\n")
        self.assertEqual(results[1], (len(body), len(answer)))

    def test_stream_writer_pending_bytes_go_first(self):
        async def main():
            upstream, port = await upstream_server(lambda req: b"echo:" + req)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            client, pa = nb_tcp_pair()
            try:
                up_writer.write(b"written before the relay|")  # still in the transport's buffer
                relay = asyncio.ensure_future(aio.relay(pa, (up_reader, up_writer)))
                await send_all_close(client, b"spliced")
                got = await recv_all(client)
                counts = await relay
                return got, counts, up_writer.is_closing()
            finally:
                client.close()
                pa.close()
                upstream.close()

        got, counts, closed = self.go(main())
        self.assertEqual(got, b"echo:written before the relay|spliced")
        self.assertEqual(counts, (7, len(got)))
        self.assertTrue(closed, "the stream's writer was not closed after the relay")


    def test_aiorelay_example_with_a_target_line(self):
        import importlib.util
        from _util import TESTS_DIR
        spec = importlib.util.spec_from_file_location("aiorelay", TESTS_DIR.parent / "examples" / "aiorelay.py")
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)  # guarded by __main__: defines only
        body = data(1 << 20, seed=63)

        async def main():
            upstream, port = await upstream_server(lambda req: req[::-1])
            listening = asyncio.get_running_loop().create_future()
            proxy = asyncio.ensure_future(example.serve(("127.0.0.1", 0), None, 30, listening.set_result))
            server = await listening
            reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
            writer.write(f"127.0.0.1:{port}\n".encode() + body)
            writer.write_eof()
            got = await reader.read()
            writer.close()
            proxy.cancel()
            upstream.close()
            return got

        self.assertTrue(self.go(main()) == body[::-1])


class OnAsyncio(StreamsMixin, unittest.TestCase):
    def run_loop(self, coro):
        return asyncio.run(coro)


@unittest.skipIf(uvloop is None, "uvloop is not installed (python3 -m pip install uvloop)")
class OnUvloop(StreamsMixin, unittest.TestCase):
    def run_loop(self, coro):
        loop = uvloop.new_event_loop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()


if __name__ == "__main__":
    unittest.main()
