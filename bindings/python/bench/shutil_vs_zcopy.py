#!/usr/bin/env python3
"""zcopy.copyfile / zcopy.copyfileobj against shutil's, on one large file.

usage: shutil_vs_zcopy.py [--size-mib 512] [--rounds 5] [--dir DIR]

Writes a SIZE MiB file of random bytes in DIR (default: the system temp
directory), then runs ROUNDS rounds; each round runs all four copies in
turn, so that the machine's load and the page cache's state hit every
contender alike (interleaved, not one after another). Each copy goes to a
fresh destination file that is deleted afterwards, and every copy is
checked against the source's size. Reports the median wall time and the
median CPU time (user + system of this process) per contender, and the
ratios zcopy / shutil. The source stays in the page cache throughout: this
measures the copy, not the disk.

A benchmark, not a test: run it by hand on a quiet machine.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

import zcopy


def make_source(path, size):
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(chunk)


def by_copyfile(fn):
    def run(src, dst):
        fn(src, dst)
    return run


def by_copyfileobj(fn):
    def run(src, dst):
        with open(src, "rb") as fsrc, open(dst, "wb") as fdst:
            fn(fsrc, fdst)
    return run


CONTENDERS = [
    ("shutil.copyfile", by_copyfile(shutil.copyfile)),
    ("zcopy.copyfile", by_copyfile(zcopy.copyfile)),
    ("shutil.copyfileobj", by_copyfileobj(shutil.copyfileobj)),
    ("zcopy.copyfileobj", by_copyfileobj(zcopy.copyfileobj)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    size = args.size_mib << 20
    work = tempfile.mkdtemp(prefix="zcopy-bench-", dir=args.dir)
    try:
        src = os.path.join(work, "src")
        make_source(src, size)
        with open(src, "rb") as f:  # warm the page cache
            while f.read(1 << 24):
                pass
        wall = {name: [] for name, _ in CONTENDERS}
        cpu = {name: [] for name, _ in CONTENDERS}
        for r in range(args.rounds):
            for name, run in CONTENDERS:
                dst = os.path.join(work, "dst")
                t0, c0 = time.perf_counter(), time.process_time()
                run(src, dst)
                t1, c1 = time.perf_counter(), time.process_time()
                if os.path.getsize(dst) != size:
                    sys.exit(f"{name}: copied {os.path.getsize(dst)} bytes, not {size}")
                os.unlink(dst)
                wall[name].append(t1 - t0)
                cpu[name].append(c1 - c0)
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.size_mib} MiB, {args.rounds} interleaved rounds, medians "
          f"(zcopy {zcopy.__version__}, {zcopy.library_path})")
    print(f"{'contender':<20} {'wall s':>8} {'MB/s':>8} {'CPU s':>8}")
    med = {}
    for name, _ in CONTENDERS:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        med[name] = (w, c)
        print(f"{name:<20} {w:8.3f} {size / w / 1e6:8.0f} {c:8.3f}")
    for call in ("copyfile", "copyfileobj"):
        (zw, zc), (sw, sc) = med[f"zcopy.{call}"], med[f"shutil.{call}"]
        print(f"zcopy.{call} / shutil.{call}: wall {zw / sw:.2f}x, CPU {zc / sc:.2f}x")


if __name__ == "__main__":
    main()
