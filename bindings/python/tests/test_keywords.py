"""Calls that cannot be guessed wrong: src=/dst= by keyword, plain messages, public types, one timeout rule.

Issue 22: ``zcopy.copy(src, dst)`` on two files opened ``r+b`` overwrote
the source (the fd-level calls took Go's (dst, src)); a relay's timeout
shut the sockets down in zcopy.aio and not in zcopy; errors said
"(none, 0 bytes moved)" and showed a private class.
"""

import asyncio
import inspect
import io
import os
import socket
import unittest

import zcopy
import zcopy.aio as aio
from _util import close_all, read_all, tcp_pair, temp_file

FD_LEVEL = {
    "copy": zcopy.copy,
    "splice": zcopy.splice,
    "sendfile": zcopy.sendfile,
    "copy_file_range": zcopy.copy_file_range,
}


class KeywordOnlyEnds(unittest.TestCase):
    def two_files(self):
        a, pa = temp_file(self, b"SOURCE" * 100, mode="r+b", buffering=0)
        b, pb = temp_file(self, b"old-destination", mode="r+b", buffering=0)
        return a, pa, b, pb

    def test_positional_call_raises_and_moves_nothing(self):
        for name, fn in FD_LEVEL.items():
            with self.subTest(call=name):
                a, pa, b, pb = self.two_files()
                with self.assertRaises(TypeError) as cm:
                    fn(a, b)  # the call that once overwrote a with b's bytes
                msg = str(cm.exception)
                self.assertIn(f"zcopy.{name}(src=..., dst=...)", msg)
                with open(pa, "rb") as f:
                    self.assertEqual(f.read(), b"SOURCE" * 100)
                with open(pb, "rb") as f:
                    self.assertEqual(f.read(), b"old-destination")
                # one positional end is refused as well
                with self.assertRaises(TypeError):
                    fn(a, dst=b)

    def test_path_arguments_point_to_the_shutil_calls(self):
        with self.assertRaises(TypeError) as cm:
            zcopy.copy("a.txt", "b.txt")
        self.assertIn("zcopy.copy2(src, dst)", str(cm.exception))

    def test_keyword_call_copies_src_to_dst(self):
        for name, fn in FD_LEVEL.items():
            with self.subTest(call=name):
                a, pa, b, pb = self.two_files()
                self.assertEqual(fn(src=a, dst=b), 600)
                with open(pb, "rb") as f:
                    self.assertEqual(f.read(), b"SOURCE" * 100)

    def test_signatures_are_keyword_only(self):
        for name, fn in list(FD_LEVEL.items()) + [("aio.splice", aio.splice)]:
            with self.subTest(call=name):
                params = inspect.signature(fn).parameters
                self.assertEqual(params["src"].kind, inspect.Parameter.KEYWORD_ONLY)
                self.assertEqual(params["dst"].kind, inspect.Parameter.KEYWORD_ONLY)
                self.assertEqual(list(params)[:2], ["src", "dst"])
        self.assertTrue(inspect.iscoroutinefunction(aio.splice))

    def test_aio_splice_positional_raises(self):
        a, b = socket.socketpair()
        close_all(self, a, b)

        async def main():
            with self.assertRaises(TypeError) as cm:
                await aio.splice(a, b)
            self.assertIn("zcopy.aio.splice(src=..., dst=...)", str(cm.exception))

        asyncio.run(main())

    def test_shutil_like_calls_keep_src_dst(self):
        a, pa, b, pb = self.two_files()
        a.close()
        b.close()
        self.assertEqual(zcopy.copyfile(pa, pb), pb)
        with open(pb, "rb") as f:
            self.assertEqual(f.read(), b"SOURCE" * 100)


class Messages(unittest.TestCase):
    def test_no_placeholder_method_in_messages(self):
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with self.assertRaises(OSError) as cm:
            zcopy.copy(src=r, dst=w)
        text = str(cm.exception)
        self.assertNotIn("none", text)
        self.assertIn("before any transfer began", text)

    def test_refusal_is_a_plain_type_error(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        with self.assertRaises(TypeError) as cm:
            zcopy.copy(src=io.BytesIO(b"x"), dst=w)
        self.assertIs(type(cm.exception), TypeError)
        self.assertEqual(type(cm.exception).__module__, "builtins")

    def test_error_classes_are_public(self):
        r, w = os.pipe()
        os.close(r)  # EPIPE on the first write
        self.addCleanup(os.close, w)
        src, _ = temp_file(self, b"x" * 1000, mode="rb", buffering=0)
        with self.assertRaises(BrokenPipeError) as cm:
            zcopy.copy(src=src, dst=w)
        for cls in type(cm.exception).__mro__:
            self.assertFalse(cls.__module__.startswith("zcopy."), cls)
            self.assertFalse(cls.__name__.startswith("_"), cls)


def peer_sees_nothing(sock):
    """True when sock's peer neither sent bytes nor shut down: a recv would block."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    return False


class RelayTimeoutLeavesSocketsOpen(unittest.TestCase):
    """zcopy.relay and zcopy.aio.relay do the same on a timeout: the sockets stay open."""

    def test_sync_relay(self):
        client, pa = tcp_pair()
        pb, server = tcp_pair()
        close_all(self, client, pa, pb, server)
        with self.assertRaises(TimeoutError):
            zcopy.relay(pa, pb, timeout=0.2)
        self.assertTrue(peer_sees_nothing(client))
        self.assertTrue(peer_sees_nothing(server))
        pa.sendall(b"still open")
        client.setblocking(True)
        self.assertEqual(client.recv(100), b"still open")

    def test_aio_relay(self):
        client, pa = tcp_pair()
        pb, server = tcp_pair()
        close_all(self, client, pa, pb, server)
        for s in (pa, pb):
            s.setblocking(False)

        async def main():
            with self.assertRaises(TimeoutError):
                await aio.relay(pa, pb, timeout=0.2)

        asyncio.run(main())
        self.assertTrue(peer_sees_nothing(client))
        self.assertTrue(peer_sees_nothing(server))
        pa.setblocking(True)
        pa.sendall(b"still open")
        client.setblocking(True)
        self.assertEqual(client.recv(100), b"still open")

    def test_aio_relay_hard_error_still_shuts_down(self):
        client, pa = tcp_pair()
        pb, server = tcp_pair()
        close_all(self, client, pa, pb)
        for s in (pa, pb):
            s.setblocking(False)
        # server resets: b's direction fails hard, and the client is told
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        server.close()

        async def main():
            client.sendall(b"x" * 1000)
            with self.assertRaises(OSError):
                await asyncio.wait_for(aio.relay(pa, pb), 10)

        asyncio.run(main())
        client.settimeout(10)
        self.assertEqual(read_all(client), b"")


if __name__ == "__main__":
    unittest.main()
