#!/usr/bin/env python3
"""iperf3 through each relay in turn, rounds interleaved (A B C A B C ...):
median Gbit/s and the relay's CPU seconds per GB (its whole process tree).

    relaybench.py [-P STREAMS] [-t SECONDS] [-r ROUNDS] NAME=COMMAND...

COMMAND gets {listen}, {listen_port}, {target}, {target_port}. "no relay"
(iperf3 straight to its server) is measured in each round too. Needs
iperf3 (apt-get install iperf3; installed when missing and run as root).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def iperf3(port, seconds, streams):
    # A run can fail at the start ("the server is busy" while iperf3's
    # server still ends the previous test): tried again, at most twice.
    for attempt in range(3):
        out = subprocess.run(
            ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-P", str(streams), "-J"],
            capture_output=True, text=True, timeout=seconds + 60,
        ).stdout
        try:
            end = json.loads(out)["end"]["sum_received"]
            return end["bits_per_second"] / 1e9, end["bytes"]
        except (ValueError, KeyError):
            err = json.loads(out).get("error", out[-300:]) if out.startswith("{") else out[-300:]
            print(f"iperf3 failed ({err!r}), attempt {attempt + 1} of 3", file=sys.stderr)
            time.sleep(1)
    raise SystemExit("iperf3 failed three times")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-P", type=int, default=1, help="parallel iperf3 streams")
    ap.add_argument("-t", type=int, default=5, help="seconds per measurement")
    ap.add_argument("-r", type=int, default=3, help="rounds")
    ap.add_argument("relays", nargs="+", help="NAME=COMMAND")
    a = ap.parse_args()
    if not shutil.which("iperf3"):
        if os.geteuid() != 0:
            raise SystemExit("relaybench.py: iperf3 is not installed (apt-get install iperf3)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "iperf3"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    relays = [("no relay", None)] + benchlib.parse_specs(a.relays)
    tp = benchlib.free_port()
    server = subprocess.Popen(["iperf3", "-s", "-p", str(tp)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    results = {name: [] for name, _ in relays}
    try:
        benchlib.wait_port(tp, server)
        for rnd in range(a.r):
            for name, cmd in relays:
                if cmd is None:
                    gbps, nbytes = iperf3(tp, a.t, a.P)
                    results[name].append((gbps, None))
                    continue
                proc, lp = benchlib.start(cmd, tp)
                try:
                    before = benchlib.tree_cpu(proc.pid)
                    gbps, nbytes = iperf3(lp, a.t, a.P)
                    cpu = benchlib.tree_cpu(proc.pid) - before
                finally:
                    benchlib.stop(proc)
                results[name].append((gbps, cpu / (nbytes / 1e9)))
                print(f"round {rnd + 1} {name}: {gbps:.2f} Gbit/s, {cpu / (nbytes / 1e9):.3f} CPU s/GB",
                      file=sys.stderr)
    finally:
        benchlib.stop(server)
    print(f"| relay (iperf3 -P {a.P}, {a.t} s, median of {a.r}) | Gbit/s | relay CPU s/GB |")
    print("| --- | --- | --- |")
    for name, _ in relays:
        g = benchlib.median([x[0] for x in results[name]])
        cpus = [x[1] for x in results[name] if x[1] is not None]
        print(f"| {name} | {g:.2f} | {benchlib.median(cpus):.3f} |" if cpus else f"| {name} | {g:.2f} | - |")


if __name__ == "__main__":
    main()
