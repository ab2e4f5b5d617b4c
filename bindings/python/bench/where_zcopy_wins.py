#!/usr/bin/env python3
"""Where zcopy wins, and where it does not: interleaved medians against the stdlib peers.

usage (root, for the mounts): where_zcopy_wins.py [--size-mib 256] [--rounds 5] [--out REPORT.md]

1. files: shutil.copyfile / copyfileobj against zcopy's on ext4 (the temp
   directory), on a fresh tmpfs, and on XFS with reflinks: a loop-mounted
   image (``mkfs.xfs -m reflink=1`` on a sparse file, ``mount -o loop``),
   set up here and torn down at the end. The source stays in the page cache.
2. a file to a TCP socket: ``zcopy.aio.sendfile`` against
   ``loop.sock_sendfile`` on asyncio's loop and on uvloop (where
   sock_sendfile raises NotImplementedError, so the peer is what a program
   falls back to: 1 MiB reads and ``loop.sock_sendall``).
3. a relay of one stream through a proxy: zcopy.relay (a thread),
   zcopy.aio.relay, an asyncio streams pump, a pair of Python threads.

Each round runs every contender of a group once, in turn (interleaved), so
load and cache state hit all alike; medians of wall time, ratios against
the stdlib peer of the same run. CPU is this process's user + system time,
the helper threads (the socket reader and writer) included. A benchmark,
not a test.
"""

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import zcopy
import zcopy.aio

try:
    import uvloop
except ImportError:
    uvloop = None

COPYFILE, COPYFILEOBJ = shutil.copyfile, shutil.copyfileobj  # the stdlib's, whatever is swapped later


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def make_source(path, size):
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(chunk)
    with open(path, "rb") as f:  # into the page cache
        while f.read(1 << 24):
            pass


class Mounts:
    """The filesystems to copy on: (name, directory); mounts torn down by close()."""

    def __init__(self, size):
        self.base = tempfile.mkdtemp(prefix="zcopy-wins-")
        self.undo = []
        self.fs = [("ext4 (temp dir)", self._dir("ext4"))]
        notes = []
        try:
            d = self._dir("tmpfs")
            sh("mount", "-t", "tmpfs", "-o", f"size={3 * size + (64 << 20)}", "tmpfs", d)
            self.undo.append(["umount", d])
            self.fs.append(("tmpfs", d))
        except (OSError, subprocess.CalledProcessError) as e:
            notes.append(f"tmpfs: not mounted ({e})")
        try:
            if not shutil.which("mkfs.xfs"):
                sh("apt-get", "install", "-y", "-qq", "xfsprogs")
            img = os.path.join(self.base, "xfs.img")
            with open(img, "wb") as f:
                f.truncate(max(3 * size + (512 << 20), 1 << 30))
            sh("mkfs.xfs", "-q", "-m", "reflink=1", img)
            d = self._dir("xfs")
            sh("mount", "-o", "loop", img, d)
            self.undo.append(["umount", d])
            self.fs.append(("XFS reflink=1 (loop)", d))
        except (OSError, subprocess.CalledProcessError) as e:
            notes.append(f"XFS: no loop-mounted image ({getattr(e, 'stderr', b'') or e})")
        self.notes = notes

    def _dir(self, name):
        d = os.path.join(self.base, name)
        os.mkdir(d)
        return d

    def close(self):
        for cmd in reversed(self.undo):
            subprocess.run(cmd, capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def interleave(contenders, rounds, check=None):
    """{name: (median wall s, median CPU s of this process)}: each round runs every contender once, in turn."""
    wall = {name: [] for name, _ in contenders}
    cpu = {name: [] for name, _ in contenders}
    for _ in range(rounds):
        for name, run in contenders:
            t0, c0 = time.perf_counter(), time.process_time()
            out = run()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            if check:
                check(name, out)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in wall}


def file_group(d, size, rounds):
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    make_source(src, size)

    def by_path(fn):
        def run():
            fn(src, dst)
            return os.path.getsize(dst)
        return run

    def by_obj(fn):
        def run():
            with open(src, "rb") as fsrc, open(dst, "wb") as fdst:
                fn(fsrc, fdst)
            return os.path.getsize(dst)
        return run

    def check(name, n):
        if n != size:
            sys.exit(f"{name}: {n} bytes, not {size}")
        os.unlink(dst)

    res = interleave([("shutil.copyfile", by_path(COPYFILE)), ("zcopy.copyfile", by_path(zcopy.copyfile)),
                      ("shutil.copyfileobj", by_obj(COPYFILEOBJ)), ("zcopy.copyfileobj", by_obj(zcopy.copyfileobj))],
                     rounds, check)
    os.unlink(src)
    return res


def drain(sock, box):
    n = 0
    buf = memoryview(bytearray(1 << 20))
    while True:
        k = sock.recv_into(buf)
        if not k:
            break
        n += k
    box.append(n)


def tcp_pair():
    ln = socket.create_server(("127.0.0.1", 0))
    a = socket.create_connection(ln.getsockname())
    b, _ = ln.accept()
    ln.close()
    return a, b


def sendfile_group(path, size, rounds):
    def run_on(new_loop, use_zcopy):
        def run():
            a, b = tcp_pair()
            box = []
            t = threading.Thread(target=drain, args=(b, box), daemon=True)
            t.start()
            a.setblocking(False)

            async def main():
                loop = asyncio.get_running_loop()
                with open(path, "rb") as f:
                    if use_zcopy:
                        return await zcopy.aio.sendfile(a, f)
                    try:
                        return await loop.sock_sendfile(a, f)
                    except NotImplementedError:  # uvloop: no sock_sendfile at all
                        n = 0
                        while chunk := f.read(1 << 20):
                            await loop.sock_sendall(a, chunk)
                            n += len(chunk)
                        return n

            loop = new_loop()
            try:
                n = loop.run_until_complete(main())
            finally:
                loop.close()
            a.close()
            t.join()
            b.close()
            return n, box[0]
        return run

    loops = [("asyncio", asyncio.new_event_loop)] + ([("uvloop", uvloop.new_event_loop)] if uvloop else [])
    contenders = []
    for lname, new in loops:
        # uvloop's sock_sendfile raises NotImplementedError: its peer is the fallback
        peer = "loop.sock_sendfile" if lname == "asyncio" else "1 MiB reads + loop.sock_sendall"
        contenders.append((f"{lname}: {peer}", run_on(new, False)))
        contenders.append((f"{lname}: zcopy.aio.sendfile", run_on(new, True)))

    def check(name, out):
        if out != (size, size):
            sys.exit(f"{name}: {out}, not {size}")

    return interleave(contenders, rounds, check)


def relay_group(path, size, rounds):
    def pump_threads(a, b):
        def one(s, d):
            buf = memoryview(bytearray(1 << 16))
            while True:
                k = s.recv_into(buf)
                if not k:
                    d.shutdown(socket.SHUT_WR)
                    return
                d.sendall(buf[:k])
        ts = [threading.Thread(target=one, args=(a, b), daemon=True),
              threading.Thread(target=one, args=(b, a), daemon=True)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    def aio_streams(a, b):
        async def main():
            ra, wa = await asyncio.open_connection(sock=a)
            rb, wb = await asyncio.open_connection(sock=b)

            async def one(r, w):
                while True:
                    chunk = await r.read(1 << 16)
                    if not chunk:
                        w.write_eof()
                        return
                    w.write(chunk)
                    await w.drain()
            await asyncio.gather(one(ra, wb), one(rb, wa))
            wa.close()
            wb.close()
        asyncio.run(main())

    def aio_relay(a, b):
        a.setblocking(False)
        b.setblocking(False)
        asyncio.run(zcopy.aio.relay(a, b))

    def through(proxy):
        def run():
            client, pa = tcp_pair()
            pb, server = tcp_pair()
            box = []
            def sink_then_close():
                drain(server, box)
                server.shutdown(socket.SHUT_WR)  # ends the other direction: the proxy can finish
            sink = threading.Thread(target=sink_then_close, daemon=True)
            sink.start()

            def source():
                with open(path, "rb") as f:
                    client.sendfile(f)
                client.shutdown(socket.SHUT_WR)
            src = threading.Thread(target=source, daemon=True)
            src.start()
            proxy(pa, pb)
            src.join()
            sink.join()
            server.close()
            client.close()
            pa.close()
            pb.close()
            return box[0]
        return run

    def check(name, n):
        if n != size:
            sys.exit(f"{name}: {n}, not {size}")

    return interleave([("python threads (recv_into/sendall)", through(pump_threads)),
                       ("asyncio streams (read/write)", through(aio_streams)),
                       ("zcopy.relay (one thread)", through(lambda a, b: zcopy.relay(a, b))),
                       ("zcopy.aio.relay", through(aio_relay))], rounds, check)


def table(title, res, peer, size):
    lines = [f"### {title}", "", "| contender | median wall s | MB/s | CPU s | wall vs peer | CPU vs peer |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, (w, c) in res.items():
        pw, pc = res[peer(name)]
        lines.append(f"| {name} | {w:.4f} | {size / w / 1e6:.0f} | {c:.4f} | {w / pw:.3g}x | {c / pc:.3g}x |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=None, help="also write the tables (markdown) to this file")
    args = ap.parse_args()
    size = args.size_mib << 20
    out = [f"{args.size_mib} MiB per copy, {args.rounds} interleaved rounds, medians; zcopy "
           f"{zcopy.__version__}, Python {sys.version.split()[0]}, uvloop "
           f"{getattr(uvloop, '__version__', 'absent')}, kernel {os.uname().release}, {os.cpu_count()} CPUs", ""]
    mounts = Mounts(size)
    try:
        out += [f"- {n}" for n in mounts.notes]
        for name, d in mounts.fs:
            res = file_group(d, size, args.rounds)
            out.append(table(f"files on {name}", res, lambda n: n.replace("zcopy.", "shutil."), size))
            print(out[-1], flush=True)
        src = os.path.join(mounts.fs[0][1], "net-src")
        make_source(src, size)
        res = sendfile_group(src, size, args.rounds)
        out.append(table("a file to a TCP socket (loopback)", res,
                         lambda n: next(k for k in res if k.startswith(n.split(":")[0]) and "zcopy" not in k),
                         size))
        print(out[-1], flush=True)
        res = relay_group(src, size, args.rounds)
        out.append(table("one stream through a proxy (loopback, both ways relayed)", res,
                         lambda n: "python threads (recv_into/sendall)", size))
        print(out[-1], flush=True)
    finally:
        mounts.close()
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(out))


if __name__ == "__main__":
    main()
