#!/usr/bin/env python3
"""A TCP port forwarder: a plain asyncio server that hands each connection to a zcopy.Engine.

usage: engine_proxy.py LISTEN TARGET [THREADS]      (PORT on 127.0.0.1, or ADDR:PORT)

The same arguments as examples/engine_relay.c, the C program on the
engine: LISTEN port 0 picks a free one (the address is printed on
stderr); THREADS is the engine's thread count (default: one per CPU).

The event loop only accepts and connects: each client gets a non-blocking
connection to TARGET and the pair goes to ``engine.relay``, which moves
both directions on the engine's own epoll threads (splice through pooled
pipes, half-close at each end of stream, errors ending both) without the
GIL and without the loop. Python runs again only when a relay ends: the
Future's callback closes both sockets. SIGINT or SIGTERM stops accepting,
prints the engine's counters and closes it (relays still running end with
zcopy.Cancelled).
"""

import asyncio
import signal
import socket
import sys

import zcopy


def parse(spec):
    """PORT or ADDR:PORT -> (addr, port); ValueError when it is neither."""
    host, _, port = spec.rpartition(":")
    p = int(port)
    if not 0 <= p <= 65535:
        raise ValueError(f"port out of range: {spec}")
    return (host or "127.0.0.1", p)


def nodelay(sock):
    # ping-pong traffic: each message goes out at once, as engine_relay.c does
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def close_pair(client, upstream):
    def done(future):
        # on an engine thread: only close, quickly (the thread serves other relays)
        client.close()
        upstream.close()
    return done


async def connect(loop, target):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        await loop.sock_connect(s, target)
    except BaseException:
        s.close()
        raise
    return s


async def serve(listen, target, engine, ready=None):
    """Forwards connections on ``listen`` to ``target`` on ``engine`` until cancelled.

    ``ready(address)`` is called once the listening socket is bound.
    """
    loop = asyncio.get_running_loop()
    ln = socket.create_server(listen, backlog=1024)
    ln.setblocking(False)
    try:
        if ready is not None:
            ready(ln.getsockname())
        while True:
            client, _ = await loop.sock_accept(ln)
            try:
                upstream = await connect(loop, target)
            except OSError as e:
                print(f"engine_proxy: cannot reach {target[0]}:{target[1]}: {e}", file=sys.stderr)
                client.close()
                continue
            nodelay(client)
            nodelay(upstream)
            try:
                future = engine.relay(client, upstream)
            except OSError as e:
                print(f"engine_proxy: engine.relay: {e}", file=sys.stderr)
                client.close()
                upstream.close()
                continue
            future.add_done_callback(close_pair(client, upstream))
    finally:
        ln.close()


def main(argv):
    if len(argv) not in (3, 4):
        print(f"usage: {argv[0]} LISTEN TARGET [THREADS]  (PORT or ADDR:PORT)", file=sys.stderr)
        return 2
    try:
        listen, target = parse(argv[1]), parse(argv[2])
        threads = int(argv[3]) if len(argv) == 4 else None
        engine = zcopy.Engine(threads)
    except ValueError as e:
        print(f"engine_proxy: {e}", file=sys.stderr)
        return 2

    def ready(addr):
        shown = "one per CPU" if threads is None else threads
        print(f"engine_proxy: listening on {addr[0]}:{addr[1]}, forwarding to {target[0]}:{target[1]} "
              f"(zcopy {zcopy.__version__}, threads: {shown})", file=sys.stderr, flush=True)

    async def run():
        task = asyncio.ensure_future(serve(listen, target, engine, ready))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(run())
    except OSError as e:
        print(f"engine_proxy: cannot listen on {listen[0]}:{listen[1]}: {e}", file=sys.stderr)
        return 1
    finally:
        s = engine.stats()
        print(f"engine_proxy: stopping: {s.active} active, {s.finished} finished, {s.bytes} bytes, "
              f"{s.pipes_in_use} pipes in use", file=sys.stderr, flush=True)
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
