#!/usr/bin/env python3
"""An asyncio TCP proxy on zcopy.aio: zero-copy splicing driven by the event loop.

usage: aiorelay.py [--uvloop] LISTEN TARGET   e.g. aiorelay.py 127.0.0.1:9000 127.0.0.1:5201

Each accepted connection is connected to TARGET and handed to
zcopy.aio.relay, which splices both directions (half-closing each at end
of stream) without the bytes ever entering Python. One thread, one loop.
"""

import asyncio
import socket
import sys

import zcopy.aio


def parse(addr):
    host, _, port = addr.rpartition(":")
    return (host or "127.0.0.1", int(port))


async def handle(client, target):
    loop = asyncio.get_running_loop()
    upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    upstream.setblocking(False)
    try:
        await loop.sock_connect(upstream, target)
        await zcopy.aio.relay(client, upstream)
    except OSError as e:
        print(f"aiorelay: {e}", file=sys.stderr)
    finally:
        client.close()
        upstream.close()


async def serve(listen, target):
    loop = asyncio.get_running_loop()
    ln = socket.create_server(listen)
    ln.setblocking(False)
    tasks = set()
    while True:
        client, _ = await loop.sock_accept(ln)
        client.setblocking(False)
        t = asyncio.ensure_future(handle(client, target))
        tasks.add(t)
        t.add_done_callback(tasks.discard)


def main(argv):
    args = [a for a in argv[1:] if a != "--uvloop"]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    if "--uvloop" in argv:
        import uvloop
        uvloop.install()
    try:
        asyncio.run(serve(parse(args[0]), parse(args[1])))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
