"""A two-way TCP proxy on asyncio streams: the peer of zcopy.aio's relay.
Each direction reads up to 256 KiB and writes it, draining the writer;
end of stream half-closes the other side. --uvloop runs it on uvloop
(pip install uvloop).

    python3 aiorelay.py [--uvloop] LISTEN_PORT TARGET_PORT   (127.0.0.1)
"""

import asyncio
import sys

BUF = 256 * 1024


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(BUF)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def serve(target_port, creader, cwriter):
    try:
        ureader, uwriter = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        cwriter.close()
        return
    await asyncio.gather(pump(creader, uwriter), pump(ureader, cwriter))
    for w in (cwriter, uwriter):
        w.close()


async def main(listen_port, target_port):
    srv = await asyncio.start_server(
        lambda r, w: serve(target_port, r, w), "127.0.0.1", listen_port, backlog=128
    )
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--uvloop":
        import uvloop

        uvloop.install()
        args = args[1:]
    asyncio.run(main(int(args[0]), int(args[1])))
