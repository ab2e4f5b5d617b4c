#!/usr/bin/env python3
"""An asyncio TCP proxy on asyncio streams and zcopy.aio.relay.

usage: aiorelay.py [--uvloop] [--idle SECONDS] LISTEN TARGET   e.g. aiorelay.py 127.0.0.1:9000 127.0.0.1:5201
       aiorelay.py [--uvloop] [--idle SECONDS] LISTEN -        the client's first line names the target: HOST:PORT

Written the way a Python proxy is: asyncio.start_server, a first line read
with readline() when the target comes from the client, the upstream opened
with asyncio.open_connection, then zcopy.aio.relay on the two stream pairs,
which takes the sockets over from their transports and splices both
directions (half-closing each at end of stream) without the bytes ever
entering Python. Bytes the client sent after its first line are forwarded
first. One thread, one loop; --idle closes connections idle that long.
"""

import asyncio
import sys

import zcopy.aio


def parse(addr):
    host, _, port = addr.rpartition(":")
    return (host or "127.0.0.1", int(port))


async def handle(reader, writer, target, idle):
    try:
        if target is None:
            target = parse((await reader.readline()).decode().strip())
        upstream = await asyncio.open_connection(*target)
    except (OSError, ValueError) as e:
        print(f"aiorelay: cannot reach {target}: {e}", file=sys.stderr)
        writer.close()
        return
    try:
        await zcopy.aio.relay((reader, writer), upstream, timeout=idle)
    except (ConnectionError, TimeoutError):
        pass  # a peer reset or went away, or the connection idled out: a normal end
    except OSError as e:
        print(f"aiorelay: {e}", file=sys.stderr)
    finally:
        writer.close()
        upstream[1].close()


async def serve(listen, target, idle=None, ready=None):
    """Serves until cancelled; ``ready(server)`` is called once it listens."""
    server = await asyncio.start_server(lambda r, w: handle(r, w, target, idle), *listen)
    if ready is not None:
        ready(server)
    async with server:
        await server.serve_forever()


def main(argv):
    args = argv[1:]
    use_uvloop = "--uvloop" in args
    args = [a for a in args if a != "--uvloop"]
    idle = None
    if "--idle" in args:
        i = args.index("--idle")
        idle = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    if use_uvloop:
        import uvloop
        uvloop.install()
    target = None if args[1] == "-" else parse(args[1])
    try:
        asyncio.run(serve(parse(args[0]), target, idle))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
