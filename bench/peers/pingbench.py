#!/usr/bin/env python3
"""Small messages through each relay in turn, rounds interleaved: N
connections ping-pong SIZE bytes to an epoll echo server through the relay.
Prints median round trips/s and the relay's CPU microseconds per round
trip (its whole process tree).

    pingbench.py [-n CONNS] [-s SIZE] [-t SECONDS] [-r ROUNDS] NAME=COMMAND...

Builds pingpong_client.c and pingpong_server.c (next to this file) with gcc.
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=32, help="connections")
    ap.add_argument("-s", type=int, default=64, help="message size, bytes")
    ap.add_argument("-t", type=float, default=4, help="seconds per measurement")
    ap.add_argument("-r", type=int, default=3, help="rounds")
    ap.add_argument("relays", nargs="+", help="NAME=COMMAND")
    a = ap.parse_args()
    relays = benchlib.parse_specs(a.relays)
    with tempfile.TemporaryDirectory(prefix="zcopy-ping-") as d:
        bins = {}
        for part in ("client", "server"):
            bins[part] = os.path.join(d, part)
            subprocess.run(["gcc", "-O2", "-o", bins[part], os.path.join(HERE, f"pingpong_{part}.c")],
                           check=True, timeout=120)
        tp = benchlib.free_port()
        server = subprocess.Popen([bins["server"], str(tp)], start_new_session=True)
        results = {name: [] for name, _ in relays}
        try:
            benchlib.wait_port(tp, server)
            for rnd in range(a.r):
                for name, cmd in relays:
                    proc, lp = benchlib.start(cmd, tp)
                    try:
                        before = benchlib.tree_cpu(proc.pid)
                        out = subprocess.run([bins["client"], str(lp), str(a.n), str(a.s), str(a.t)],
                                             capture_output=True, text=True, check=True,
                                             timeout=a.t + 60).stdout.split()
                        cpu = benchlib.tree_cpu(proc.pid) - before
                    finally:
                        benchlib.stop(proc)
                    rate, trips = float(out[0]), int(out[1])
                    us = cpu * 1e6 / trips if trips else float("nan")
                    results[name].append((rate, us))
                    print(f"round {rnd + 1} {name}: {rate:.0f} rt/s, {us:.2f} CPU us/rt", file=sys.stderr)
        finally:
            benchlib.stop(server)
    print(f"| relay ({a.n} connections, {a.s} B, {a.t} s, median of {a.r}) | round trips/s | relay CPU us/rt |")
    print("| --- | --- | --- |")
    for name, _ in relays:
        r = benchlib.median([x[0] for x in results[name]])
        u = benchlib.median([x[1] for x in results[name]])
        print(f"| {name} | {r:.0f} | {u:.2f} |")


if __name__ == "__main__":
    main()
