"""A user's strictly typed program: mypy --strict must accept it as it is (tests/test_typing.py)."""

import asyncio
import shutil
import socket
from typing import Tuple

import zcopy
import zcopy.aio


def serve(conn: socket.socket, path: str) -> int:
    with open(path, "rb") as f:
        return zcopy.sendfile(src=f, dst=conn, offset=0, timeout=5.0)


def backup(src: str, dst: str) -> str:
    out: str = zcopy.copy2(src, dst)
    shutil.copytree(src + ".d", dst + ".d", copy_function=zcopy.copy2)
    return zcopy.copyfile(src, out)


def pipe_through(a: int, b: int) -> Tuple[int, int]:
    n = zcopy.copy(src=a, dst=b, count=10)
    m = zcopy.splice(src=a, dst=b)
    return n, m + zcopy.copy_file_range(src=a, dst=b, src_offset=0)


async def send(writer: asyncio.StreamWriter, path: str) -> int:
    with open(path, "rb") as f:
        sent: int = await zcopy.aio.sendfile(writer, f, offset=0, count=None)
    return sent + await zcopy.aio.splice(src=1, dst=2, count=5)


def relay_both(a: socket.socket, b: socket.socket) -> Tuple[int, int]:
    try:
        return zcopy.relay(a, b, timeout=1.0)
    except zcopy.Error as e:
        return e.written, 0
